//! Property/fuzz test of the hub's HTTP input (issue 11): the provider's webhook, the
//! Bitrix24 events door, and the JSON bodies, query strings and path segments of every
//! `/api/v1` route, generated from valid inputs and mutated (see `fuzz_gen`). For every input:
//! never a 5xx, never a panic or a hang, nothing stored from a 4xx, no body past the limit
//! accepted. Bounded and seeded: the same cases every run (`FUZZ_SEED` picks others). The long
//! run is `cargo bench -p switchboard-hub --bench fuzz` (`FUZZ_CASES`, `FUZZ_SEED`).

use crate::fuzz_gen;

use fuzz_gen::{run, uncovered_routes, Config, Report};

const SEED: u64 = 0x5eed_0011;

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED)
}

fn check(name: &str, report: &Report) {
    eprintln!("fuzz {name} (seed {}):\n{}", seed(), report.summary());
    assert_eq!(
        report.failures(),
        0,
        "fuzz {name}: {} failing inputs:\n{}",
        report.failures(),
        report.summary()
    );
}

#[test]
fn every_route_has_a_generator() {
    let (missing, extra) = uncovered_routes();
    assert!(
        missing.is_empty(),
        "routes without a fuzz generator: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "generators for routes the API does not describe: {extra:?}"
    );
}

#[test]
fn provider_webhook_bodies() {
    let mut cfg = Config::new(seed(), 3000);
    cfg.only = vec!["/webhooks/provider/"];
    cfg.reset_every = 400;
    let report = run(&cfg);
    check("provider webhook", &report);
    // The generators reach the storing code, not only the parser.
    let statuses = &report.statuses["POST /webhooks/provider/{secret}"];
    assert!(
        statuses.get(&200).copied().unwrap_or(0) > 400,
        "{statuses:?}"
    );
    assert!(
        statuses.get(&400).copied().unwrap_or(0) > 400,
        "{statuses:?}"
    );
}

#[test]
fn bitrix24_event_bodies() {
    let mut cfg = Config::new(seed() ^ 1, 3000);
    cfg.only = vec!["/webhooks/bitrix24/"];
    cfg.reset_every = 400;
    let report = run(&cfg);
    check("Bitrix24 events", &report);
    let statuses = &report.statuses["POST /webhooks/bitrix24/{secret}"];
    assert!(
        statuses.get(&200).copied().unwrap_or(0) > 250,
        "{statuses:?}"
    );
}

#[test]
fn api_routes_bodies_queries_and_paths() {
    let mut cfg = Config::new(seed() ^ 2, 6000);
    cfg.except = vec!["/webhooks/"];
    cfg.reset_every = 400;
    let report = run(&cfg);
    check("API routes", &report);
    // Every route saw cases, and all but those that cannot succeed here saw a 2xx.
    let never_2xx = [
        // Nothing listens on the Bitrix24 address the generators use.
        "PUT /api/v1/crm/connection",
        "POST /api/v1/crm/connection/check",
    ];
    let (documented, _) = uncovered_routes();
    assert!(documented.is_empty());
    for (route, statuses) in &report.statuses {
        let ok: u64 = statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum();
        if route != "other" && !never_2xx.contains(&route.as_str()) {
            assert!(ok > 0, "{route}: no case succeeded: {statuses:?}");
        }
    }
}

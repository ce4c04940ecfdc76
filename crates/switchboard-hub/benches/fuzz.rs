//! The long fuzz run of the hub's HTTP input: the generators and checks of `tests/hub/fuzz.rs`
//! (`tests/hub/fuzz_gen/mod.rs`), for as many cases as asked, on one worker per core (each with its
//! own workspaces and its own stream of cases).
//!
//! Run: `cargo bench -p switchboard-hub --bench fuzz` with `FUZZ_CASES` (default 1 000 000),
//! `FUZZ_SEED` (default 1), `FUZZ_THREADS` (default: the cores), `FUZZ_OUT` (a directory for
//! each finding's full input; default `target/fuzz-findings`). Prints cases/s, the statuses seen
//! per route and every finding with its input; exits 1 when there is one.

#[path = "../tests/hub/fuzz_gen/mod.rs"]
mod fuzz_gen;

use fuzz_gen::{Config, Report};
use std::time::Instant;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let cases: u64 = env("FUZZ_CASES", 1_000_000);
    let seed: u64 = env("FUZZ_SEED", 1);
    let threads: u64 = env(
        "FUZZ_THREADS",
        std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
    )
    .max(1);
    let out = std::env::var("FUZZ_OUT").map_or_else(
        |_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-findings"),
        std::path::PathBuf::from,
    );
    eprintln!(
        "fuzz: {cases} cases, seed {seed}, {threads} workers; findings written to {}",
        out.display()
    );
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let mut cfg = Config::new(
                seed.wrapping_mul(1_000_003).wrapping_add(t),
                cases / threads + u64::from(t < cases % threads),
            );
            cfg.out_dir = Some(out.clone());
            cfg.progress_every = 20_000;
            cfg.label = format!("worker {t}");
            std::thread::Builder::new()
                .name(format!("fuzz-{t}"))
                .spawn(move || fuzz_gen::run(&cfg))
                .expect("worker")
        })
        .collect();
    let mut report = Report::default();
    for w in workers {
        report.merge(w.join().expect("a worker panicked outside a case"));
    }
    report.elapsed = start.elapsed();
    println!("{}", report.summary());
    if report.failures() > 0 {
        std::process::exit(1);
    }
}

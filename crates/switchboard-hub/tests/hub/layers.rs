//! The hub's layers point one way. Each source file belongs to a module, each module to a
//! layer; a reference to `crate::<module>` from a lower layer to a higher one fails here, and
//! so does any cycle between modules (same layer included). Read from the source itself, so a
//! new module must be placed in [`LAYERS`] before it builds green.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Lowest first. A module may use its own layer and those below.
const LAYERS: &[(&str, &[&str])] = &[
    // Records and SQL: the only place that knows the schema.
    ("storage", &["db", "store"]),
    // The running hub: one writer, the readers, the event ring, the workers' doorbells and
    // their one loop; the clock (storage is given the time of what it stores).
    ("runtime", &["hub", "clock", "worker"]),
    // Outside services behind ports: the messenger provider, Bitrix24, the CRM port.
    ("adapters", &["provider", "bitrix", "crm"]),
    // Loops over durable queues: sending, mirroring to the CRM, the Bitrix24 index.
    ("workers", &["outbox", "mirror", "crm_sync"]),
    // HTTP: routes, the serve loop, reading webhooks, the one error type of the edge.
    ("edge", &["error", "webhook", "api", "serve"]),
    // Putting it together: starting a hub, the demo workspace, the binary.
    ("app", &["lib", "main", "demo"]),
];

/// Upward references that are known and not yet removed, each with why. The test fails when
/// one of them is gone too (delete it here), so this list only shrinks.
const KNOWN_UPWARD: &[(&str, &str, &str)] = &[];

/// Items of the crate root that are re-exports of a module's (`crate::Hub` is `hub`'s).
fn root_item(name: &str) -> Option<&'static str> {
    match name {
        "Hub" | "HubEvent" | "EVENT_RING" => Some("hub"),
        // The wire crate and its encoder: outside the hub's layers.
        "json" | "encode_component" => None,
        _ => Some("lib"),
    }
}

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, mods)| mods.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS"))
}

/// The module a source file belongs to: `store/links.rs` → `store`, `api.rs` → `api`.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

/// Every `crate::x` a file names outside comments.
fn references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
        // `use crate::{a, b::{c, d}}`: the first name of each top-level item.
        if let Some(at) = code.find("crate::{") {
            let mut depth = 0;
            let mut item_start = true;
            let mut name = String::new();
            for c in code[at + "crate::{".len()..].chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if item_start && !name.is_empty() => {
                        out.insert(std::mem::take(&mut name));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src");
            let text = std::fs::read_to_string(&path).expect("read source");
            out.push((module_of(rel), text));
        }
    }
}

/// module → the modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in files {
        let uses = graph.entry(module.clone()).or_default();
        for name in references(&text) {
            let target = if LAYERS.iter().any(|(_, m)| m.contains(&name.as_str())) {
                Some(name)
            } else {
                root_item(&name).map(str::to_owned)
            };
            if let Some(t) = target.filter(|t| *t != module) {
                uses.insert(t);
            }
        }
    }
    graph
}

#[test]
fn no_module_uses_a_higher_layer() {
    let graph = graph();
    let mut upward = BTreeSet::new();
    for (from, uses) in &graph {
        for to in uses {
            if layer_of(to) > layer_of(from) {
                upward.insert((from.clone(), to.clone()));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_UPWARD
        .iter()
        .map(|(a, b, _)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = upward.difference(&known).collect();
    assert!(
        new.is_empty(),
        "lower layers use higher ones: {new:?} (layers: {:?})",
        LAYERS.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let gone: Vec<_> = known.difference(&upward).collect();
    assert!(gone.is_empty(), "fixed, delete from KNOWN_UPWARD: {gone:?}");
}

#[test]
fn modules_form_no_cycle() {
    let graph = graph();
    // Depth-first search; a module met again on the current path closes a cycle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!("cycle: {} → {m}", path[at..].join(" → "));
        }
        path.push(m.to_owned());
        for next in graph.get(m).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(m.to_owned());
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

/// Storage is given the time of what it stores: it never reads a clock itself.
#[test]
fn storage_reads_no_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    for (module, text) in files {
        if layer_of(&module) == 0 {
            for clock in ["Utc::now", "SystemTime::now", "Instant::now", "Local::now"] {
                assert!(
                    !text.contains(clock),
                    "`{module}` reads the clock ({clock})"
                );
            }
        }
    }
}

/// SQL is written in the storage layer only (tests of other modules may set up rows).
#[test]
fn only_storage_runs_sql() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    for (module, text) in files {
        if layer_of(&module) == 0 {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for call in [
            ".execute(",
            ".query_row(",
            ".prepare(",
            "execute_batch(",
            "prepare_cached(",
        ] {
            assert!(
                !code.contains(call),
                "`{module}` runs SQL ({call}): move it to store"
            );
        }
    }
}

#[test]
fn the_checker_sees_references_in_use_lists_and_paths() {
    let found = references(
        "use crate::{store::{self, Db}, hub};\nlet x = crate::outbox::due(); // crate::api\n",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["hub", "outbox", "store"]
    );
}

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
    // Loops over durable queues: sending, mirroring to the CRM, the Bitrix24 index, clients' files.
    ("workers", &["outbox", "mirror", "crm_sync", "media"]),
    // What callers may do and what it does: each operation over one transaction, the time
    // passed in, refusals as `Refusal` (no HTTP here).
    ("workspace", &["workspace"]),
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

/// A file's module path: `store/links.rs` → [store, links], `store/mod.rs` → [store],
/// `lib.rs` / `main.rs` → [].
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .map(|p| p.trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod") || parts == ["lib"] || parts == ["main"] {
        parts.pop();
    }
    parts
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

/// The file's code with comments and the contents of string and char literals blanked out
/// (so neither `"http://x"` nor `// crate::api` counts).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            'r' if matches!(c.get(i + 1), Some('"') | Some('#'))
                && !c[..i]
                    .last()
                    .is_some_and(|p| p.is_alphanumeric() || *p == '_') =>
            {
                // A raw string: r"…", r#"…"#, …
                let mut j = i + 1;
                let mut hashes = 0;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) != Some(&'"') {
                    out.push(c[i]);
                    i += 1;
                    continue;
                }
                j += 1;
                while j < c.len() {
                    if c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            }
            '"' => {
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A char literal ('x', '\n', '\''); a lifetime ('a) is left as it is.
            '\'' if c.get(i + 2) == Some(&'\'') || c.get(i + 1) == Some(&'\\') => {
                i += if c.get(i + 1) == Some(&'\\') { 3 } else { 2 };
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

/// The top-level modules a file names: `crate::x`, `crate::{x, y::z}` (over any number of
/// lines), and `super::…` paths resolved from where the file sits (`store/links.rs` is
/// `crate::store::links`, so `super::super::api` is `api`).
fn references(text: &str, module_path: &[String]) -> BTreeSet<String> {
    let code = code_only(text);
    let tokens = tokenize(&code);
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i < tokens.len() {
        let start_of_path = i == 0 || tokens[i - 1] != "::";
        let at_root = match tokens[i].as_str() {
            "crate" if start_of_path => Some(0),
            "super" if start_of_path => {
                let mut up = 0;
                let mut j = i;
                while tokens.get(j).is_some_and(|t| t == "super")
                    && tokens.get(j + 1).is_some_and(|t| t == "::")
                {
                    up += 1;
                    j += 2;
                }
                // `super` in a file's own `mod tests` is the file itself: only paths that
                // climb to the crate root name another top-level module.
                (up > 0 && up >= module_path.len()).then(|| j - i - 2)
            }
            _ => None,
        };
        let Some(skip) = at_root else {
            i += 1;
            continue;
        };
        // Through `super` only modules count: in an inline `mod tests` of a top-level file,
        // `super::x` is that file's own item.
        let via_super = tokens[i] == "super";
        let mut j = i + skip + 1;
        if tokens.get(j).map(String::as_str) != Some("::") {
            i += 1;
            continue;
        }
        j += 1;
        match tokens.get(j).map(String::as_str) {
            Some("{") => {
                let mut depth = 0;
                let mut item_start = true;
                while let Some(t) = tokens.get(j) {
                    match t.as_str() {
                        "{" => depth += 1,
                        "}" => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        "," if depth == 1 => item_start = true,
                        t if item_start && depth == 1 && is_ident(t) => {
                            if !via_super || is_module(t) {
                                out.insert(t.to_owned());
                            }
                            item_start = false;
                        }
                        _ => item_start = false,
                    }
                    j += 1;
                }
            }
            Some(t) if is_ident(t) && (!via_super || is_module(t)) => {
                out.insert(t.to_owned());
            }
            _ => {}
        }
        i = j + 1;
    }
    out.remove("self");
    out
}

fn is_module(name: &str) -> bool {
    LAYERS.iter().any(|(_, mods)| mods.contains(&name))
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && t.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Identifiers, `::` and single punctuation; whitespace dropped.
fn tokenize(code: &str) -> Vec<String> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_alphanumeric() || c[i] == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            out.push("::".to_owned());
            i += 2;
        } else if c[i].is_whitespace() {
            i += 1;
        } else {
            out.push(c[i].to_string());
            i += 1;
        }
    }
    out
}

/// Every source file: (its top-level module, its module path, its text).
fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, Vec<String>, String)>) {
    for entry in std::fs::read_dir(dir).expect("src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src");
            let text = std::fs::read_to_string(&path).expect("read source");
            out.push((module_of(rel), module_path(rel), text));
        }
    }
}

/// module → the modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path, text) in files {
        let uses = graph.entry(module.clone()).or_default();
        for name in references(&text, &path) {
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
    for (module, _, text) in files {
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

/// SQL is written in the storage layer only (tests of other modules may set up rows); the
/// runtime only begins and commits the transactions storage runs in.
#[test]
fn only_storage_runs_sql() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    for (module, _, text) in files {
        if layer_of(&module) == 0 {
            continue;
        }
        // A module's own tests may set up rows; they come last in every file.
        let code = code_only(text.split("#[cfg(test)]").next().unwrap_or_default());
        for call in [
            ".execute(",
            ".query_row(",
            ".query_row_and_then(",
            ".query_one(",
            ".prepare(",
            "execute_batch(",
            "prepare_cached(",
            "pragma_update(",
        ] {
            assert!(
                !code.contains(call),
                "`{module}` runs SQL ({call}): move it to store"
            );
        }
    }
}

/// Names of the storage backend's crate outside storage and the runtime that are known and not
/// yet removed, each with why. The test fails when one is gone too, so this list only shrinks.
const KNOWN_BACKEND_NAMES: &[(&str, &str)] = &[
    // Store functions still answer `rusqlite::Result`; these turn it into their own errors.
    ("error", "From<rusqlite::Error> for ApiError"),
    ("workspace", "From<rusqlite::Error> for WorkspaceError"),
];

/// Above the runtime, code names `store::Tx`, never `rusqlite` itself: the PostgreSQL backend
/// will change what stands behind the storage layer, not the workspace, workers or the edge.
#[test]
fn only_storage_and_the_runtime_name_the_backend() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let mut found = BTreeSet::new();
    for (module, _, text) in files {
        if layer_of(&module) <= 1 {
            continue;
        }
        let code = code_only(text.split("#[cfg(test)]").next().unwrap_or_default());
        if code.contains("rusqlite") {
            found.insert(module);
        }
    }
    let known: BTreeSet<String> = KNOWN_BACKEND_NAMES
        .iter()
        .map(|(m, _)| m.to_string())
        .collect();
    assert_eq!(
        found, known,
        "modules above the runtime that name rusqlite (use store::Tx; or remove a fixed entry \
         from KNOWN_BACKEND_NAMES)"
    );
}

#[test]
fn the_checker_sees_references_in_use_lists_and_paths() {
    let found = |text: &str, path: &[&str]| {
        let path: Vec<String> = path.iter().map(|p| p.to_string()).collect();
        references(text, &path).into_iter().collect::<Vec<_>>()
    };
    assert_eq!(
        found(
            "use crate::{store::{self, Db}, hub};\nlet x = crate::outbox::due(); // crate::api\n",
            &["mirror"]
        ),
        ["hub", "outbox", "store"]
    );
    // Over several lines, as rustfmt wraps a long list.
    assert_eq!(
        found(
            "use crate::{\n    api::EdgeHub, crm_sync::WorkspaceCrm,\n    error::ApiError,\n};",
            &["store", "settings"]
        ),
        ["api", "crm_sync", "error"]
    );
    // Climbing with super: from store/links.rs two steps reach the crate root.
    assert_eq!(
        found("use super::super::api::EdgeHub;", &["store", "links"]),
        ["api"]
    );
    assert_eq!(
        found("use super::bitrix_index::bitrix;", &["store", "links"]),
        Vec::<String>::new()
    );
    assert_eq!(found("use super::api;", &["store"]), ["api"]);
    // Strings and comments are not code.
    assert_eq!(
        found(
            "let u = \"http://x\"; let e = crate::error::ApiError::x(); /* crate::serve */ let s = r#\"crate::demo\"#;",
            &["store"]
        ),
        ["error"]
    );
}

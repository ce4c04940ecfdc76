//! A bench's headline figure, printed, and written into `docs/perf.md` when `PERF_MD=1`
//! (the row whose last cell names `--bench <name>` is replaced, or one is added), so the
//! figures page is what the benches last measured, not a copy typed by hand.

#![allow(dead_code, reason = "each bench uses what it needs")]

pub fn record(bench: &str, what: &str, figure: &str) {
    let package = env!("CARGO_PKG_NAME");
    record_as(
        &format!("cargo bench -p {package} --bench {bench}"),
        what,
        figure,
    );
}

/// [`record`] for a figure made by `command` (its row is the one naming that command).
pub fn record_as(command: &str, what: &str, figure: &str) {
    println!("perf.md ← {what}: {figure}");
    if std::env::var_os("PERF_MD").is_none() {
        return;
    }
    // The workspace's docs/perf.md, above the bench's package (any member may include this).
    let Some(path) = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("docs/perf.md"))
        .find(|p| p.is_file())
    else {
        eprintln!("perf.md: not found above {}", env!("CARGO_MANIFEST_DIR"));
        return;
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("perf.md: cannot read {}", path.display());
        return;
    };
    let day = chrono::Utc::now().format("%Y-%m-%d");
    let row = format!("| {what} | {figure} | `{command}` ({day}) |");
    let key = format!("`{command}`");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    match lines
        .iter()
        .position(|l| l.starts_with('|') && l.contains(&key))
    {
        Some(i) => lines[i] = row,
        None => {
            // After the table's header and its separator.
            let at = lines
                .iter()
                .position(|l| l.starts_with("|---"))
                .map_or(lines.len(), |i| i + 1);
            lines.insert(at, row);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    if let Err(e) = std::fs::write(&path, out) {
        eprintln!("perf.md: cannot write {}: {e}", path.display());
    }
}

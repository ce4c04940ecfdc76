//! Every row of `shared/spec/phone-vectors.tsv`, for both settings, is a case.

use std::path::PathBuf;
use switchboard_core::read_crm_phone;

/// `shared/` sits beside the repository (CI copies it there); `SWITCHBOARD_SHARED` overrides.
fn vectors_path() -> PathBuf {
    match std::env::var_os("SWITCHBOARD_SHARED") {
        Some(dir) => PathBuf::from(dir).join("spec/phone-vectors.tsv"),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/phone-vectors.tsv")
        }
    }
}

#[test]
fn every_vector_row_reads_as_specified() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the phone vectors at {}: {e}", path.display()));
    let mut failures = Vec::new();
    let mut rows = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let [raw, setting, expected] = cols[..] else {
            panic!("malformed vector row {line:?}");
        };
        let on = match setting {
            "on" => true,
            "off" => false,
            other => panic!("unknown setting {other:?} in row {line:?}"),
        };
        let got = match read_crm_phone(raw, on) {
            Ok(n) => n.to_string(),
            Err(e) => {
                assert_eq!(e.raw, raw, "the error must carry the raw value");
                format!("error:{}", e.kind.as_str())
            }
        };
        rows += 1;
        if got != expected {
            failures.push(format!(
                "{raw:?} (setting {setting}): expected {expected}, got {got}"
            ));
        }
    }
    assert!(rows >= 50, "only {rows} vector rows read");
    assert!(
        failures.is_empty(),
        "{} rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! Published Bitrix24 client libraries, used as they are, against the fake: `bitrix24-rest`
//! (GET, PHP-bracket query strings, `.json` suffix) and `fast_bitrix24` (POST JSON, no suffix,
//! `batch` for lists of calls, paging with `get_all`). They are installed with pip into a
//! virtual environment under the target directory (the machine has CPython 3.11 with pip).

use bitrix24_fake::FakeConfig;
use std::path::PathBuf;
use std::process::Command;

const PACKAGES: [&str; 2] = ["bitrix24-rest==2.0.3", "fast-bitrix24==1.8.14"];

fn venv() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bitrix24-clients");
    let python = dir.join("bin/python");
    if !python.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .expect("python3 -m venv (CPython with venv is part of this machine)");
        assert!(made.success(), "python3 -m venv failed");
    }
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PACKAGES)
        .status()
        .expect("pip");
    assert!(installed.success(), "pip install {PACKAGES:?} failed");
    python
}

#[tokio::test(flavor = "multi_thread")]
async fn published_client_libraries_work_against_the_fake() {
    let python = tokio::task::spawn_blocking(venv).await.expect("venv");
    let fake = bitrix24_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(1, "clientcode"))
        .await
        .expect("fake");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/check.py");
    let webhook = fake.webhook.clone();
    let out =
        tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(webhook).output())
            .await
            .expect("join")
            .expect("run the client script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim() == "ok",
        "the clients failed against the fake:\n{stdout}\n{stderr}"
    );
    assert_eq!(fake.fake.comments().len(), 1);
}

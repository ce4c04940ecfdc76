//! Harness of the end-to-end tests: a real hub process, tauri-driver with the real desktop
//! binary, and a recording notification server on the private D-Bus session bus.
//!
//! Run under `xvfb-run -a dbus-run-session -- …` (see `make e2e`).

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The workspace's `target/debug` directory (where `make` built the binaries).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

pub fn binary(name: &str) -> Result<PathBuf> {
    let path = target_dir().join("debug").join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build the workspace first (make build)",
            path.display()
        );
    }
    Ok(path)
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real hub process on a fresh data directory.
pub struct Hub {
    pub url: String,
    pub admin_token: String,
    pub ingress_secret: String,
    pub http: reqwest::Client,
    _proc: Proc,
    _dir: tempfile::TempDir,
}

impl Hub {
    pub fn start() -> Result<Hub> {
        let dir = tempfile::tempdir()?;
        let admin_token = "e2e-admin-token".to_owned();
        let ingress_secret = "e2e-ingress".to_owned();
        let mut child = Command::new(binary("switchboard-hub")?)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path())
            .env("SWITCHBOARD_ADMIN_TOKEN", &admin_token)
            .env("SWITCHBOARD_INGRESS_SECRET", &ingress_secret)
            .stdout(Stdio::piped())
            .spawn()
            .context("starting switchboard-hub")?;
        let stdout = child.stdout.take().context("hub stdout")?;
        let proc = Proc(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line from the hub: {line:?}"))?
            .to_owned();
        Ok(Hub {
            url,
            admin_token,
            ingress_secret,
            http: reqwest::Client::new(),
            _proc: proc,
            _dir: dir,
        })
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let value: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            bail!("{path} answered {status}: {value}");
        }
        Ok(value)
    }

    /// Posts a provider webhook body; returns the HTTP status.
    pub async fn webhook(&self, body: serde_json::Value) -> Result<u16> {
        let resp = self
            .http
            .post(format!(
                "{}/webhooks/provider/{}",
                self.url, self.ingress_secret
            ))
            .json(&body)
            .send()
            .await?;
        Ok(resp.status().as_u16())
    }
}

/// One `Notify` call the recorder received.
#[derive(Debug, Clone)]
pub struct Notification {
    pub app_name: String,
    pub summary: String,
    pub body: String,
}

/// A notification server that owns `org.freedesktop.Notifications` and records each `Notify`.
pub struct Recorder {
    pub calls: Arc<Mutex<Vec<Notification>>>,
    _conn: zbus::Connection,
}

struct RecorderIface {
    calls: Arc<Mutex<Vec<Notification>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl RecorderIface {
    #[allow(clippy::too_many_arguments, reason = "the D-Bus method's signature")]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.push(Notification {
            app_name,
            summary,
            body,
        });
        calls.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "switchboard-e2e-recorder".into(),
            "switchboard".into(),
            "0.1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

impl Recorder {
    pub async fn start() -> Result<Recorder> {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let conn = zbus::connection::Builder::session()
            .context("no D-Bus session bus: run under dbus-run-session")?
            .name("org.freedesktop.Notifications")?
            .serve_at(
                "/org/freedesktop/Notifications",
                RecorderIface {
                    calls: calls.clone(),
                },
            )?
            .build()
            .await?;
        Ok(Recorder { calls, _conn: conn })
    }

    pub fn calls(&self) -> Vec<Notification> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// tauri-driver on its default ports, launching WebKitWebDriver.
pub struct Driver {
    _proc: Proc,
}

impl Driver {
    pub async fn start() -> Result<Driver> {
        let exe = std::env::var_os("TAURI_DRIVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| "tauri-driver".into());
        let proc = Proc(
            Command::new(&exe)
                .spawn()
                .with_context(|| format!("starting {}", exe.display()))?,
        );
        until(
            "tauri-driver listening on 127.0.0.1:4444",
            Duration::from_secs(20),
            || async {
                Ok(tokio::net::TcpStream::connect("127.0.0.1:4444")
                    .await
                    .is_ok())
            },
        )
        .await?;
        Ok(Driver { _proc: proc })
    }

    /// Launches the desktop app with its own data directory and returns the WebDriver session.
    pub async fn launch(&self, data_dir: &std::path::Path) -> Result<fantoccini::Client> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({
                "application": binary("switchboard")?,
                "args": ["--data-dir", data_dir],
            }),
        );
        caps.insert("browserName".into(), "wry".into());
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps)
        .connect("http://127.0.0.1:4444")
        .await
        .context("creating the WebDriver session")?;
        Ok(client)
    }
}

/// Polls `check` until it is true or `limit` passes; the error names what was awaited.
pub async fn until<F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let start = Instant::now();
    loop {
        if check().await? {
            return Ok(());
        }
        if start.elapsed() > limit {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where artifacts (screenshots) go: `target/e2e/`.
pub fn artifact(name: &str) -> Result<PathBuf> {
    let dir = target_dir().join("e2e");
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join(name))
}

/// The chat list as the window shows it: (title, badge colour, badge count) per row.
pub async fn chat_rows(app: &fantoccini::Client) -> Result<Vec<(String, String, String)>> {
    let rows = app
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=chat-row]')).map(r => \
             [r.querySelector('[data-testid=chat-title]').textContent, r.dataset.badgeColor, r.dataset.badgeCount]);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(rows)?)
}

/// Clicks the first element matching `css` (through the page, as a person's click would land).
pub async fn click(app: &fantoccini::Client, css: &str) -> Result<()> {
    app.wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))?
        .click()
        .await?;
    Ok(())
}

/// Saves a screenshot of the window under `target/e2e/`.
pub async fn screenshot(app: &fantoccini::Client, name: &str) -> Result<PathBuf> {
    let path = artifact(name)?;
    std::fs::write(&path, app.screenshot().await?)?;
    eprintln!("screenshot: {}", path.display());
    Ok(path)
}

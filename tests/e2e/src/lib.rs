//! Harness of the end-to-end tests: a real hub process, tauri-driver with the real desktop
//! binary, and a recording notification server on the private D-Bus session bus.
//!
//! Run under `xvfb-run -a dbus-run-session -- …` (see `make e2e`).

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
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

/// A child process killed when dropped — with its whole process group when it leads one
/// (tauri-driver's WebKitWebDriver must not outlive it and hold its port).
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` (stdout piped) and reads its `listening on <url>` line: the process and the URL.
fn listening(mut cmd: Command, what: &str) -> Result<(Proc, String)> {
    cmd.stdout(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("starting {what}"))?;
    let stdout = child.stdout.take().context("stdout")?;
    let proc = Proc(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line from {what}: {line:?}"))?
        .to_owned();
    Ok((proc, url))
}

/// Where the `switchboard-hub` package keeps the workspace.
pub const INSTALLED_DATA: &str = "/var/lib/switchboard-hub";

/// A real hub process on a fresh data directory.
pub struct Hub {
    pub url: String,
    pub admin_token: String,
    pub ingress_secret: String,
    pub http: reqwest::Client,
    provider: Option<(String, String)>,
    proc: Option<Proc>,
    dir: tempfile::TempDir,
}

impl Hub {
    /// A hub with sandbox channels only.
    pub fn start() -> Result<Hub> {
        Hub::start_with(None)
    }

    /// A hub talking to a provider (`url`, `key`), e.g. the provider fake.
    pub fn start_with(provider: Option<(&str, &str)>) -> Result<Hub> {
        let mut hub = Hub {
            url: String::new(),
            admin_token: "e2e-admin-token".to_owned(),
            ingress_secret: "e2e-ingress".to_owned(),
            http: reqwest::Client::new(),
            provider: provider.map(|(u, k)| (u.to_owned(), k.to_owned())),
            proc: None,
            dir: tempfile::tempdir()?,
        };
        hub.spawn("127.0.0.1:0")?;
        Ok(hub)
    }

    /// The hub the `switchboard-hub` package installed, started as its systemd unit would be
    /// where systemd does not run: as its own user (`setpriv`), on its data directory, with the
    /// tokens it wrote there on its first start (read as root). Talks to `provider` (url, key;
    /// the key in its environment, so nothing is written as root into the hub user's directory).
    pub fn installed(provider: (&str, &str)) -> Result<Hub> {
        let data = std::path::Path::new(INSTALLED_DATA);
        let mut cmd = Command::new("setpriv");
        cmd.env("SWITCHBOARD_PROVIDER_KEY", provider.1);
        cmd.args([
            "--reuid=switchboard-hub",
            "--regid=switchboard-hub",
            "--init-groups",
            "--no-new-privs",
            "/usr/bin/switchboard-hub",
            "serve",
            "--data",
            INSTALLED_DATA,
            "--listen",
            "127.0.0.1:0",
            "--provider-url",
            provider.0,
            "--provider-timeout",
            "3",
        ]);
        let (proc, url) = listening(cmd, "the installed switchboard-hub")?;
        let read = |name: &str| -> Result<String> {
            Ok(std::fs::read_to_string(data.join(name))
                .with_context(|| format!("{INSTALLED_DATA}/{name}"))?
                .trim()
                .to_owned())
        };
        Ok(Hub {
            url,
            admin_token: read("admin-token")?,
            ingress_secret: read("ingress-secret")?,
            http: reqwest::Client::new(),
            provider: Some((provider.0.to_owned(), provider.1.to_owned())),
            proc: Some(proc),
            dir: tempfile::tempdir()?,
        })
    }

    fn spawn(&mut self, listen: &str) -> Result<()> {
        // `SWITCHBOARD_HUB` names another build (the volume bench runs a release hub).
        let hub = match std::env::var_os("SWITCHBOARD_HUB") {
            Some(p) => PathBuf::from(p),
            None => binary("switchboard-hub")?,
        };
        let mut cmd = Command::new(hub);
        cmd.args(["serve", "--listen", listen, "--data"])
            .arg(self.dir.path())
            .env("SWITCHBOARD_ADMIN_TOKEN", &self.admin_token)
            .env("SWITCHBOARD_INGRESS_SECRET", &self.ingress_secret);
        if let Some((url, key)) = &self.provider {
            cmd.args(["--provider-url", url, "--provider-timeout", "3"])
                .env("SWITCHBOARD_PROVIDER_KEY", key);
        }
        let (proc, url) = listening(cmd, "switchboard-hub")?;
        self.proc = Some(proc);
        self.url = url;
        Ok(())
    }

    /// Kills the hub (SIGKILL): desktops lose it.
    pub fn stop(&mut self) {
        self.proc = None;
    }

    /// Starts the hub again on the same address and data directory.
    pub fn restart(&mut self) -> Result<()> {
        let listen = self
            .url
            .strip_prefix("http://")
            .context("hub url")?
            .to_owned();
        self.spawn(&listen)
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

    /// Waits until the hub has read the provider's channels (it reads them at start).
    pub async fn until_channels_read(&self) -> Result<()> {
        until(
            "the hub reads the provider's channels",
            Duration::from_secs(30),
            || async {
                let v = self
                    .admin(
                        reqwest::Method::GET,
                        "/api/v1/channels",
                        serde_json::Value::Null,
                    )
                    .await?;
                Ok(v.as_array().is_some_and(|a| !a.is_empty()))
            },
        )
        .await
    }

    /// A sandbox channel; returns its id.
    pub async fn channel(&self, transport: &str, name: &str) -> Result<String> {
        let v = self
            .admin(
                reqwest::Method::POST,
                "/api/v1/channels",
                serde_json::json!({"transport": transport, "name": name}),
            )
            .await?;
        Ok(v["id"].as_str().context("channel id")?.to_owned())
    }

    /// An employee (`body` as `POST /api/v1/employees` takes it); returns (id, token).
    pub async fn employee(&self, body: serde_json::Value) -> Result<(String, String)> {
        let v = self
            .admin(reqwest::Method::POST, "/api/v1/employees", body)
            .await?;
        Ok((
            v["id"].as_str().context("id")?.to_owned(),
            v["token"].as_str().context("token")?.to_owned(),
        ))
    }

    /// `n` clients ("Клиент i", number 7916iiiiiii) write once each on `channel`, through the
    /// webhook in deliveries of 1 000, their messages spread over November 2026 in order.
    pub async fn seed_clients(&self, channel: &str, n: usize) -> Result<()> {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")?;
        let step = 28 * 86_400 / n.max(1) as i64;
        for batch in 0..n.div_ceil(1000) {
            let messages: Vec<_> = (batch * 1000..((batch + 1) * 1000).min(n))
                .map(|i| {
                    let at = start + chrono::Duration::seconds(i as i64 * step);
                    serde_json::json!({"messageId": format!("seed-{i}"), "channelId": channel,
                        "chatType": "whatsapp", "chatId": format!("7916{i:07}"),
                        "dateTime": at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                        "type": "text", "status": "inbound", "text": format!("Здравствуйте, заказ {i}"),
                        "contact": {"name": format!("Клиент {i}")}})
                })
                .collect();
            let status = self
                .webhook(serde_json::json!({ "messages": messages }))
                .await?;
            anyhow::ensure!(status == 200, "seeding: the webhook answered {status}");
        }
        Ok(())
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

/// The messenger provider's contract fake as its own process (`provider-fake`).
pub struct ProviderFake {
    pub url: String,
    pub key: String,
    pub http: reqwest::Client,
    _proc: Proc,
}

impl ProviderFake {
    /// `channels`: `TRANSPORT:PLAIN_ID:STATE` each.
    pub fn start(channels: &[&str]) -> Result<ProviderFake> {
        let key = "e2e-provider-key".to_owned();
        let mut cmd = Command::new(binary("provider-fake")?);
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            &key,
            "--status-step-ms",
            "300",
        ]);
        for c in channels {
            cmd.args(["--channel", c]);
        }
        let (proc, url) = listening(cmd, "provider-fake")?;
        Ok(ProviderFake {
            url,
            key,
            http: reqwest::Client::new(),
            _proc: proc,
        })
    }

    async fn get(&self, path: &str) -> Result<serde_json::Value> {
        Ok(self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// The id of its first channel.
    pub async fn first_channel(&self) -> Result<String> {
        self.channels()
            .await?
            .into_iter()
            .next()
            .map(|(id, _)| id)
            .context("the fake's channel")
    }

    /// `GET /v3/channels`: (channelId, transport) pairs.
    pub async fn channels(&self) -> Result<Vec<(String, String)>> {
        let v = self.get("/v3/channels").await?;
        Ok(v.as_array()
            .context("channels")?
            .iter()
            .map(|c| {
                (
                    c["channelId"].as_str().unwrap_or_default().to_owned(),
                    c["transport"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Every message the fake accepted.
    pub async fn sent(&self) -> Result<Vec<serde_json::Value>> {
        let v = self.get("/_fake/sent").await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// Every file the fake downloaded from a send's `contentUri`: `{uri, contentType, size}`.
    pub async fn fetched(&self) -> Result<Vec<serde_json::Value>> {
        let v = self.get("/_fake/fetched").await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }
}

/// A workspace on the provider fake: one active WhatsApp channel read by a hub, and a seller
/// who receives new clients ("Selma Seller"). The fake, the hub, the channel's id, her token.
pub async fn provider_workspace() -> Result<(ProviderFake, Hub, String, String)> {
    let fake = ProviderFake::start(&["whatsapp:79990000001:active"])?;
    let channel = fake.first_channel().await?;
    let hub = Hub::start_with(Some((&fake.url, &fake.key)))?;
    hub.until_channels_read().await?;
    let (_, token) = hub
        .employee(serde_json::json!({"name": "Selma Seller", "role": "seller", "receives_new_clients": true}))
        .await?;
    Ok((fake, hub, channel, token))
}

/// The Bitrix24 contract fake as its own process (`bitrix24-fake`), webhook `1/<code>`.
pub struct Bitrix24Fake {
    pub url: String,
    /// The incoming webhook's base: `<url>/rest/1/<code>/`.
    pub webhook: String,
    code: String,
    http: reqwest::Client,
    _proc: Proc,
}

impl Bitrix24Fake {
    pub fn start() -> Result<Bitrix24Fake> {
        let code = "e2ew3bh00kc0de".to_owned();
        let mut cmd = Command::new(binary("bitrix24-fake")?);
        cmd.args(["--listen", "127.0.0.1:0", "--webhook", &format!("1/{code}")]);
        let (proc, url) = listening(cmd, "bitrix24-fake")?;
        Ok(Bitrix24Fake {
            webhook: format!("{url}/rest/1/{code}/"),
            url,
            code,
            http: reqwest::Client::new(),
            _proc: proc,
        })
    }

    /// A REST call as a portal user (or a published client) makes it; the `result`.
    pub async fn call(&self, method: &str, params: serde_json::Value) -> Result<serde_json::Value> {
        let v: serde_json::Value = self
            .http
            .post(format!("{}{method}.json", self.webhook))
            .json(&params)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(v["result"].clone())
    }

    /// Sets up the portal's outgoing webhook: events go to `handler` with `application_token`.
    pub async fn outgoing(&self, handler: &str, application_token: &str) -> Result<()> {
        self.http
            .post(format!("{}/_fake/1/{}/outgoing", self.url, self.code))
            .json(&serde_json::json!({"handler": handler, "application_token": application_token}))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The timeline comments written so far.
    pub async fn comments(&self) -> Result<Vec<serde_json::Value>> {
        let v: serde_json::Value = self
            .http
            .get(format!("{}/_fake/1/{}/comments", self.url, self.code))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }
}

/// One `Notify` call the recorder received.
#[derive(Debug, Clone)]
pub struct Notification {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    /// When the call arrived.
    pub at: Instant,
    /// The process that sent it.
    pub pid: Option<u32>,
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
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> u32 {
        let at = Instant::now();
        let pid = match header.sender() {
            Some(sender) => match zbus::fdo::DBusProxy::new(conn).await {
                Ok(dbus) => dbus
                    .get_connection_unix_process_id(sender.clone().into())
                    .await
                    .ok(),
                Err(_) => None,
            },
            None => None,
        };
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let id = if replaces_id > 0 {
            replaces_id
        } else {
            calls.len() as u32 + 1
        };
        calls.push(Notification {
            id,
            app_name,
            summary,
            body,
            actions,
            at,
            pid,
        });
        id
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

    /// A misshapen `ActionInvoked(id)` (no action), as a broken server or any program on the
    /// bus could send: the app must go on.
    pub async fn click_misshapen(&self, id: u32) -> Result<()> {
        self.action_invoked(&(id,)).await
    }

    /// The user clicks the notification: `ActionInvoked(id, "default")`, as a server sends it.
    pub async fn click(&self, id: u32) -> Result<()> {
        self.action_invoked(&(id, "default")).await
    }

    async fn action_invoked<B>(&self, body: &B) -> Result<()>
    where
        B: zbus::export::serde::Serialize + zbus::zvariant::DynamicType,
    {
        self._conn
            .emit_signal(
                None::<()>,
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications",
                "ActionInvoked",
                body,
            )
            .await?;
        Ok(())
    }
}

/// What docks see of the app's launcher icon: every `com.canonical.Unity.LauncherEntry.Update`
/// signal on the session bus, as (app URI, count, count-visible).
pub struct LauncherRecorder {
    seen: Arc<Mutex<Vec<(String, i64, bool)>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl LauncherRecorder {
    pub async fn start() -> Result<LauncherRecorder> {
        use futures_util::StreamExt;
        let conn = zbus::Connection::session().await?;
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface("com.canonical.Unity.LauncherEntry")?
            .member("Update")?
            .build();
        let mut stream = zbus::MessageStream::for_match_rule(rule, &conn, None).await?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let task = tokio::spawn(async move {
            let _conn = conn;
            while let Some(Ok(msg)) = stream.next().await {
                type Update = (String, HashMap<String, zbus::zvariant::OwnedValue>);
                let Ok((uri, props)) = msg.body().deserialize::<Update>() else {
                    continue;
                };
                let count = props
                    .get("count")
                    .and_then(|v| i64::try_from(v).ok())
                    .unwrap_or(-1);
                let visible = props
                    .get("count-visible")
                    .and_then(|v| bool::try_from(v).ok())
                    .unwrap_or(false);
                into.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((uri, count, visible));
            }
        });
        Ok(LauncherRecorder { seen, _task: task })
    }

    /// The last update seen.
    pub fn last(&self) -> Option<(String, i64, bool)> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .cloned()
    }
}

/// Whether an X window (of any app on the display) has exactly this title.
pub fn window_titled(title: &str) -> Result<bool> {
    let out = Command::new("xdotool")
        .args(["search", "--name", &format!("^{}$", regex_escape(title))])
        .output()
        .context("xdotool")?;
    Ok(out.status.success() && !out.stdout.is_empty())
}

/// The ids of the app's visible top-level windows (titled "Switchboard…").
fn app_windows() -> Result<Vec<String>> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", "^Switchboard"])
        .output()
        .context("xdotool")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

/// Whether the app shows a window on the display.
pub fn app_window_shown() -> Result<bool> {
    Ok(!app_windows()?.is_empty())
}

/// Closes the app's window as its title bar's close button would (`scripts/wm-close.py`: the
/// window manager's WM_DELETE_WINDOW message; there is no window manager under Xvfb). With
/// `expect_iconify`, fails unless the app then asks for the window to be minimized.
pub fn close_app_window(expect_iconify: bool) -> Result<()> {
    let windows = app_windows()?;
    anyhow::ensure!(!windows.is_empty(), "no app window to close");
    let mut cmd = Command::new("python3");
    cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/wm-close.py"));
    if expect_iconify {
        cmd.arg("--expect-iconify");
    }
    let status = cmd.args(&windows).status()?;
    anyhow::ensure!(status.success(), "wm-close.py failed");
    Ok(())
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// A fake `org.kde.StatusNotifierWatcher`: the app's tray icon registers with it, and the test
/// reads the item's properties and clicks its menu through D-Bus, as a panel would.
pub struct TrayWatcher {
    conn: zbus::Connection,
    items: Arc<Mutex<Vec<(String, String)>>>,
}

struct WatcherIface {
    items: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl WatcherIface {
    fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        // The argument is an object path (libayatana) or a bus name (others).
        let (name, path) = if service.starts_with('/') {
            (sender, service)
        } else {
            (service, "/StatusNotifierItem".to_owned())
        };
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name, path));
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(n, p)| format!("{n}{p}"))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// One dbusmenu item: id and label.
#[derive(Debug, Clone)]
pub struct MenuItem {
    pub id: i32,
    pub label: String,
    pub toggle_state: Option<i32>,
}

type Layout = (
    i32,
    HashMap<String, zbus::zvariant::OwnedValue>,
    Vec<zbus::zvariant::OwnedValue>,
);

impl TrayWatcher {
    pub async fn start() -> Result<TrayWatcher> {
        let items = Arc::new(Mutex::new(Vec::new()));
        let conn = zbus::connection::Builder::session()?
            .name("org.kde.StatusNotifierWatcher")?
            .serve_at(
                "/StatusNotifierWatcher",
                WatcherIface {
                    items: items.clone(),
                },
            )?
            .build()
            .await?;
        Ok(TrayWatcher { conn, items })
    }

    /// The registered item (bus name, object path), once the app has registered.
    pub fn item(&self) -> Option<(String, String)> {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .cloned()
    }

    async fn proxy(
        &self,
        iface: &'static str,
        path: Option<String>,
    ) -> Result<zbus::Proxy<'static>> {
        let (name, item_path) = self.item().context("no tray item registered")?;
        Ok(zbus::Proxy::new(&self.conn, name, path.unwrap_or(item_path), iface).await?)
    }

    /// A string property of the StatusNotifierItem (`Status`, `IconName`, `XAyatanaLabel`, …).
    pub async fn property(&self, name: &str) -> Result<String> {
        let p = self.proxy("org.kde.StatusNotifierItem", None).await?;
        Ok(p.get_property::<String>(name).await?)
    }

    async fn menu(&self) -> Result<zbus::Proxy<'static>> {
        let p = self.proxy("org.kde.StatusNotifierItem", None).await?;
        let path: zbus::zvariant::OwnedObjectPath = p.get_property("Menu").await?;
        self.proxy("com.canonical.dbusmenu", Some(path.to_string()))
            .await
    }

    /// The top-level menu items.
    pub async fn menu_items(&self) -> Result<Vec<MenuItem>> {
        let menu = self.menu().await?;
        let (_, (_, _, children)): (u32, Layout) = menu
            .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await?;
        let mut items = Vec::new();
        for child in children {
            let (id, props, _): Layout = child.try_into()?;
            let text = |k: &str| {
                props
                    .get(k)
                    .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
            };
            let toggle = props
                .get("toggle-state")
                .and_then(|v| i32::try_from(v.try_clone().ok()?).ok());
            items.push(MenuItem {
                id,
                label: text("label").unwrap_or_default().replace('_', ""),
                toggle_state: toggle,
            });
        }
        Ok(items)
    }

    /// Clicks the menu item whose label is `label`.
    pub async fn click(&self, label: &str) -> Result<()> {
        let item = self
            .menu_items()
            .await?
            .into_iter()
            .find(|i| i.label == label)
            .with_context(|| format!("no tray menu item {label:?}"))?;
        let menu = self.menu().await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as u32;
        let data = zbus::zvariant::Value::from("");
        menu.call::<_, _, ()>("Event", &(item.id, "clicked", data, now))
            .await?;
        Ok(())
    }
}

/// tauri-driver, launching WebKitWebDriver (one app per driver).
pub struct Driver {
    port: u16,
    _proc: Proc,
}

impl Driver {
    /// On the default ports (4444, WebKitWebDriver on 4445).
    pub async fn start() -> Result<Driver> {
        Driver::start_on(4444, 4445).await
    }

    pub async fn start_on(port: u16, native_port: u16) -> Result<Driver> {
        // The previous test's WebKitWebDriver may still be dying with the port.
        until(
            &format!("port {native_port} free"),
            Duration::from_secs(20),
            || async {
                Ok(tokio::net::TcpStream::connect(("127.0.0.1", native_port))
                    .await
                    .is_err())
            },
        )
        .await?;
        let exe = std::env::var_os("TAURI_DRIVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| "tauri-driver".into());
        let proc = Proc(
            Command::new(&exe)
                .process_group(0)
                // The app in English whatever this machine's locale (the tests read some of
                // its words); the Russian window is checked by the UI tests.
                .env("LANG", "C.UTF-8")
                .env_remove("LANGUAGE")
                .env_remove("LC_ALL")
                .env_remove("LC_MESSAGES")
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native_port.to_string(),
                ])
                .spawn()
                .with_context(|| format!("starting {}", exe.display()))?,
        );
        // Both tauri-driver and the WebKitWebDriver it starts must be up before a session.
        for p in [port, native_port] {
            until(
                &format!("a WebDriver server on 127.0.0.1:{p}"),
                Duration::from_secs(20),
                || async {
                    Ok(tokio::net::TcpStream::connect(("127.0.0.1", p))
                        .await
                        .is_ok())
                },
            )
            .await?;
        }
        Ok(Driver { port, _proc: proc })
    }

    /// Launches the desktop app with its own data directory and returns the WebDriver session.
    pub async fn launch(&self, data_dir: &std::path::Path) -> Result<fantoccini::Client> {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({
                "application": app_binary()?,
                "args": ["--data-dir", data_dir],
            }),
        );
        caps.insert("browserName".into(), "wry".into());
        // A driver that has just started may still refuse the first session: try a few times.
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match fantoccini::ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(client) => break client,
                Err(e) if attempt < 3 => {
                    eprintln!("WebDriver session attempt {attempt} failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e).context("creating the WebDriver session"),
            }
        };
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

/// The text of the element with `data-testid=testid` (empty when there is none).
pub async fn text_of(app: &fantoccini::Client, testid: &str) -> Result<String> {
    let v = app
        .execute(
            &format!(
                "const e = document.querySelector('[data-testid={testid}]'); return e ? e.textContent : null;"
            ),
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// Types into the element with `data-testid=testid` (waits for it; clears it first).
pub async fn type_into(app: &fantoccini::Client, testid: &str, text: &str) -> Result<()> {
    let e = app
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css(&format!("[data-testid={testid}]")))
        .await?;
    e.clear().await?;
    e.send_keys(text).await?;
    Ok(())
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

/// Signs in through the Connect form and waits until the window shows `name` online.
pub async fn sign_in(
    app: &fantoccini::Client,
    hub_url: &str,
    token: &str,
    name: &str,
) -> Result<()> {
    let wait = Duration::from_secs(20);
    let url = app
        .wait()
        .at_most(wait)
        .for_element(fantoccini::Locator::Css("[data-testid=hub-url]"))
        .await?;
    url.clear().await?;
    url.send_keys(hub_url).await?;
    app.find(fantoccini::Locator::Css("[data-testid=hub-token]"))
        .await?
        .send_keys(token)
        .await?;
    click(app, "[data-testid=connect]").await?;
    until(&format!("{name} signed in and online"), wait, || async {
        let state = app
            .execute(
                "const n = document.querySelector('[data-testid=me-name]'); \
                 const o = document.querySelector('[data-testid=online]'); \
                 return [n ? n.textContent : '', o ? o.dataset.online : ''];",
                vec![],
            )
            .await?;
        Ok(state == serde_json::json!([name, "true"]))
    })
    .await
}

/// A client message on a channel, as the provider's webhook carries it.
pub fn client_message(
    id: &str,
    channel_id: &str,
    phone: &str,
    name: &str,
    text: &str,
) -> serde_json::Value {
    serde_json::json!({"messages": [{
        "messageId": id, "channelId": channel_id, "chatType": "whatsapp", "chatId": phone,
        "dateTime": "2026-11-25T10:00:00.000Z", "type": "text", "status": "inbound", "isEcho": false,
        "text": text, "contact": {"name": name}
    }]})
}

/// The pid of the app started with `--data-dir dir` (found in /proc).
pub fn pid_of_profile(dir: &std::path::Path) -> Option<u32> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let is_app = args.first().is_some_and(|a| a.ends_with("/switchboard"));
            (is_app
                && args
                    .windows(2)
                    .any(|w| w[0] == "--data-dir" && w[1] == needle))
            .then_some(pid)
        })
}

/// The desktop binary to drive: `SWITCHBOARD_APP`, else target/debug/switchboard.
pub fn app_binary() -> Result<PathBuf> {
    match std::env::var_os("SWITCHBOARD_APP") {
        Some(p) => Ok(PathBuf::from(p)),
        None => binary("switchboard"),
    }
}

/// Ends a test's app: a screenshot `<name>-failure.png` when the scenario failed, then closes it.
pub async fn finish(app: fantoccini::Client, result: Result<()>, name: &str) -> Result<()> {
    if result.is_err() {
        let _ = screenshot(&app, &format!("{name}-failure.png")).await;
    }
    app.close().await?;
    result
}

/// (RSS, PSS) in KiB of a process, from /proc/<pid>/smaps_rollup.
pub fn memory(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
    };
    Some((field("Rss:")?, field("Pss:")?))
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
            out.extend(children(p));
        }
    }
    out
}

/// A process and all its descendants (the app and its WebKit processes).
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut tree = vec![pid];
    tree.extend(children(pid));
    tree
}

/// One sync answer the relay passed on: its query (`cursor=…&page=…`) and its JSON.
#[derive(Debug, Clone)]
pub struct RelayedSync {
    pub query: String,
    pub answer: serde_json::Value,
}

impl RelayedSync {
    /// The `type` of each change it carried.
    pub fn kinds(&self) -> Vec<String> {
        self.answer["changes"]
            .as_array()
            .map(|changes| {
                changes
                    .iter()
                    .filter_map(|c| c["type"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An HTTP/1.1 relay between the app and a hub, for what only the wire shows: it records every
/// sync answer, and holds back the requests for a snapshot's later pages until
/// [`open_pages`](Self::open_pages) (so a test sees the list painted from the first page while
/// the rest is still to come). Everything else passes as it is; the live events stream is
/// relayed as it flows.
pub struct SyncRelay {
    pub url: String,
    pages: Arc<tokio::sync::watch::Sender<bool>>,
    synced: Arc<Mutex<Vec<RelayedSync>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SyncRelay {
    pub async fn start(hub: &str) -> Result<SyncRelay> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (pages, _) = tokio::sync::watch::channel(false);
        let pages = Arc::new(pages);
        let synced = Arc::new(Mutex::new(Vec::new()));
        let (hub, p, s) = (hub.to_owned(), pages.clone(), synced.clone());
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            while let Ok((conn, _)) = listener.accept().await {
                let (hub, http, p, s) = (hub.clone(), http.clone(), p.clone(), s.clone());
                tokio::spawn(async move {
                    if let Err(e) = relay(conn, &hub, &http, &p, &s).await {
                        eprintln!("relay: {e:#}");
                    }
                });
            }
        });
        Ok(SyncRelay {
            url,
            pages,
            synced,
            task,
        })
    }

    /// Lets the held page requests (and every later one) through.
    pub fn open_pages(&self) {
        self.pages.send_replace(true);
    }

    /// Every sync answer relayed so far, in order.
    pub fn synced(&self) -> Vec<RelayedSync> {
        self.synced.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for SyncRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Relays one keep-alive connection, request by request.
async fn relay(
    conn: tokio::net::TcpStream,
    hub: &str,
    http: &reqwest::Client,
    pages: &tokio::sync::watch::Sender<bool>,
    synced: &Mutex<Vec<RelayedSync>>,
) -> Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let (read, mut write) = conn.into_split();
    let mut read = tokio::io::BufReader::new(read);
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            bail!("not a request line: {line:?}");
        };
        let (method, target) = (
            reqwest::Method::from_bytes(method.as_bytes())?,
            target.to_owned(),
        );
        let mut headers = reqwest::header::HeaderMap::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            read.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let Some((name, value)) = h.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse()?;
            }
            if ["authorization", "content-type", "accept"].contains(&name.as_str()) {
                headers.insert(
                    reqwest::header::HeaderName::from_bytes(name.as_bytes())?,
                    value.parse()?,
                );
            }
        }
        let mut body = vec![0; length];
        read.read_exact(&mut body).await?;
        let sync = target.starts_with("/api/v1/sync");
        if sync && target.contains("page=") {
            pages.subscribe().wait_for(|open| *open).await?;
        }
        let resp = http
            .request(method, format!("{hub}{target}"))
            .headers(headers)
            .body(body)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(_) => {
                write
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                    .await?;
                continue;
            }
        };
        let status = resp.status();
        let kind = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        if target.starts_with("/api/v1/events") && status.is_success() {
            // A stream: relayed as it flows, the connection closed at its end.
            write
                .write_all(
                    format!(
                        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\nconnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                )
                .await?;
            let mut stream = resp;
            while let Some(chunk) = stream.chunk().await? {
                write.write_all(&chunk).await?;
                write.flush().await?;
            }
            return Ok(());
        }
        let bytes = resp.bytes().await?;
        if sync && status.is_success() {
            if let Ok(answer) = serde_json::from_slice(&bytes) {
                let query = target.split_once('?').map_or("", |(_, q)| q).to_owned();
                if let Ok(mut s) = synced.lock() {
                    s.push(RelayedSync { query, answer });
                }
            }
        }
        write
            .write_all(
                format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n",
                    bytes.len()
                )
                .as_bytes(),
            )
            .await?;
        write.write_all(&bytes).await?;
    }
}

/// (RSS, PSS) in KiB of a process and its descendants.
pub fn memory_tree(pid: u32) -> (u64, u64) {
    process_tree(pid)
        .into_iter()
        .filter_map(memory)
        .fold((0, 0), |(rss, pss), (r, p)| (rss + r, pss + p))
}

/// Runs `script` in the page; what it returns.
pub async fn dom(app: &fantoccini::Client, script: &str) -> Result<serde_json::Value> {
    Ok(app.execute(script, vec![]).await?)
}

/// Runs `action` (JS statements) in the page, then waits there until `done` (a JS expression)
/// holds; the page's own measure of how long it took, in ms (to the DOM updated; its paint
/// follows within a frame).
pub async fn timed(app: &fantoccini::Client, action: &str, done: &str) -> Result<f64> {
    page_timed(app, action, done, "cb(performance.now() - t0)").await
}

/// As [`timed`], to the frame painted after `done` holds: a task queued from the next
/// animation frame's callback runs once that frame is painted.
pub async fn timed_to_paint(app: &fantoccini::Client, action: &str, done: &str) -> Result<f64> {
    page_timed(
        app,
        action,
        done,
        "requestAnimationFrame(() => setTimeout(() => cb(performance.now() - t0)))",
    )
    .await
}

async fn page_timed(app: &fantoccini::Client, action: &str, done: &str, then: &str) -> Result<f64> {
    let script = format!(
        "const cb = arguments[arguments.length - 1]; const t0 = performance.now(); {action}; \
         const tick = () => {{ if ({done}) {then}; \
           else if (performance.now() - t0 > 30000) cb(-1); else setTimeout(tick, 1); }}; tick();"
    );
    let ms = app
        .execute_async(&script, vec![])
        .await?
        .as_f64()
        .context("a time")?;
    anyhow::ensure!(ms >= 0.0, "timed out waiting for {done}");
    Ok(ms)
}

/// The median and the 95th percentile of `v` (not empty).
pub fn median_p95(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[(v.len() * 95).div_ceil(100) - 1])
}

//! What the hub's integration tests share: waiting for a condition, and calling the hub.
#![allow(dead_code, reason = "each test file uses its own part of it")]

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// The provider webhook address of a running hub.
pub fn webhook_url(hub: &switchboard_hub::RunningHub) -> String {
    format!("{}/webhooks/provider/{}", hub.url, hub.hub.ingress_secret())
}

/// One client's WhatsApp text message to `channel`, as the provider's webhook delivers it.
pub fn client_message(id: &str, channel: &str, phone: &str, text: &str) -> Value {
    serde_json::json!({"messages": [{"messageId": id, "channelId": channel, "chatType": "whatsapp",
        "chatId": phone, "dateTime": "2026-11-25T10:00:00.000Z", "type": "text", "status": "inbound",
        "text": text}]})
}

/// Posts a provider webhook body to `hub`: the status and the JSON answer (null if none).
pub async fn post_webhook(
    http: &reqwest::Client,
    hub: &switchboard_hub::RunningHub,
    body: &Value,
) -> (StatusCode, Value) {
    let resp = http
        .post(webhook_url(hub))
        .json(body)
        .send()
        .await
        .expect("webhook");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// An employee's reply in a chat (`token` is theirs), accepted (202); the message's id.
pub async fn reply(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    chat: &str,
    text: &str,
    key: &str,
) -> String {
    let (s, v) = call(
        http,
        base,
        token,
        Method::POST,
        "/api/v1/messages",
        serde_json::json!({"chat": chat, "text": text, "idempotency_key": key}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    v["message_id"].as_str().expect("id").into()
}

/// Polls `check` every 20 ms until it holds; fails after 30 s naming `what`.
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One call to the hub at `base` as `token`; the status and the JSON answer (null if none).
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = http
        .request(method.clone(), format!("{base}{path}"))
        .bearer_auth(token);
    if method != Method::GET {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The hub binary serving a data directory, as an operator runs it (killed with SIGKILL on drop).
pub struct HubProcess {
    pub url: String,
    child: tokio::process::Child,
}

/// The admin token the hub processes of these tests run with.
pub const ADMIN: &str = "admin-secret";

impl HubProcess {
    /// `switchboard-hub serve --data <dir> --listen <listen> <extra…>`; waits for its
    /// `listening on` line.
    pub async fn start(
        dir: &std::path::Path,
        listen: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> HubProcess {
        use tokio::io::AsyncBufReadExt;
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard-hub"));
        cmd.args(["serve", "--data"])
            .arg(dir)
            .args(["--listen", listen])
            .args(extra)
            .env("SWITCHBOARD_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("hub binary");
        let out = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(out).lines();
        let line = lines.next_line().await.expect("read").expect("a line");
        let url = line
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_owned();
        HubProcess { url, child }
    }

    /// SIGKILL: no shutdown, no flush — as a crash or a power cut.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }
}

/// A free loopback port (to start a hub again on the same address).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A hub serving in-process on a fresh data directory (kept alive by the returned guard).
pub async fn hub() -> (switchboard_hub::RunningHub, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = switchboard_hub::start(switchboard_hub::ServeConfig::new(
        dir.path().to_owned(),
        ([127, 0, 0, 1], 0).into(),
        false,
    ))
    .await
    .expect("hub");
    (hub, dir)
}

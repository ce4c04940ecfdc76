//! What the hub's integration tests share: waiting for a condition, and calling the hub —
//! through its typed client ([`client`]), or raw ([`call`]) where the raw surface is the point.
#![allow(dead_code, reason = "each test file uses its own part of it")]

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;
use switchboard_client::{ops, ClientError, ClientResult, HubClient, HubError};
use switchboard_core::{Role, Transport};
use switchboard_wire::{NewChannel, NewCrmEntity, NewEmployee, SendAccepted, SendMessage};

/// The typed client of the hub at `base`, calling as `token` (on `http`'s connections).
pub fn client(http: &reqwest::Client, base: &str, token: &str) -> HubClient {
    HubClient::new(http.clone(), base, token)
}

/// The hub's refusal of a call (fails if the call was answered, or not answered at all).
#[track_caller]
pub fn refused<T: std::fmt::Debug>(r: ClientResult<T>) -> HubError {
    match r {
        Err(ClientError::Refused(e)) => e,
        other => panic!("expected the hub to refuse, got {other:?}"),
    }
}

/// Asserts the hub refused a call with `status` and `code`; the refusal (for its message).
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    r: ClientResult<T>,
    status: StatusCode,
    code: &str,
) -> HubError {
    let e = refused(r);
    assert_eq!(
        (e.status, e.code.as_str()),
        (status.as_u16(), code),
        "{e:?}"
    );
    e
}

/// Sends `req` (built by [`HubClient::request`], so its path is the client's) and reads the
/// answer twice: typed, and as the text on the wire (for what an answer must never carry).
pub async fn typed_and_wire<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> (T, String) {
    let resp = HubClient::send(req)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let text = resp.text().await.expect("answer");
    let typed = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (typed, text)
}

/// A message sent as `hub`'s caller, accepted with 202 (delivery goes on in the background;
/// [`HubClient::send_message`] takes any success, so the status is read here).
pub async fn send(hub: &HubClient, message: &SendMessage) -> SendAccepted {
    let req = hub.request(ops::SEND, &[]).expect("path").json(message);
    let resp = HubClient::send(req)
        .await
        .unwrap_or_else(|e| panic!("send {message:?}: {e:?}"));
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    resp.json().await.expect("the accepted message")
}

/// A reply in `chat`.
pub fn reply_in(chat: &str, text: &str, key: &str) -> SendMessage {
    SendMessage {
        chat: Some(chat.to_owned()),
        channel_id: None,
        phone: None,
        crm: None,
        text: text.to_owned(),
        idempotency_key: key.to_owned(),
    }
}

/// Writing first to `phone` (as typed) from `channel`.
pub fn write_first(channel: &str, phone: &str, text: &str, key: &str) -> SendMessage {
    SendMessage {
        chat: None,
        channel_id: Some(channel.to_owned()),
        phone: Some(phone.to_owned()),
        crm: None,
        text: text.to_owned(),
        idempotency_key: key.to_owned(),
    }
}

/// A new employee who does not receive new clients, without a priority channel or CRM user.
pub fn new_employee(name: &str, role: Role) -> NewEmployee {
    NewEmployee {
        name: name.to_owned(),
        role,
        receives_new_clients: false,
        priority_channel_id: None,
        crm_user_id: None,
    }
}

/// A new channel (not through Open Lines).
pub fn new_channel(transport: Transport, name: &str) -> NewChannel {
    NewChannel {
        transport,
        name: name.to_owned(),
        open_lines: false,
    }
}

/// A new built-in CRM lead, contact or deal with nobody responsible, open.
pub fn new_entity(title: &str, phones: &[&str]) -> NewCrmEntity {
    NewCrmEntity {
        title: title.to_owned(),
        phones: phones.iter().map(|p| (*p).to_owned()).collect(),
        responsible_id: None,
        contact_id: None,
        closed: false,
        stage: None,
    }
}

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

/// An employee's reply in a chat (`hub` calls as them), accepted (202); the message's id.
pub async fn reply(hub: &HubClient, chat: &str, text: &str, key: &str) -> String {
    send(hub, &reply_in(chat, text, key)).await.message_id
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
/// Only for tests about the raw HTTP surface (malformed bodies and the like): everything else
/// calls through [`client`].
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

    /// [`HubProcess::start`] on loopback talking to the provider at `provider_url` (key `key`),
    /// once it has read the provider's channels, and Anna — a seller who receives new
    /// clients — with her token.
    pub async fn with_seller(
        dir: &std::path::Path,
        provider_url: &str,
        key: &str,
    ) -> (HubProcess, String) {
        let args = ["--provider-url", provider_url, "--provider-timeout", "2"];
        let env = [("SWITCHBOARD_PROVIDER_KEY", key)];
        let hub = HubProcess::start(dir, "127.0.0.1:0", &args, &env).await;
        let admin = client(&reqwest::Client::new(), &hub.url, ADMIN);
        until("the hub reads the provider's channels", || async {
            admin.channels().await.is_ok_and(|a| !a.is_empty())
        })
        .await;
        let token = admin
            .create_employee(&NewEmployee {
                receives_new_clients: true,
                ..new_employee("Anna", Role::Seller)
            })
            .await
            .expect("employee")
            .token;
        (hub, token)
    }

    /// The same data directory and provider, started again (after a kill).
    pub async fn again(dir: &std::path::Path, provider_url: &str, key: &str) -> HubProcess {
        let args = ["--provider-url", provider_url, "--provider-timeout", "2"];
        let env = [("SWITCHBOARD_PROVIDER_KEY", key)];
        HubProcess::start(dir, "127.0.0.1:0", &args, &env).await
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

/// Connects the Bitrix24 fake's portal and lets it post its CRM events to the hub, signed with
/// `app_token` (what an administrator does in the portal and the hub's CRM settings).
pub async fn connect_bitrix24(
    admin: &HubClient,
    portal: &bitrix24_fake::RunningFake,
    app_token: &str,
) {
    admin
        .connect_crm(&switchboard_wire::CrmConnect {
            webhook_url: portal.webhook.clone(),
        })
        .await
        .expect("connect");
    let c = admin
        .set_crm_events(&switchboard_wire::CrmEvents {
            application_token: app_token.into(),
        })
        .await
        .expect("events");
    assert!(c.events, "{c:?}");
    portal.fake.set_outgoing(Some(bitrix24_fake::Outgoing {
        handler: c.events_url.expect("events url"),
        application_token: app_token.into(),
    }));
}

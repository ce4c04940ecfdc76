//! A contract fake of the messenger provider's API v3, as written down in
//! `shared/spec/contracts/messenger-provider.md`. It is the only stand-in for the real
//! provider: the hub's tests, its benchmarks and the demo workspace all talk to it over
//! real HTTP with the real client.
//!
//! What it follows from the contract:
//! - `Authorization: Bearer <apiKey>` on every call, else 401; over 500 requests in a 5 s
//!   window, 429 (the counter resets every 5 s).
//! - `GET /v3/channels` → `[{channelId, transport, plainId, state}]`.
//! - `PATCH /v3/webhooks` probes the URI with `{"test": true}` first (400 `testPostNotPassed`
//!   unless it answers 200; 400 `uriNotValid`); `GET /v3/webhooks` reads the setting back.
//! - `POST /v3/message` → 201 `{messageId, chatId}`; 400 bodies `{status, requestId, error,
//!   description, data}` for `INVALID_MESSAGE_DATA` (naming the fields), `WRONG_TRANSPORT`,
//!   `CHANNEL_NOT_FOUND`, `MESSAGE_CHANNEL_UNAVAILABLE`, `MESSAGE_ONLY_TEXT_OR_CONTENT`,
//!   `MESSAGE_NOTHING_TO_SEND`, the text limits, and `REPEATED_CRM_MESSAGE_ID` when a
//!   `crmMessageId` comes again within 60 s.
//! - After a send: an echo (`messages` with `isEcho: true`, the same `messageId`, `authorId` =
//!   `crmUserId`) and then `statuses` `sent` → `delivered` → `read`, posted to the subscribed
//!   URI in order and retried until they get a 200 (the provider's retry policy is undocumented;
//!   a fake that retries is the stricter test of the receiver's idempotency).
//!
//! - A send's `contentUri` is downloaded at once, before the answer: no redirects followed,
//!   a non-2xx is `MESSAGE_DOWNLOAD_CONTENT_ERROR`, more than 10 MB
//!   `MESSAGES_CONTENT_SIZE_EXCEEDED` (`_TELEGRAM` there), none `MESSAGES_CONTENT_CAN_NOT_BE_BLANK`,
//!   a type the messengers do not pass on `MESSAGE_WRONG_CONTENT_TYPE`; the echo of a file
//!   links to the fake's own copy (`GET /_fake/store/{messageId}`, no key).
//!
//! What is fake-only, under `/_fake/` (same key): the messages accepted so far, the files
//! downloaded (`/_fake/fetched`), faults to
//! inject on the next sends (5xx, a hang before or after accepting, 429), a client writing in
//! (text, or media: [`FakeMedia`]), and a channel changing state. `GET /_fake/media/{name}`
//! needs no key: it stands for the provider's media store, whose `contentUri` links inbound
//! `messages` carry (contract §4.2) and which is fetched without the API key.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Requests allowed per window, and the window (contract §9).
pub const RATE_LIMIT: u32 = 500;
pub const RATE_WINDOW: Duration = Duration::from_secs(5);
/// How long a `crmMessageId` is remembered (contract §6).
pub const REPEAT_WINDOW: Duration = Duration::from_secs(60);

/// One channel of the fake account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FakeChannel {
    pub channel_id: String,
    pub transport: String,
    pub plain_id: String,
    pub state: String,
}

impl FakeChannel {
    /// Reads `TRANSPORT:PLAIN_ID:STATE` (the command line's `--channel`); the id is a new UUID.
    pub fn parse(spec: &str) -> Result<FakeChannel, String> {
        let mut parts = spec.splitn(3, ':');
        let (Some(transport), Some(plain_id), Some(state)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "channel {spec:?}: expected TRANSPORT:PLAIN_ID:STATE"
            ));
        };
        if chat_type_of(transport).is_none() {
            return Err(format!("channel {spec:?}: unknown transport {transport:?}"));
        }
        Ok(FakeChannel {
            channel_id: uuid::Uuid::new_v4().to_string(),
            transport: transport.to_owned(),
            plain_id: plain_id.to_owned(),
            state: state.to_owned(),
        })
    }
}

/// The `chatType` a channel of this transport sends with (contract §7).
pub fn chat_type_of(transport: &str) -> Option<&'static str> {
    Some(match transport {
        "whatsapp" | "wapi" => "whatsapp",
        "tgapi" | "telegram" => "telegram",
        "viber" => "viber",
        "instagram" => "instagram",
        "vk" => "vk",
        "avito" => "avito",
        "max" => "max",
        _ => return None,
    })
}

/// A sample file a client can send: served by `GET /_fake/media/{name}`, linked from the
/// `contentUri` of the `messages` webhook [`Fake::client_sends_media`] posts. The files live in
/// `tests/provider-fake/media/` (made by its `generate.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeMedia {
    /// A phone photo of a paper invoice (PNG, 480×320).
    Photo,
    /// A 3 s voice note (WAV, mono 16-bit PCM, 16 kHz).
    VoiceNote,
    /// A one-page invoice (PDF 1.4).
    Pdf,
    /// A 2 s video (WebM: VP8 320×240 and Opus).
    Video,
    /// A shared contact (vCard 3.0, as phones share one).
    Contact,
}

impl FakeMedia {
    pub const ALL: [FakeMedia; 5] = [
        FakeMedia::Photo,
        FakeMedia::VoiceNote,
        FakeMedia::Pdf,
        FakeMedia::Video,
        FakeMedia::Contact,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            FakeMedia::Photo => "invoice-photo.png",
            FakeMedia::VoiceNote => "voice-note.wav",
            FakeMedia::Pdf => "invoice-42.pdf",
            FakeMedia::Video => "clip.webm",
            FakeMedia::Contact => "contact.vcf",
        }
    }

    /// The webhook message's `type` (contract §4.2).
    pub fn provider_type(self) -> &'static str {
        match self {
            FakeMedia::Photo => "image",
            FakeMedia::VoiceNote => "audio",
            FakeMedia::Pdf => "document",
            FakeMedia::Video => "video",
            FakeMedia::Contact => "vcard",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FakeMedia::Photo => "image/png",
            FakeMedia::VoiceNote => "audio/wav",
            FakeMedia::Pdf => "application/pdf",
            FakeMedia::Video => "video/webm",
            FakeMedia::Contact => "text/vcard",
        }
    }

    pub fn bytes(self) -> &'static [u8] {
        match self {
            FakeMedia::Photo => include_bytes!("../media/invoice-photo.png"),
            FakeMedia::VoiceNote => include_bytes!("../media/voice-note.wav"),
            FakeMedia::Pdf => include_bytes!("../media/invoice-42.pdf"),
            FakeMedia::Video => include_bytes!("../media/clip.webm"),
            FakeMedia::Contact => include_bytes!("../media/contact.vcf"),
        }
    }

    /// The file served under `name`, if any.
    pub fn by_file_name(name: &str) -> Option<FakeMedia> {
        FakeMedia::ALL.into_iter().find(|m| m.file_name() == name)
    }
}

/// A message the fake accepted from `POST /v3/message`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub message_id: String,
    pub channel_id: String,
    pub chat_type: String,
    pub chat_id: String,
    pub text: String,
    pub crm_user_id: Option<String>,
    pub crm_message_id: Option<String>,
    pub at: String,
    /// A file: the link it was downloaded from (when the send was made).
    #[serde(default)]
    pub content_uri: Option<String>,
}

/// A file the fake downloaded from a send's `contentUri`, as it came.
#[derive(Debug, Clone)]
pub struct FetchedFile {
    pub uri: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Files (downloaded, and the copies echoes link to) the fake keeps at most.
pub const KEPT_FILES: usize = 64;

/// The most a send's file may weigh: `MESSAGES_CONTENT_SIZE_EXCEEDED` (more than 10 MB).
pub const CONTENT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// A failure to inject into the next `POST /v3/message` (one per request, in order).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fault {
    /// 500 without accepting.
    ServerError,
    /// Hang, then answer 500, without accepting.
    HangBeforeAccept,
    /// Accept (and send) the message, then hang before answering: the caller never learns.
    HangAfterAccept,
    /// 429 as if the window were full.
    RateLimited,
}

#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub api_key: String,
    pub channels: Vec<FakeChannel>,
    /// Pause between `sent`, `delivered` and `read`.
    pub status_step: Duration,
    /// How long a hanging fault holds the request.
    pub hang: Duration,
    /// Echo messages sent through the API back as `isEcho: true` (contract §11.4).
    pub echo_api_sends: bool,
    /// Requests allowed per [`RATE_WINDOW`] ([`RATE_LIMIT`] as documented).
    pub rate_limit: u32,
}

impl FakeConfig {
    pub fn new(api_key: &str, channels: Vec<FakeChannel>) -> FakeConfig {
        FakeConfig {
            api_key: api_key.to_owned(),
            channels,
            status_step: Duration::from_millis(200),
            hang: Duration::from_secs(30),
            echo_api_sends: true,
            rate_limit: RATE_LIMIT,
        }
    }
}

#[derive(Debug, Default)]
struct Account {
    channels: Vec<FakeChannel>,
    webhook: Option<Value>,
    sent: Vec<Sent>,
    crm_ids: HashMap<String, Instant>,
    window: Option<(Instant, u32)>,
    faults: VecDeque<Fault>,
    /// Every download of a send's `contentUri`, in order (refused ones too).
    fetched: Vec<FetchedFile>,
    /// Files of accepted sends, by `messageId`: what the echo's `contentUri` serves.
    store: HashMap<String, (String, Vec<u8>)>,
}

struct Inner {
    config: FakeConfig,
    account: Mutex<Account>,
    deliveries: mpsc::UnboundedSender<Value>,
    http: reqwest::Client,
    /// Downloads of `contentUri`: no redirects followed (contract §8).
    download: reqwest::Client,
    /// `http://host:port` once [`start`] has bound its socket: the base of media links.
    url: OnceLock<String>,
}

/// A handle on a running fake (cheap to clone).
#[derive(Clone)]
pub struct Fake {
    inner: Arc<Inner>,
}

/// A fake serving on a socket.
pub struct RunningFake {
    pub url: String,
    pub fake: Fake,
    task: tokio::task::JoinHandle<()>,
}

impl RunningFake {
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for RunningFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the fake on `listen`.
pub async fn start(listen: SocketAddr, config: FakeConfig) -> anyhow::Result<RunningFake> {
    let (tx, rx) = mpsc::unbounded_channel();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let download = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let fake = Fake {
        inner: Arc::new(Inner {
            download,
            account: Mutex::new(Account {
                channels: config.channels.clone(),
                ..Account::default()
            }),
            config,
            deliveries: tx,
            http,
            url: OnceLock::new(),
        }),
    };
    tokio::spawn(deliver(fake.clone(), rx));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    // Set once, here, before anything can read it.
    let _ = fake.inner.url.set(url.clone());
    let app = router(fake.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "provider fake stopped");
        }
    });
    Ok(RunningFake { url, fake, task })
}

impl Fake {
    fn account(&self) -> MutexGuard<'_, Account> {
        // A poisoned lock only means another request panicked; the data is still consistent.
        self.inner.account.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn channels(&self) -> Vec<FakeChannel> {
        self.account().channels.clone()
    }

    /// Every message accepted so far, oldest first.
    pub fn sent(&self) -> Vec<Sent> {
        self.account().sent.clone()
    }

    /// Every download of a send's file so far, oldest first.
    pub fn fetched(&self) -> Vec<FetchedFile> {
        self.account().fetched.clone()
    }

    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.account().faults.extend(faults);
    }

    /// A client writes to a channel: the fake posts a `messages` webhook. Returns its `messageId`.
    pub fn client_writes(
        &self,
        channel_id: &str,
        chat_id: &str,
        name: &str,
        text: &str,
    ) -> Result<String, String> {
        self.client_message(channel_id, chat_id, name, "text", Some(text), None)
    }

    /// A client sends a file to a channel: the fake posts a `messages` webhook with the media's
    /// `type` and a `contentUri` link to `GET /_fake/media/{file}`; `text` only with a caption.
    /// Returns its `messageId`. Needs a fake running from [`start`] (the link's base URL).
    pub fn client_sends_media(
        &self,
        channel_id: &str,
        chat_id: &str,
        name: &str,
        media: FakeMedia,
        caption: Option<&str>,
    ) -> Result<String, String> {
        let uri = self
            .media_uri(media)
            .ok_or_else(|| "the fake is not serving yet: no base URL".to_owned())?;
        self.client_message(
            channel_id,
            chat_id,
            name,
            media.provider_type(),
            caption,
            Some(uri),
        )
    }

    /// A client shares a location: a `geo` message whose `contentUri` is a map link with the
    /// coordinates and whose `text` names the place (the contract gives no shape for `geo`;
    /// this is the form messengers pass on). Returns its `messageId`.
    pub fn client_shares_location(
        &self,
        channel_id: &str,
        chat_id: &str,
        name: &str,
        (lat, lon): (f64, f64),
        place: Option<&str>,
    ) -> Result<String, String> {
        self.client_message(
            channel_id,
            chat_id,
            name,
            "geo",
            place,
            Some(format!("https://maps.google.com/maps?q={lat},{lon}")),
        )
    }

    /// `{url}/_fake/media/{file}?filename={file}`, shaped like the provider's store links;
    /// `None` before [`start`] has bound the socket.
    pub fn media_uri(&self, media: FakeMedia) -> Option<String> {
        let url = self.inner.url.get()?;
        let file = media.file_name();
        Some(format!("{url}/_fake/media/{file}?filename={file}"))
    }

    /// Posts one inbound `messages` item from a client.
    fn client_message(
        &self,
        channel_id: &str,
        chat_id: &str,
        name: &str,
        kind: &str,
        text: Option<&str>,
        content_uri: Option<String>,
    ) -> Result<String, String> {
        let channel = self
            .channels()
            .into_iter()
            .find(|c| c.channel_id == channel_id)
            .ok_or_else(|| format!("no channel {channel_id}"))?;
        let chat_type = chat_type_of(&channel.transport).unwrap_or("whatsapp");
        let message_id = uuid::Uuid::new_v4().to_string();
        let mut contact = json!({ "name": name });
        if chat_type == "telegram" || chat_type == "max" {
            contact["phone"] = json!(chat_id);
        }
        let mut message = json!({
            "messageId": message_id,
            "dateTime": now(),
            "channelId": channel_id,
            "chatType": chat_type,
            "chatId": chat_id,
            "type": kind,
            "status": "inbound",
            "isEcho": false,
            "contact": contact,
        });
        if let Some(text) = text {
            message["text"] = json!(text);
        }
        if let Some(uri) = content_uri {
            message["contentUri"] = json!(uri);
        }
        self.post(json!({ "messages": [message] }));
        Ok(message_id)
    }

    /// A channel changes state: stored, and a `channelsUpdates` webhook posted.
    pub fn set_channel_state(&self, channel_id: &str, state: &str) -> bool {
        let found = {
            let mut account = self.account();
            match account
                .channels
                .iter_mut()
                .find(|c| c.channel_id == channel_id)
            {
                Some(c) => {
                    c.state = state.to_owned();
                    true
                }
                None => false,
            }
        };
        if found {
            self.post(json!({ "channelsUpdates": [{
                "channelId": channel_id,
                "state": state,
                "timestamp": chrono::Utc::now().timestamp_millis(),
            }]}));
        }
        found
    }

    fn post(&self, body: Value) {
        // The delivery task lives as long as the fake.
        let _ = self.inner.deliveries.send(body);
    }

    /// After a send: the echo, then `sent` → `delivered` → `read`.
    fn walk_statuses(&self, sent: &Sent) {
        if self.inner.config.echo_api_sends {
            let mut echo = json!({
                "messageId": sent.message_id,
                "dateTime": sent.at,
                "channelId": sent.channel_id,
                "chatType": sent.chat_type,
                "chatId": sent.chat_id,
                "type": "text",
                "status": "sent",
                "isEcho": true,
                "text": sent.text,
                "authorId": sent.crm_user_id,
            });
            let kept = self
                .account()
                .store
                .get(&sent.message_id)
                .map(|(t, _)| t.clone());
            if let (Some(content_type), Some(base)) = (kept, self.inner.url.get()) {
                // A file's echo links to the provider's own copy, as inbound files do.
                echo["type"] = json!(kind_of(&content_type));
                echo["contentUri"] = json!(format!("{base}/_fake/store/{}", sent.message_id));
                echo.as_object_mut().map(|o| o.remove("text"));
            }
            self.post(json!({ "messages": [echo] }));
        }
        let fake = self.clone();
        let id = sent.message_id.clone();
        tokio::spawn(async move {
            for status in ["sent", "delivered", "read"] {
                tokio::time::sleep(fake.inner.config.status_step).await;
                fake.post(json!({ "statuses": [{
                    "messageId": id,
                    "timestamp": now(),
                    "status": status,
                }]}));
            }
        });
    }
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Posts webhook bodies in order, each retried until the receiver answers 200 (for up to 10 minutes).
async fn deliver(fake: Fake, mut rx: mpsc::UnboundedReceiver<Value>) {
    while let Some(body) = rx.recv().await {
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            let Some(uri) = fake
                .account()
                .webhook
                .as_ref()
                .and_then(|w| w["webhooksUri"].as_str().map(str::to_owned))
            else {
                tracing::info!("no webhook subscribed; delivery dropped");
                break;
            };
            match fake.inner.http.post(&uri).json(&body).send().await {
                Ok(r) if r.status() == StatusCode::OK => break,
                Ok(r) => tracing::warn!(status = %r.status(), "webhook refused; retrying"),
                Err(e) => tracing::warn!(error = %e, "webhook not delivered; retrying"),
            }
            if started.elapsed() > Duration::from_secs(600) {
                tracing::error!("webhook given up after 10 minutes");
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}

fn error(status: StatusCode, code: &str, description: &str, data: Value) -> Response {
    let body = json!({
        "status": status.as_u16(),
        "requestId": uuid::Uuid::new_v4().simple().to_string(),
        "error": code,
        "description": description,
        "data": data,
    });
    (status, Json(body)).into_response()
}

pub fn router(fake: Fake) -> Router {
    let v3 = Router::new()
        .route("/v3/channels", get(channels))
        .route("/v3/webhooks", patch(subscribe).get(webhooks))
        .route("/v3/message", post(send))
        // Clients in the wild post to `/v3/message/` too.
        .route("/v3/message/", post(send))
        .route_layer(axum::middleware::from_fn_with_state(
            fake.clone(),
            rate_limit,
        ));
    let control = Router::new()
        .route(
            "/_fake/sent",
            get(|State(f): State<Fake>| async move { Json(f.sent()) }),
        )
        .route("/_fake/faults", post(faults))
        .route(
            "/_fake/fetched",
            get(|State(f): State<Fake>| async move {
                let fetched: Vec<Value> = f
                    .fetched()
                    .iter()
                    .map(|d| json!({"uri": d.uri, "contentType": d.content_type, "size": d.bytes.len()}))
                    .collect();
                Json(fetched)
            }),
        )
        .route("/_fake/inbound", post(inbound))
        .route("/_fake/channels/{id}", patch(channel_state));
    v3.merge(control)
        .route_layer(axum::middleware::from_fn_with_state(fake.clone(), auth))
        // Added after the auth layer, so outside it: store links are fetched without the key.
        .route("/_fake/media/{name}", get(media))
        .route("/_fake/store/{id}", get(stored))
        .with_state(fake)
}

/// The provider's media store: a sample file with its type and length; 404 for any other name.
async fn media(Path(name): Path<String>) -> Response {
    let Some(media) = FakeMedia::by_file_name(&name) else {
        return (StatusCode::NOT_FOUND, "No such file").into_response();
    };
    let bytes = media.bytes();
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                media.content_type().to_owned(),
            ),
            (axum::http::header::CONTENT_LENGTH, bytes.len().to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// The provider's copy of a file sent through it.
async fn stored(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    let Some((content_type, bytes)) = fake.account().store.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "No such file").into_response();
    };
    ([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response()
}

/// The message `type` of a file of `content_type`.
fn kind_of(content_type: &str) -> &'static str {
    match content_type.split('/').next() {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "document",
    }
}

/// Types the messengers pass on (contract: `MESSAGE_WRONG_CONTENT_TYPE` otherwise).
fn passes_on(content_type: &str) -> bool {
    let t = content_type.split(';').next().unwrap_or("").trim();
    ["image/", "audio/", "video/"]
        .iter()
        .any(|p| t.starts_with(p))
        && t != "image/svg+xml"
        || t.starts_with("application/vnd.")
        || matches!(
            t,
            "application/pdf"
                | "application/msword"
                | "application/zip"
                | "application/rtf"
                | "text/plain"
                | "text/csv"
        )
}

/// Downloads a send's `contentUri` at once, as the provider does: no redirects, a 2xx only,
/// at most [`CONTENT_MAX_BYTES`], of a type the messengers pass on.
async fn download(fake: &Fake, uri: &str, chat_type: &str) -> Result<(), Refusal> {
    let refuse = |code: &'static str, description: &'static str| Refusal {
        code,
        description,
        data: json!({ "contentUri": uri }),
    };
    let cannot = || {
        refuse(
            "MESSAGE_DOWNLOAD_CONTENT_ERROR",
            "Could not download the content",
        )
    };
    let mut resp = fake
        .inner
        .download
        .get(uri)
        .send()
        .await
        .map_err(|_| cannot())?;
    // A redirect is not followed: it is an error like any other non-2xx.
    if !resp.status().is_success() {
        return Err(cannot());
    }
    let content_type = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| cannot())? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > CONTENT_MAX_BYTES {
            break;
        }
    }
    {
        let mut account = fake.account();
        // The demo runs this fake for hours: the newest files only.
        if account.fetched.len() >= KEPT_FILES {
            account.fetched.remove(0);
        }
        account.fetched.push(FetchedFile {
            uri: uri.to_owned(),
            content_type: content_type.clone(),
            bytes: bytes.clone(),
        });
    }
    if bytes.len() > CONTENT_MAX_BYTES {
        let code = match chat_type {
            "telegram" => "MESSAGES_CONTENT_SIZE_EXCEEDED_TELEGRAM",
            _ => "MESSAGES_CONTENT_SIZE_EXCEEDED",
        };
        return Err(refuse(code, "Content size exceeded"));
    }
    if bytes.is_empty() {
        return Err(refuse(
            "MESSAGES_CONTENT_CAN_NOT_BE_BLANK",
            "Content is empty",
        ));
    }
    if !passes_on(&content_type) {
        return Err(refuse(
            "MESSAGE_WRONG_CONTENT_TYPE",
            "Content type is not supported",
        ));
    }
    Ok(())
}

async fn auth(State(fake): State<Fake>, headers: HeaderMap, req: Request, next: Next) -> Response {
    let expected = format!("Bearer {}", fake.inner.config.api_key);
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v == expected => next.run(req).await,
        _ => error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Missing or invalid API key",
            Value::Null,
        ),
    }
}

async fn rate_limit(State(fake): State<Fake>, req: Request, next: Next) -> Response {
    let over = {
        let mut account = fake.account();
        let now = Instant::now();
        let (start, count) = match account.window {
            Some((start, count)) if now.duration_since(start) < RATE_WINDOW => (start, count + 1),
            _ => (now, 1),
        };
        account.window = Some((start, count));
        count > fake.inner.config.rate_limit
    };
    if over {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests: 500 per 5 seconds",
            Value::Null,
        );
    }
    next.run(req).await
}

async fn channels(State(fake): State<Fake>) -> Json<Vec<FakeChannel>> {
    Json(fake.channels())
}

async fn webhooks(State(fake): State<Fake>) -> Json<Value> {
    Json(
        fake.account()
            .webhook
            .clone()
            .unwrap_or_else(|| json!({ "webhooksUri": null, "subscriptions": {} })),
    )
}

async fn subscribe(State(fake): State<Fake>, body: axum::body::Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "Body must be a JSON object",
                Value::Null,
            )
        }
    };
    let uri = body["webhooksUri"].as_str().unwrap_or_default().to_owned();
    let valid = uri.len() <= 200
        && reqwest::Url::parse(&uri)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
    if !valid {
        return error(
            StatusCode::BAD_REQUEST,
            "uriNotValid",
            "Provided URI is not valid URI",
            Value::Null,
        );
    }
    let probe = fake
        .inner
        .http
        .post(&uri)
        .json(&json!({ "test": true }))
        .send()
        .await;
    let status = probe.as_ref().map(|r| r.status().as_u16()).ok();
    if status != Some(200) {
        return error(
            StatusCode::BAD_REQUEST,
            "testPostNotPassed",
            "URI does not return 200 OK on test request",
            json!(status),
        );
    }
    let subscriptions = body
        .get("subscriptions")
        .cloned()
        .unwrap_or_else(|| json!({}));
    fake.account().webhook = Some(json!({ "webhooksUri": uri, "subscriptions": subscriptions }));
    (StatusCode::OK, Json(json!({ "ok": true }))).into_response()
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

async fn send(State(fake): State<Fake>, body: axum::body::Bytes) -> Response {
    let fault = fake.account().faults.pop_front();
    match fault {
        Some(Fault::ServerError) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
        }
        Some(Fault::RateLimited) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "Too many requests: 500 per 5 seconds",
                Value::Null,
            )
        }
        Some(Fault::HangBeforeAccept) => {
            tokio::time::sleep(fake.inner.config.hang).await;
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response();
        }
        Some(Fault::HangAfterAccept) | None => {}
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_MESSAGE_DATA",
                "Message data is invalid",
                json!({ "fields": ["body"] }),
            )
        }
    };
    // A file is downloaded at once, before the answer (unless the key is a repeat).
    let content = body
        .get("contentUri")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let text_given = body
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    let repeat = body
        .get("crmMessageId")
        .and_then(Value::as_str)
        .is_some_and(|k| {
            fake.account()
                .crm_ids
                .get(k)
                .is_some_and(|at| at.elapsed() < REPEAT_WINDOW)
        });
    let mut file = None;
    if let (Some(uri), false, false) = (&content, text_given, repeat) {
        // What can be told without the file is told first (channel, chat, its state).
        if let Err(r) = accept(&fake, &body, false) {
            return error(StatusCode::BAD_REQUEST, r.code, r.description, r.data);
        }
        let chat_type = body.get("chatType").and_then(Value::as_str).unwrap_or("");
        if let Err(r) = download(&fake, uri, chat_type).await {
            return error(StatusCode::BAD_REQUEST, r.code, r.description, r.data);
        }
        file = fake.account().fetched.last().cloned();
    }
    let (sent, answer) = match accept(&fake, &body, true) {
        Ok(sent) => {
            let answer = (
                StatusCode::CREATED,
                Json(json!({ "messageId": sent.message_id, "chatId": sent.chat_id })),
            )
                .into_response();
            (sent, answer)
        }
        Err(r) => return error(StatusCode::BAD_REQUEST, r.code, r.description, r.data),
    };
    if let Some(f) = file {
        let mut account = fake.account();
        if account.store.len() >= KEPT_FILES {
            account.store.clear();
        }
        account
            .store
            .insert(sent.message_id.clone(), (f.content_type, f.bytes));
    }
    fake.walk_statuses(&sent);
    if fault == Some(Fault::HangAfterAccept) {
        tokio::time::sleep(fake.inner.config.hang).await;
    }
    answer
}

/// A documented 400 of `POST /v3/message`.
struct Refusal {
    code: &'static str,
    description: &'static str,
    data: Value,
}

/// Validates a send and, when `record`, records it; the refusal is the documented 400.
fn accept(fake: &Fake, body: &Value, record: bool) -> Result<Sent, Refusal> {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut bad = Vec::new();
    let channel_id = s("channelId").filter(|c| is_uuid(c));
    if channel_id.is_none() {
        bad.push("channelId");
    }
    let chat_type = s("chatType").filter(|t| chat_type_of(t).is_some() || t == "whatsgroup");
    if chat_type.is_none() {
        bad.push("chatType");
    }
    let chat_id = s("chatId");
    let by_phone = matches!(chat_type.as_deref(), Some("whatsapp" | "viber"));
    let chat_id_ok = match &chat_id {
        Some(id) if by_phone => {
            (7..=15).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
        }
        Some(id) => !id.is_empty(),
        None => {
            chat_type.as_deref() == Some("telegram")
                && (s("phone").is_some() || s("username").is_some())
        }
    };
    if !chat_id_ok {
        bad.push("chatId");
    }
    for (k, v) in [
        ("text", body.get("text")),
        ("crmMessageId", body.get("crmMessageId")),
        ("crmUserId", body.get("crmUserId")),
    ] {
        if matches!(v, Some(v) if !v.is_string() && !v.is_null()) {
            bad.push(k);
        }
    }
    let refuse = |code: &'static str, description: &'static str, data: Value| Refusal {
        code,
        description,
        data,
    };
    if !bad.is_empty() {
        return Err(refuse(
            "INVALID_MESSAGE_DATA",
            "Message data is invalid",
            json!({ "fields": bad }),
        ));
    }
    let (Some(channel_id), Some(chat_type)) = (channel_id, chat_type) else {
        return Err(refuse(
            "INVALID_MESSAGE_DATA",
            "Message data is invalid",
            json!({}),
        ));
    };
    let text = s("text").unwrap_or_default();
    let content = s("contentUri");
    if !text.is_empty() && content.is_some() {
        return Err(refuse(
            "MESSAGE_ONLY_TEXT_OR_CONTENT",
            "Send either text or contentUri",
            Value::Null,
        ));
    }
    if text.trim().is_empty() && content.is_none() {
        return Err(refuse(
            "MESSAGE_NOTHING_TO_SEND",
            "Nothing to send",
            Value::Null,
        ));
    }
    let (max, code) = match chat_type.as_str() {
        "telegram" => (4096, "MESSAGES_TOO_LONG_TELEGRAM"),
        "instagram" => (1000, "MESSAGES_TOO_LONG_INSTAGRAM"),
        "viber" => (6999, "MESSAGES_TOO_LONG_VIBER"),
        _ => (10_000, "MESSAGE_TEXT_TOO_LONG"),
    };
    if text.chars().count() > max {
        return Err(refuse(code, "Text is too long", json!({ "limit": max })));
    }
    let mut account = fake.account();
    let Some(channel) = account
        .channels
        .iter()
        .find(|c| c.channel_id == channel_id)
        .cloned()
    else {
        return Err(refuse(
            "CHANNEL_NOT_FOUND",
            "Channel not found",
            json!({ "channelId": channel_id }),
        ));
    };
    if chat_type_of(&channel.transport) != Some(chat_type.as_str()) {
        return Err(refuse(
            "WRONG_TRANSPORT",
            "chatType does not match the channel's transport",
            json!({ "channelId": channel_id, "transport": channel.transport, "chatType": chat_type }),
        ));
    }
    if channel.state != "active" {
        return Err(refuse(
            "MESSAGE_CHANNEL_UNAVAILABLE",
            "Channel is unavailable",
            json!({ "channelId": channel_id, "state": channel.state }),
        ));
    }
    let crm_message_id = s("crmMessageId");
    if let Some(key) = &crm_message_id {
        let now = Instant::now();
        account
            .crm_ids
            .retain(|_, at| now.duration_since(*at) < REPEAT_WINDOW);
        if account.crm_ids.contains_key(key) {
            return Err(refuse(
                "REPEATED_CRM_MESSAGE_ID",
                "You have already sent message with same crmMessageId",
                json!({ "crmMessageId": key }),
            ));
        }
        if record {
            account.crm_ids.insert(key.clone(), now);
        }
    }
    let chat_id = chat_id
        .or_else(|| s("phone"))
        .or_else(|| s("username"))
        .unwrap_or_default();
    let sent = Sent {
        message_id: uuid::Uuid::new_v4().to_string(),
        channel_id,
        chat_type,
        chat_id,
        text,
        crm_user_id: s("crmUserId"),
        crm_message_id,
        at: now(),
        content_uri: content,
    };
    if record {
        account.sent.push(sent.clone());
    }
    Ok(sent)
}

async fn faults(State(fake): State<Fake>, Json(faults): Json<Vec<Fault>>) -> StatusCode {
    fake.inject(faults);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InboundBody {
    channel_id: String,
    chat_id: String,
    text: String,
    name: Option<String>,
}

async fn inbound(State(fake): State<Fake>, Json(b): Json<InboundBody>) -> Response {
    let name = b.name.unwrap_or_else(|| b.chat_id.clone());
    match fake.client_writes(&b.channel_id, &b.chat_id, &name, &b.text) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "messageId": id }))).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, "CHANNEL_NOT_FOUND", &e, Value::Null),
    }
}

#[derive(Deserialize)]
struct StateBody {
    state: String,
}

async fn channel_state(
    State(fake): State<Fake>,
    Path(id): Path<String>,
    Json(b): Json<StateBody>,
) -> StatusCode {
    if fake.set_channel_state(&id, &b.state) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

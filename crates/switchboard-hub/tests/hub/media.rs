//! Clients' files (#14): fetched by the hub from the provider's links as soon as a message
//! names one, kept, and served only to whoever may see the chat; refused links and files past
//! the limit are said so, not retried for ever.

use crate::common::{self, new_employee, post_webhook, until};
use provider_fake::{FakeChannel, FakeConfig, FakeMedia, RunningFake};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use switchboard_client::HubClient;
use switchboard_core::{MediaState, MessageKind, MessageStatus, Role};
use switchboard_hub::json::{MessageView, NewEmployee};
use switchboard_hub::provider::ProviderConfig;
use switchboard_hub::{start, RunningHub, ServeConfig};

const KEY: &str = "c8cf90444023482f909520d454368d27";

struct T {
    hub: RunningHub,
    fake: RunningFake,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    wa: String,
    /// Anna gets new clients; Boris does not (another seller's clients are not his).
    anna: HubClient,
    anna_token: String,
    boris_token: String,
}

impl T {
    async fn new() -> T {
        let fake = provider_fake::start(
            ([127, 0, 0, 1], 0).into(),
            FakeConfig::new(
                KEY,
                vec![FakeChannel::parse("whatsapp:79990000001:active").expect("channel")],
            ),
        )
        .await
        .expect("fake starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let hub = start(ServeConfig {
            provider: Some(ProviderConfig::new(&fake.url, KEY, Duration::from_secs(2))),
            ..ServeConfig::new(dir.path().to_owned(), ([127, 0, 0, 1], 0).into(), false)
        })
        .await
        .expect("hub starts");
        let http = reqwest::Client::new();
        let admin = common::client(&http, &hub.url, &hub.admin_token);
        until("the provider's channels are read", || async {
            admin.channels().await.is_ok_and(|a| a.len() == 1)
        })
        .await;
        let anna = admin
            .create_employee(&NewEmployee {
                receives_new_clients: true,
                ..new_employee("Anna", Role::Seller)
            })
            .await
            .expect("Anna");
        let boris = admin
            .create_employee(&new_employee("Boris", Role::Seller))
            .await
            .expect("Boris");
        T {
            wa: fake.fake.channels()[0].channel_id.clone(),
            anna: common::client(&http, &hub.url, &anna.token),
            anna_token: anna.token,
            boris_token: boris.token,
            hub,
            fake,
            http,
            _dir: dir,
        }
    }

    /// The message whose text is `text` as Anna sees it, once its file is no longer pending.
    async fn settled(&self, text: &str) -> MessageView {
        let what = format!("the file of {text:?} is fetched");
        let text = text.to_owned();
        self.first(&what, move |m| {
            m.text == text
                && m.media
                    .as_ref()
                    .is_some_and(|f| f.state != MediaState::Pending)
        })
        .await
    }

    /// The first message of Anna's chats that `wanted` accepts, once there is one.
    async fn first(
        &self,
        what: &str,
        wanted: impl Fn(&MessageView) -> bool + Clone + Send + Sync + 'static,
    ) -> MessageView {
        let found = std::sync::Arc::new(std::sync::Mutex::new(None));
        until(what, || {
            let (anna, found, wanted) = (self.anna.clone(), found.clone(), wanted.clone());
            async move {
                let Ok(chats) = anna.chats().await else {
                    return false;
                };
                for chat in chats {
                    let Ok(messages) = anna.chat_messages(&chat.id, None, None).await else {
                        return false;
                    };
                    if let Some(m) = messages.into_iter().find(|m| wanted(m)) {
                        *found.lock().expect("lock") = Some(m);
                        return true;
                    }
                }
                false
            }
        })
        .await;
        let found = found.lock().expect("lock").take();
        found.expect("the message")
    }

    /// Anna's sync from `cursor`, as JSON.
    async fn sync(&self, cursor: i64) -> serde_json::Value {
        self.http
            .get(format!("{}/api/v1/sync?cursor={cursor}", self.hub.url))
            .bearer_auth(&self.anna_token)
            .send()
            .await
            .expect("sync")
            .json()
            .await
            .expect("json")
    }

    async fn get_media(&self, id: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/api/v1/messages/{id}/media", self.hub.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("media")
    }
}

#[tokio::test]
async fn a_clients_files_are_kept_and_served_only_to_whoever_may_see_the_chat() {
    let t = T::new().await;
    for (media, caption) in [
        (FakeMedia::Photo, "photo of the invoice"),
        (FakeMedia::VoiceNote, ""),
        (FakeMedia::Pdf, "the invoice"),
        (FakeMedia::Video, "how it looks"),
        (FakeMedia::Contact, "our buyer"),
    ] {
        t.fake
            .fake
            .client_sends_media(
                &t.wa,
                "79161112233",
                "Ivan",
                media,
                (!caption.is_empty()).then_some(caption),
            )
            .expect("sent");
        let m = t.settled(caption).await;
        let file = m.media.as_ref().expect("a file");
        assert_eq!(file.state, MediaState::Stored, "{m:?}");
        assert_eq!(file.name.as_deref(), Some(media.file_name()));
        assert_eq!(file.size, Some(media.bytes().len() as u64));
        let kind = match media {
            FakeMedia::Photo => MessageKind::Image,
            FakeMedia::VoiceNote => MessageKind::Audio,
            FakeMedia::Pdf => MessageKind::Document,
            FakeMedia::Video => MessageKind::Video,
            FakeMedia::Contact => MessageKind::Vcard,
        };
        assert_eq!(m.kind, kind);
        // Anna: the exact bytes; a PDF is a download, never shown in place.
        let resp = t.get_media(&m.id, &t.anna_token).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let shown = resp.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        let disposition = resp.headers()["content-disposition"]
            .to_str()
            .expect("disposition")
            .to_owned();
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(resp.bytes().await.expect("bytes").as_ref(), media.bytes());
        match media {
            FakeMedia::Pdf => {
                assert_eq!(file.mime.as_deref(), Some("application/pdf"));
                assert_eq!(shown, "application/octet-stream");
                assert!(disposition.starts_with("attachment;"), "{disposition}");
            }
            FakeMedia::Photo => assert_eq!(shown, "image/png"),
            FakeMedia::VoiceNote => {
                assert!(shown.starts_with("audio/"), "{shown}");
                // Read from the file's header: 3 s of 16 kHz samples.
                assert_eq!(file.duration_ms, Some(3000), "{file:?}");
            }
            FakeMedia::Video => assert_eq!(shown, "video/webm"),
            FakeMedia::Contact => {
                assert_eq!(file.mime.as_deref(), Some("text/vcard"));
                assert_eq!(
                    shown, "application/octet-stream",
                    "a card is data, not a page"
                );
                let card = file.contact.as_ref().expect("the card read");
                assert_eq!(card.name.as_deref(), Some("Мария Соколова"));
                assert_eq!(card.organization.as_deref(), Some("ООО «Вектор»"));
                assert_eq!(card.phones, ["+7 916 555-01-23", "+7 495 700-12-34"]);
                assert_eq!(card.emails, ["m.sokolova@vector.example"]);
            }
        }
        if media != FakeMedia::VoiceNote {
            assert_eq!(file.duration_ms, None, "{media:?}");
        }
        if media != FakeMedia::Contact {
            assert_eq!(file.contact, None, "{media:?}");
        }
        // Boris may not see Anna's client: the file does not exist for him; nor for no one.
        assert_eq!(
            t.get_media(&m.id, &t.boris_token).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.get_media(&m.id, &t.hub.admin_token).await.status(),
            StatusCode::FORBIDDEN,
            "the administrator is nobody's employee"
        );
        assert_eq!(
            t.get_media("../hub.db", &t.anna_token).await.status(),
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn a_shared_location_reads_as_its_place_and_is_never_fetched() {
    let t = T::new().await;
    t.fake
        .fake
        .client_shares_location(
            &t.wa,
            "79161112233",
            "Ivan",
            (55.760186, 37.618711),
            Some("Склад на Петровке"),
        )
        .expect("shared");
    let m = t
        .first("the location arrives", |m| m.kind == MessageKind::Geo)
        .await;
    let place = m.place.as_ref().expect("a place");
    assert_eq!((place.lat, place.lon), (55.760186, 37.618711));
    assert_eq!(place.name.as_deref(), Some("Склад на Петровке"));
    // A map link is not a file: nothing was queued to fetch.
    assert_eq!(m.media, None, "{m:?}");
}

/// A tiny HTTP server on `ip` answering every request with `answer` (raw bytes, then what
/// `more` writes until the client hangs up); its address.
async fn raw_server(ip: &str, answer: Vec<u8>, more: Option<Vec<u8>>) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = server.accept().await {
            let (answer, more) = (answer.clone(), more.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                if s.write_all(&answer).await.is_err() {
                    return;
                }
                if let Some(chunk) = more {
                    while s.write_all(&chunk).await.is_ok() {}
                }
            });
        }
    });
    addr
}

/// Links are not trusted: a link to another scheme, to a private address (directly or through
/// a redirect from the provider's own host), or a body past the limit while it streams is
/// refused; a file's type is read from its bytes, not from what it is served as. Each outcome
/// reaches desktops through sync.
#[tokio::test]
async fn links_that_point_elsewhere_or_lie_are_refused() {
    let t = T::new().await;
    // Something only this machine should reach (127.0.0.2: loopback, not the provider's host).
    let secret = raw_server(
        "127.0.0.2",
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 6\r\n\r\nsecret".to_vec(),
        None,
    )
    .await;
    // On the provider's host: a redirect to it, an endless body, HTML said to be a PNG.
    let redirect = raw_server(
        "127.0.0.1",
        format!(
            "HTTP/1.1 302 Found\r\nLocation: http://{secret}/x.png\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
        None,
    )
    .await;
    let mut chunk = format!("{:x}\r\n", 1 << 20).into_bytes();
    chunk.extend(std::iter::repeat_n(0u8, 1 << 20));
    chunk.extend(b"\r\n");
    let endless = raw_server(
        "127.0.0.1",
        b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec(),
        Some(chunk),
    )
    .await;
    let page = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
    let mut lie = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
        page.len()
    )
    .into_bytes();
    lie.extend(page);
    let lie = raw_server("127.0.0.1", lie, None).await;
    let cursor = t.sync(0).await["cursor"].as_i64().expect("cursor");
    let cases = [
        ("scheme", "file:///etc/passwd".to_owned()),
        ("private", format!("http://{secret}/x.png")),
        ("named", format!("http://localhost:{}/x.png", secret.port())),
        ("redirect", format!("http://{redirect}/photo.png")),
        ("endless", format!("http://{endless}/film.mp4")),
        ("lie", format!("http://{lie}/photo.png")),
    ];
    for (text, uri) in &cases {
        let (status, _) = post_webhook(
            &t.http,
            &t.hub,
            &json!({"messages": [{"messageId": text, "channelId": t.wa, "chatType": "whatsapp",
                "chatId": "79161112233", "dateTime": "2026-11-25T10:00:00.000Z", "type": "image",
                "status": "inbound", "text": text, "contentUri": uri}]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    for (text, _) in &cases {
        let m = t.settled(text).await;
        let file = m.media.clone().expect("a file");
        match *text {
            "lie" => {
                assert_eq!(file.state, MediaState::Stored, "{m:?}");
                assert_eq!(
                    file.mime.as_deref(),
                    Some("text/html"),
                    "read from its bytes"
                );
                let resp = t.get_media(&m.id, &t.anna_token).await;
                assert_eq!(resp.headers()["content-type"], "application/octet-stream");
                assert!(resp.headers()["content-disposition"]
                    .to_str()
                    .expect("disposition")
                    .starts_with("attachment;"));
            }
            "endless" => assert_eq!(file.state, MediaState::TooBig, "{m:?}"),
            _ => {
                assert_eq!(file.state, MediaState::Failed, "{text}: {m:?}");
                assert_eq!(
                    t.get_media(&m.id, &t.anna_token).await.status(),
                    StatusCode::NOT_FOUND
                );
            }
        }
    }
    // Nothing half-written is left, and no secret was kept.
    let kept: Vec<_> = std::fs::read_dir(t._dir.path().join("media"))
        .expect("media dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(kept.iter().all(|n| !n.ends_with(".part")), "{kept:?}");
    assert_eq!(kept.len(), 1, "only the HTML page is kept: {kept:?}");
    // Desktops learn each outcome by sync (its own log entry), not only by reading the chat.
    let later = t.sync(cursor).await;
    for (text, _) in &cases {
        let settled = later["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| {
                c["type"] == "message"
                    && c["message"]["text"] == *text
                    && c["message"]["media"]["state"] != "pending"
            });
        assert!(settled, "{text} settled in a sync: {later}");
    }
}

/// A link the provider refuses is `failed` with the reason at once; a file past the limit is
/// `too_big` without being read (its length says so).
#[tokio::test]
async fn a_refused_link_and_a_file_past_the_limit_are_said_so() {
    let t = T::new().await;
    // A server that says its body is 60 MB, and sends none.
    let big = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let big_url = format!("http://{}/huge.mp4", big.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = big.accept().await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 62914560\r\n\r\n")
                .await;
        }
    });
    let missing = format!("{}/_fake/media/nope.png", t.fake.url);
    for (id, uri, text) in [
        ("gone", missing.as_str(), "gone"),
        ("huge", big_url.as_str(), "huge"),
    ] {
        let (status, _) = post_webhook(
            &t.http,
            &t.hub,
            &json!({"messages": [{"messageId": id, "channelId": t.wa, "chatType": "whatsapp",
                "chatId": "79161112233", "dateTime": "2026-11-25T10:00:00.000Z", "type": "video",
                "status": "inbound", "text": text, "contentUri": uri}]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let gone = t.settled("gone").await;
    let file = gone.media.expect("a file");
    assert_eq!(file.state, MediaState::Failed);
    assert!(
        file.error.as_deref().is_some_and(|e| e.contains("404")),
        "{file:?}"
    );
    let huge = t.settled("huge").await;
    let file = huge.media.expect("a file");
    assert_eq!(file.state, MediaState::TooBig);
    assert_eq!(file.size, Some(62_914_560));
    assert_eq!(
        t.get_media(&huge.id, &t.anna_token).await.status(),
        StatusCode::NOT_FOUND
    );
}

// ---------- files employees send (outbound) ----------

/// Waits until message `id` of `chat`, as `who` sees it, has `status`.
async fn reaches(who: &HubClient, chat: &str, id: &str, status: MessageStatus, what: &str) {
    until(what, || async {
        who.chat_messages(chat, None, None)
            .await
            .is_ok_and(|m| m.iter().any(|m| m.id == id && m.status == status))
    })
    .await;
}

impl T {
    /// A client writes to Anna's channel; the chat, once Anna sees it.
    async fn client_chat(&self, phone: &str) -> String {
        self.fake
            .fake
            .client_writes(&self.wa, phone, "Ivan", "hello")
            .expect("client writes");
        let found = std::sync::Arc::new(std::sync::Mutex::new(None));
        until("Anna sees the client's chat", || {
            let (anna, found) = (self.anna.clone(), found.clone());
            async move {
                let chats = anna.chats().await.unwrap_or_default();
                *found.lock().expect("lock") = chats.first().map(|c| c.id.clone());
                !chats.is_empty()
            }
        })
        .await;
        let chat = found.lock().expect("lock").take();
        chat.expect("the chat")
    }

    /// `POST /api/v1/chats/{chat}/files` as Anna, raw: the status and the answer.
    async fn upload(
        &self,
        chat: &str,
        key: &str,
        name: Option<&str>,
        bytes: Vec<u8>,
        chunked: bool,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = self
            .http
            .post(format!("{}/api/v1/chats/{chat}/files", self.hub.url))
            .bearer_auth(&self.anna_token)
            .header("idempotency-key", key);
        if let Some(name) = name {
            req = req.header("x-file-name", name);
        }
        req = if chunked {
            // No length said: the hub counts the bytes as they come.
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
            req.body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
        } else {
            req.body(bytes)
        };
        let resp = req.send().await.expect("upload");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// Anna sends a PDF: the hub keeps it, the provider downloads exactly its bytes once from a
/// public link (no token), the message walks to `read`, and the provider's echo of it does
/// not make a second message. A repeat of the upload with the same key sends nothing more.
#[tokio::test]
async fn a_file_sent_is_downloaded_once_by_the_provider_and_reaches_read() {
    let t = T::new().await;
    let chat = t.client_chat("79161112233").await;
    let bytes = FakeMedia::Pdf.bytes().to_vec();
    let send = || {
        t.anna.send_file(
            &chat,
            "file-1",
            "счёт №42.pdf",
            "application/pdf",
            bytes.len() as u64,
            bytes.clone().into(),
        )
    };
    let accepted = send().await.expect("sent");
    reaches(
        &t.anna,
        &chat,
        &accepted.message_id,
        MessageStatus::Read,
        "the file is read by the client",
    )
    .await;
    let fetched = t.fake.fake.fetched();
    assert_eq!(fetched.len(), 1, "downloaded once");
    assert_eq!(fetched[0].bytes, bytes, "exactly the bytes sent");
    assert_eq!(fetched[0].content_type, "application/pdf");
    let link = fetched[0].uri.clone();
    assert!(
        link.starts_with(&format!("{}/public/files/", t.hub.url)),
        "{link}"
    );
    let sent = t.fake.fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "", "a file goes without text");
    // The same upload again (a desktop that never saw the answer): the same message, no send.
    let again = send().await.expect("repeat");
    assert_eq!(again.message_id, accepted.message_id);
    let messages = t
        .anna
        .chat_messages(&chat, None, None)
        .await
        .expect("messages");
    assert_eq!(
        messages.len(),
        2,
        "the client's text and one file: {messages:?}"
    );
    let m = messages
        .iter()
        .find(|m| m.id == accepted.message_id)
        .expect("ours");
    assert_eq!(m.kind, MessageKind::Document);
    let file = m.media.as_ref().expect("a file");
    assert_eq!(
        (file.state, file.name.as_deref(), file.size),
        (
            MediaState::Stored,
            Some("счёт №42.pdf"),
            Some(bytes.len() as u64)
        )
    );
    // Desktops fetch it as any kept file; Boris may not.
    let resp = t.get_media(&m.id, &t.anna_token).await;
    assert_eq!(
        resp.bytes().await.expect("bytes").as_ref(),
        bytes.as_slice()
    );
    assert_eq!(
        t.get_media(&m.id, &t.boris_token).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.fake.fake.sent().len(), 1);
    assert_eq!(t.fake.fake.fetched().len(), 1);
    // The link is the credential: any other token of the same shape finds nothing.
    let forged = format!("{}/public/files/{}", t.hub.url, "0".repeat(64));
    for url in [forged, format!("{}/public/files/..%2Fhub.db", t.hub.url)] {
        let r = t.http.get(&url).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{url}");
    }
    let r = t.http.get(&link).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::OK, "valid until it expires");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

/// Too big, empty, a page or a program, no name or key: refused with the reason before anything
/// is kept or queued, whether the length is said up front or only counted.
#[tokio::test]
async fn files_the_channel_cannot_take_are_refused_before_anything_is_kept() {
    let t = T::new().await;
    let chat = t.client_chat("79161112233").await;
    let over = vec![b'%'; switchboard_core::SEND_MAX_BYTES as usize + 1];
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    exe.extend(vec![0u8; 512]);
    let page = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();
    /// key, name, bytes, sent without a length, the answer's status and code.
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, bool, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            "said",
            Some("big.pdf"),
            over.clone(),
            false,
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_big",
        ),
        (
            "counted",
            Some("big.pdf"),
            over,
            true,
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_big",
        ),
        (
            "empty",
            Some("empty.pdf"),
            Vec::new(),
            false,
            StatusCode::BAD_REQUEST,
            "file_empty",
        ),
        (
            "exe",
            Some("invoice.pdf"),
            exe,
            false,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_wrong_type",
        ),
        (
            "page",
            Some("page.html"),
            page,
            false,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "file_wrong_type",
        ),
        (
            "unnamed",
            None,
            b"%PDF-1.4".to_vec(),
            false,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
    ];
    for (key, name, bytes, chunked, status, code) in cases {
        let (s, v) = t.upload(&chat, key, name, bytes, chunked).await;
        assert_eq!(s, status, "{key}: {v}");
        assert_eq!(v["error"]["code"], code, "{key}: {v}");
    }
    // Nothing kept, nothing half-written, nothing queued or sent.
    let kept: Vec<_> = std::fs::read_dir(t._dir.path().join("media"))
        .expect("media dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(kept.is_empty(), "{kept:?}");
    let messages = t
        .anna
        .chat_messages(&chat, None, None)
        .await
        .expect("messages");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(t.fake.fake.fetched().is_empty());
    // Boris may not send into Anna's chat: it does not exist for him. The refusal comes after
    // his body is read, so he gets it (not a broken connection to try again for ever).
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(4 * 1024 * 1024, b'x');
    let r = t
        .http
        .post(format!("{}/api/v1/chats/{chat}/files", t.hub.url))
        .bearer_auth(&t.boris_token)
        .header("idempotency-key", "b")
        .header("x-file-name", "a.pdf")
        .body(pdf.clone())
        .send()
        .await
        .expect("an answer, not a broken connection");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The same for a repeat of a key already sent: the answer is the message it made.
    let (s, first) = t
        .upload(&chat, "big-1", Some("a.pdf"), pdf.clone(), false)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{first}");
    for chunked in [false, true] {
        let (s, again) = t
            .upload(&chat, "big-1", Some("a.pdf"), pdf.clone(), chunked)
            .await;
        assert_eq!(
            (s, &again["message_id"]),
            (StatusCode::ACCEPTED, &first["message_id"])
        );
    }
}

/// The provider's own refusal of a file (here: it cannot download it, as when the public URL
/// is wrong) makes the message `failed` with the provider's code, and Retry sends it again.
#[tokio::test]
async fn a_file_the_provider_cannot_download_fails_with_its_reason() {
    let t = T::new().await;
    let chat = t.client_chat("79161112233").await;
    let bytes = FakeMedia::Photo.bytes().to_vec();
    let accepted = t
        .anna
        .send_file(
            &chat,
            "photo-1",
            "photo.png",
            "image/png",
            bytes.len() as u64,
            bytes.into(),
        )
        .await
        .expect("sent");
    // Remove the kept file under the hub: the public link answers 404 to the provider.
    let kept = t._dir.path().join("media").join(&accepted.message_id);
    let held = std::fs::read(&kept).expect("kept");
    std::fs::remove_file(&kept).expect("remove");
    let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
    until("the send fails", || async {
        let m = t
            .anna
            .chat_messages(&chat, None, None)
            .await
            .unwrap_or_default();
        let m = m
            .into_iter()
            .find(|m| m.id == accepted.message_id && m.status == MessageStatus::Failed);
        let done = m.is_some();
        *failed.lock().expect("lock") = m;
        done
    })
    .await;
    let m = failed.lock().expect("lock").take().expect("failed");
    assert!(
        m.error
            .as_deref()
            .is_some_and(|e| e.contains("MESSAGE_DOWNLOAD_CONTENT_ERROR")),
        "{m:?}"
    );
    std::fs::write(&kept, held).expect("restore");
    t.anna
        .retry_message(&accepted.message_id)
        .await
        .expect("retry");
    reaches(
        &t.anna,
        &chat,
        &accepted.message_id,
        MessageStatus::Read,
        "the file goes after Retry",
    )
    .await;
    assert_eq!(t.fake.fake.sent().len(), 1);
}

/// The hub binary accepts a file, the provider downloads it and takes the send, and the hub
/// is killed (SIGKILL) before it hears back; started again on the same directory (at another
/// address, so the link it made is dead), it settles the send without a second one.
#[tokio::test]
async fn a_hub_killed_between_upload_and_send_sends_the_file_once() {
    use crate::common::HubProcess;
    let fake = provider_fake::start(
        ([127, 0, 0, 1], 0).into(),
        FakeConfig {
            hang: Duration::from_secs(30),
            ..FakeConfig::new(
                KEY,
                vec![FakeChannel::parse("whatsapp:79990000001:active").expect("channel")],
            )
        },
    )
    .await
    .expect("fake starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let http = reqwest::Client::new();
    let (hub, token) = HubProcess::with_seller(dir.path(), &fake.url, KEY).await;
    let wa = fake.fake.channels()[0].channel_id.clone();
    fake.fake
        .client_writes(&wa, "79161112233", "Ivan", "hello")
        .expect("client writes");
    let anna = common::client(&http, &hub.url, &token);
    until("Anna sees the chat", || async {
        anna.chats().await.is_ok_and(|c| c.len() == 1)
    })
    .await;
    let chat = anna.chats().await.expect("chats")[0].id.clone();
    fake.fake.inject([provider_fake::Fault::HangAfterAccept]);
    let bytes = FakeMedia::VoiceNote.bytes().to_vec();
    let accepted = anna
        .send_file(
            &chat,
            "voice-1",
            "voice.ogg",
            "audio/x-wav",
            bytes.len() as u64,
            bytes.clone().into(),
        )
        .await
        .expect("sent");
    until("the provider takes the send", || async {
        !fake.fake.sent().is_empty()
    })
    .await;
    hub.kill().await;
    let hub = HubProcess::again(dir.path(), &fake.url, KEY).await;
    let anna = common::client(&http, &hub.url, &token);
    reaches(
        &anna,
        &chat,
        &accepted.message_id,
        MessageStatus::Read,
        "the file is read after the restart",
    )
    .await;
    assert_eq!(fake.fake.sent().len(), 1, "sent once");
    let fetched = fake.fake.fetched();
    assert_eq!(fetched.len(), 1, "downloaded once");
    assert_eq!(fetched[0].bytes, bytes);
    let messages = anna
        .chat_messages(&chat, None, None)
        .await
        .expect("messages");
    assert_eq!(messages.len(), 2, "{messages:?}");
    hub.kill().await;
}

//! Clients' files (#14): fetched by the hub from the provider's links as soon as a message
//! names one, kept, and served only to whoever may see the chat; refused links and files past
//! the limit are said so, not retried for ever.

use crate::common::{self, new_employee, post_webhook, until};
use provider_fake::{FakeChannel, FakeConfig, FakeMedia, RunningFake};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use switchboard_client::HubClient;
use switchboard_core::{MediaState, MessageKind, Role};
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
        let found = std::sync::Arc::new(std::sync::Mutex::new(None));
        until(&format!("the file of {text:?} is fetched"), || {
            let anna = self.anna.clone();
            let found = found.clone();
            async move {
                let Ok(chats) = anna.chats().await else {
                    return false;
                };
                for chat in chats {
                    let Ok(messages) = anna.chat_messages(&chat.id, None, None).await else {
                        return false;
                    };
                    if let Some(m) = messages.into_iter().find(|m| {
                        m.text == text
                            && m.media
                                .as_ref()
                                .is_some_and(|f| f.state != MediaState::Pending)
                    }) {
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
            FakeMedia::VoiceNote => assert!(shown.starts_with("audio/"), "{shown}"),
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

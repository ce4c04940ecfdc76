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

//! The send path against the provider's contract fake, over real HTTP: exactly once under
//! injected failures (5xx, a timeout after the provider accepted, a 429 storm, the hub
//! killed between accept and ack), statuses and echoes, order within a chat, refusals.

use crate::common;
use common::{assert_refused, new_employee, reply_in, until, write_first, HubProcess};

use provider_fake::{FakeChannel, FakeConfig, Fault, RunningFake};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use switchboard_client::HubClient;
use switchboard_core::{ChannelState, EntityKind, MessageStatus, NoChannelReason, Role};
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
    tg: String,
    /// The administrator's typed client.
    admin: HubClient,
    /// Anna's (a seller who receives new clients, her priority channel Telegram).
    seller: HubClient,
    seller_id: String,
}

fn channels() -> Vec<FakeChannel> {
    ["whatsapp:79990000001:active", "telegram:demo_bot:active"]
        .iter()
        .map(|s| FakeChannel::parse(s).expect("channel"))
        .collect()
}

async fn fake(hang: Duration) -> RunningFake {
    let mut config = FakeConfig::new(KEY, channels());
    config.status_step = Duration::from_millis(20);
    config.hang = hang;
    provider_fake::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("fake starts")
}

fn provider(fake: &RunningFake) -> ProviderConfig {
    ProviderConfig::new(&fake.url, KEY, Duration::from_millis(700))
}

impl T {
    async fn new() -> T {
        let fake = fake(Duration::from_secs(3)).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let hub = start(ServeConfig {
            provider: Some(provider(&fake)),
            ..ServeConfig::new(dir.path().to_owned(), ([127, 0, 0, 1], 0).into(), false)
        })
        .await
        .expect("hub starts");
        let http = reqwest::Client::new();
        let admin = common::client(&http, &hub.url, &hub.admin_token);
        // The hub subscribes and reads the provider's channels on its own.
        until("the provider's channels are read", || async {
            admin.channels().await.is_ok_and(|a| a.len() == 2)
        })
        .await;
        let (wa, tg) = (
            fake.fake.channels()[0].channel_id.clone(),
            fake.fake.channels()[1].channel_id.clone(),
        );
        let anna = admin
            .create_employee(&NewEmployee {
                receives_new_clients: true,
                priority_channel_id: Some(tg.clone()),
                ..new_employee("Anna", Role::Seller)
            })
            .await
            .expect("employee");
        T {
            seller: common::client(&http, &hub.url, &anna.token),
            seller_id: anna.id,
            admin,
            hub,
            http,
            _dir: dir,
            wa,
            tg,
            fake,
        }
    }

    /// The typed client, calling as `token`.
    fn client(&self, token: &str) -> HubClient {
        common::client(&self.http, &self.hub.url, token)
    }

    /// Writes first on WhatsApp to a number typed with 8; returns (message, chat).
    async fn send_first(&self, text: &str, key: &str) -> (String, String) {
        let v = common::send(
            &self.seller,
            &write_first(&self.wa, "8 (916) 456-98-12", text, key),
        )
        .await;
        (v.message_id, v.chat)
    }

    async fn reply(&self, chat: &str, text: &str, key: &str) -> String {
        common::reply(&self.seller, chat, text, key).await
    }

    async fn messages(&self, chat: &str) -> Vec<MessageView> {
        self.seller
            .chat_messages(chat, None, None)
            .await
            .expect("messages")
    }

    async fn message(&self, chat: &str, id: &str) -> Option<MessageView> {
        let all = self.messages(chat).await;
        all.into_iter().find(|m| m.id == id)
    }

    async fn wait_status(&self, chat: &str, id: &str, status: MessageStatus) -> MessageView {
        until(&format!("message {id} reaches {status:?}"), || async {
            self.message(chat, id)
                .await
                .is_some_and(|m| m.status == status)
        })
        .await;
        self.message(chat, id).await.expect("the message")
    }

    fn sent_with_key(&self, key: &str) -> usize {
        self.fake
            .fake
            .sent()
            .iter()
            .filter(|s| s.crm_message_id.as_deref() == Some(key))
            .count()
    }
}

#[tokio::test]
async fn a_first_message_reaches_the_provider_once_and_walks_to_read() {
    let t = T::new().await;
    let (id, chat) = t.send_first("Здравствуйте!", "k-1").await;
    // The same key again (a desktop retrying) is the same message.
    let (again, _) = t.send_first("Здравствуйте!", "k-1").await;
    assert_eq!(again, id);
    let m = t.wait_status(&chat, &id, MessageStatus::Read).await;
    assert_eq!(m.error, None);
    let sent = t.fake.fake.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].chat_id, "79164569812");
    assert_eq!(sent[0].chat_type, "whatsapp");
    assert_eq!(sent[0].channel_id, t.wa);
    assert_eq!(sent[0].crm_message_id.as_deref(), Some("k-1"));
    assert_eq!(sent[0].crm_user_id.as_deref(), Some(t.seller_id.as_str()));
    // The provider's echo of our own send is recognised, not shown twice.
    let all = t.messages(&chat).await;
    assert_eq!(all.len(), 1, "{all:?}");
}

#[tokio::test]
async fn server_errors_and_a_429_storm_are_retried_into_one_delivery() {
    let t = T::new().await;
    t.fake.fake.inject([Fault::ServerError, Fault::ServerError]);
    let (id, chat) = t.send_first("after two 500s", "k-5xx").await;
    t.wait_status(&chat, &id, MessageStatus::Read).await;
    assert_eq!(t.sent_with_key("k-5xx"), 1);

    t.fake.fake.inject([Fault::RateLimited; 4]);
    let id = t.reply(&chat, "after a 429 storm", "k-429").await;
    t.wait_status(&chat, &id, MessageStatus::Read).await;
    assert_eq!(t.sent_with_key("k-429"), 1);
}

#[tokio::test]
async fn a_timeout_after_the_provider_accepted_does_not_send_twice() {
    let t = T::new().await;
    t.fake.fake.inject([Fault::HangAfterAccept]);
    let (id, chat) = t.send_first("accepted, answer lost", "k-hang").await;
    let m = t.wait_status(&chat, &id, MessageStatus::Read).await;
    assert_eq!(m.error, None);
    assert_eq!(t.sent_with_key("k-hang"), 1, "{:?}", t.fake.fake.sent());
    let all = t.messages(&chat).await;
    assert_eq!(all.len(), 1, "{all:?}");
}

#[tokio::test]
async fn messages_of_one_chat_reach_the_provider_in_order() {
    let t = T::new().await;
    // The first send fails twice before it gets through; the others must wait for it.
    t.fake.fake.inject([Fault::ServerError, Fault::ServerError]);
    let (first, chat) = t.send_first("1", "order-1").await;
    let mut ids = vec![first];
    for n in 2..=6 {
        ids.push(t.reply(&chat, &n.to_string(), &format!("order-{n}")).await);
    }
    for id in &ids {
        t.wait_status(&chat, id, MessageStatus::Read).await;
    }
    let texts: Vec<String> = t.fake.fake.sent().into_iter().map(|s| s.text).collect();
    assert_eq!(texts, ["1", "2", "3", "4", "5", "6"]);
}

#[tokio::test]
async fn a_refusal_fails_visibly_with_the_reason_and_retry_is_only_for_failed() {
    let t = T::new().await;
    // Telegram takes at most 4096 characters: the provider refuses, the message shows why.
    let v = common::send(
        &t.seller,
        &write_first(&t.tg, "+79164569812", &"я".repeat(5000), "long"),
    )
    .await;
    let (id, chat) = (v.message_id.as_str(), v.chat.as_str());
    let m = t.wait_status(chat, id, MessageStatus::Failed).await;
    assert!(
        m.error
            .as_deref()
            .is_some_and(|e| e.contains("MESSAGES_TOO_LONG_TELEGRAM")),
        "{m:?}"
    );
    assert_eq!(t.fake.fake.sent().len(), 0);
    // Retry puts it back on the outbox (and it fails again the same way).
    let v = t.seller.retry_message(id).await.expect("retry");
    assert_eq!(v.status, MessageStatus::Queued);
    t.wait_status(chat, id, MessageStatus::Failed).await;

    // A delivered message cannot be retried.
    let ok = t.reply(chat, "short", "short").await;
    t.wait_status(chat, &ok, MessageStatus::Read).await;
    assert_refused(
        t.seller.retry_message(&ok).await,
        StatusCode::CONFLICT,
        "not_failed",
    );
}

#[tokio::test]
async fn statuses_never_go_backwards_and_errors_carry_their_code() {
    let t = T::new().await;
    let (id, chat) = t.send_first("hello", "k-st").await;
    t.wait_status(&chat, &id, MessageStatus::Read).await;
    let provider_id = t.fake.fake.sent()[0].message_id.clone();
    let hook = common::webhook_url(&t.hub);
    let post = |body: Value| {
        let http = t.http.clone();
        let hook = hook.clone();
        async move {
            http.post(&hook)
                .json(&body)
                .send()
                .await
                .expect("post")
                .status()
        }
    };
    // A late `delivered` after `read` changes nothing.
    let s = post(json!({"statuses": [{"messageId": provider_id, "timestamp": "2025-02-05T06:01:07.499Z", "status": "delivered"}]})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        t.message(&chat, &id).await.map(|m| m.status),
        Some(MessageStatus::Read)
    );

    let id2 = t.reply(&chat, "second", "k-st2").await;
    t.wait_status(&chat, &id2, MessageStatus::Read).await;
    // An error from the messenger (e.g. after a delivered) is shown with its code — but not
    // over a read message, which did arrive.
    let p2 = t.fake.fake.sent()[1].message_id.clone();
    post(json!({"statuses": [{"messageId": p2, "timestamp": "2025-02-05T06:01:07.499Z", "status": "error", "error": {"error": "BAD_CONTACT", "description": "no account"}}]})).await;
    assert_eq!(
        t.message(&chat, &id2).await.map(|m| m.status),
        Some(MessageStatus::Read)
    );
}

#[tokio::test]
async fn channel_states_follow_the_provider() {
    let t = T::new().await;
    assert!(t.fake.fake.set_channel_state(&t.tg, "unauthorized"));
    until("the channelsUpdates webhook is applied", || async {
        t.admin.channels().await.is_ok_and(|a| {
            a.iter()
                .any(|c| c.id == t.tg && c.state == ChannelState::Unauthorized)
        })
    })
    .await;
    // The seller's priority channel is now unusable: nothing is preselected, and it says why.
    let v = t
        .seller
        .compose_phone("89164569812")
        .await
        .expect("compose");
    assert_eq!(v.channel_id, None);
    assert_eq!(v.reason, Some(NoChannelReason::Unauthorized));
    assert_eq!(v.display, "+7 916 456-98-12");
}

/// The hub binary, killed with SIGKILL while the provider holds an accepted send, then
/// started again on the same directory: the message is delivered once.
#[tokio::test]
async fn a_hub_killed_between_accept_and_ack_delivers_once_after_restart() {
    let fake = fake(Duration::from_secs(30)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let http = reqwest::Client::new();
    let (hub, token) = HubProcess::with_seller(dir.path(), &fake.url, KEY).await;
    let wa = fake.fake.channels()[0].channel_id.clone();
    fake.fake.inject([Fault::HangAfterAccept]);
    let r = common::client(&http, &hub.url, &token)
        .send_message(&write_first(
            &wa,
            "+79164569812",
            "survives a crash",
            "crash-1",
        ))
        .await
        .expect("send");
    let (id, chat) = (r.message_id, r.chat);
    until("the provider accepts the send", || async {
        !fake.fake.sent().is_empty()
    })
    .await;
    hub.kill().await;
    let hub = HubProcess::again(dir.path(), &fake.url, KEY).await;
    let anna = common::client(&http, &hub.url, &token);
    until("the message is read after the restart", || async {
        anna.chat_messages(&chat, None, None)
            .await
            .is_ok_and(|a| a.len() == 1 && a[0].id == id && a[0].status == MessageStatus::Read)
    })
    .await;
    let sent: Vec<_> = fake.fake.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    hub.kill().await;
}

/// A seller who does not receive new clients writes first to a number the CRM does not know:
/// the client becomes a lead of theirs, so the chat they started stays theirs (and visible).
#[tokio::test]
async fn writing_first_to_an_unknown_number_makes_the_writer_responsible() {
    let t = T::new().await;
    let v = t
        .admin
        .create_employee(&new_employee("Boris", Role::Seller))
        .await
        .expect("employee");
    let (boris, boris_id) = (t.client(&v.token), v.id);
    let chat = common::send(
        &boris,
        &write_first(&t.wa, "+7 903 123-45-67", "Добрый день", "b-1"),
    )
    .await
    .chat;
    let chats = boris.chats().await.expect("chats");
    let row = chats
        .iter()
        .find(|c| c.id == chat)
        .expect("the writer sees the chat");
    assert_eq!(row.responsible_id.as_deref(), Some(boris_id.as_str()));
    assert_eq!(row.title, "+7 903 123-45-67");
    assert_eq!(row.crm.first().map(|r| r.kind), Some(EntityKind::Lead));
    // A reply in it goes through.
    boris
        .send_message(&reply_in(&chat, "ещё", "b-2"))
        .await
        .expect("reply");
    until("both reach the provider", || async {
        t.fake.fake.sent().len() == 2
    })
    .await;
}

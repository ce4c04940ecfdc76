//! The desktop's sync client against a real hub on loopback: live changes land in the local
//! store, notifications arrive, and a dropped link comes back and catches up.

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_desktop::local::LocalStore;
use switchboard_desktop::sync::{SyncClient, SyncObserver};
use switchboard_desktop::vm::ChatFilter;
use switchboard_hub::json::NotifyEvent;

#[derive(Default)]
struct Seen {
    changes: Mutex<u32>,
    online: Mutex<Vec<bool>>,
    notified: Mutex<Vec<NotifyEvent>>,
}

impl SyncObserver for Seen {
    fn changed(&self) {
        *self.changes.lock().expect("lock") += 1;
    }
    fn online(&self, online: bool) {
        self.online.lock().expect("lock").push(online);
    }
    fn notify(&self, event: NotifyEvent) {
        self.notified.lock().expect("lock").push(event);
    }
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn post(http: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

/// A hub with a WhatsApp sandbox channel and a seller, and an empty local store.
struct World {
    hub: switchboard_hub::RunningHub,
    http: reqwest::Client,
    channel: Value,
    seller: Value,
    store: Arc<LocalStore>,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl World {
    async fn new() -> World {
        let hub_dir = tempfile::tempdir().expect("tempdir");
        let hub = switchboard_hub::start(switchboard_hub::ServeConfig::new(
            hub_dir.path().to_owned(),
            ([127, 0, 0, 1], 0).into(),
            false,
        ))
        .await
        .expect("hub");
        let http = reqwest::Client::new();
        let admin = |path: &str, body: Value| {
            post(&http, format!("{}{path}", hub.url), &hub.admin_token, body)
        };
        let channel = admin(
            "/api/v1/channels",
            json!({"transport": "whatsapp", "name": "WA"}),
        )
        .await;
        let seller = admin(
            "/api/v1/employees",
            json!({"name": "S", "role": "seller", "receives_new_clients": true}),
        )
        .await;
        let local_dir = tempfile::tempdir().expect("tempdir");
        let store =
            Arc::new(LocalStore::open(&local_dir.path().join("local.db")).expect("local store"));
        World {
            hub,
            http,
            channel,
            seller,
            store,
            _dirs: (hub_dir, local_dir),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_changes_land_in_the_local_store_and_notify() {
    let w = World::new().await;
    let (hub, http, ch, emp, store) = (&w.hub, &w.http, &w.channel, &w.seller, w.store.clone());
    let client = SyncClient {
        http: http.clone(),
        hub_url: hub.url.clone(),
        token: emp["token"].as_str().expect("token").to_owned(),
        store: store.clone(),
        flushing: Default::default(),
    };
    let seen = Arc::new(Seen::default());
    let task = tokio::spawn(client.run(seen.clone()));
    until("online", || {
        seen.online.lock().expect("lock").contains(&true)
    })
    .await;
    until("who I am", || store.me().ok().flatten().is_some()).await;

    let webhook = format!("{}/webhooks/provider/{}", hub.url, hub.hub.ingress_secret());
    let body = json!({"messages": [{"messageId": "x1", "channelId": ch["id"], "chatType": "whatsapp", "chatId": "79164569812",
        "dateTime": "2026-11-25T10:00:00Z", "status": "inbound", "text": "hello", "contact": {"name": "Irina"}}]});
    assert!(http
        .post(&webhook)
        .json(&body)
        .send()
        .await
        .expect("webhook")
        .status()
        .is_success());
    until("the chat in the local store", || {
        store
            .chat_list(ChatFilter::Mine)
            .map(|l| l.chats.len() == 1)
            .unwrap_or(false)
    })
    .await;
    let list = store.chat_list(ChatFilter::All).expect("list");
    assert_eq!(list.chats[0].title, "Irina");
    assert_eq!((list.counters.red, list.counters.grey), (1, 0));
    assert_eq!(
        store.messages(&list.chats[0].id).expect("messages").len(),
        1
    );
    until("the notification", || {
        !seen.notified.lock().expect("lock").is_empty()
    })
    .await;
    assert_eq!(seen.notified.lock().expect("lock")[0].text, "hello");
    task.abort();
}

/// Messages written while the hub is unreachable wait in the local outbox, go once when it is
/// back (a resend after a crash is the same message), and a refusal is kept with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_waits_for_the_hub_and_sends_once() {
    use switchboard_desktop::local::OutboxItem;
    let w = World::new().await;
    let (hub, http, ch, emp, store) = (&w.hub, &w.http, &w.channel, &w.seller, w.store.clone());
    let item = |key: &str, channel: &str| OutboxItem {
        key: key.into(),
        chat: None,
        channel_id: Some(channel.into()),
        phone: Some("+79164569812".into()),
        display: Some("+7 916 456-98-12".into()),
        text: format!("text of {key}"),
        created_at: "2026-11-25T10:00:00.000Z".into(),
        error: None,
    };
    let channel = ch["id"].as_str().expect("id");
    store.enqueue(&item("k-ok", channel)).expect("enqueue");
    store
        .enqueue(&item("k-bad", "no-such-channel"))
        .expect("enqueue");
    let seen = Seen::default();
    let token = emp["token"].as_str().expect("token").to_owned();

    // Nobody listens on port 9 of loopback: the hub is "down".
    let offline = SyncClient {
        http: http.clone(),
        hub_url: "http://127.0.0.1:9".into(),
        token: token.clone(),
        store: store.clone(),
        flushing: Default::default(),
    };
    assert!(offline.flush_outbox(&seen).await.is_err());
    assert_eq!(store.outbox_len().expect("len"), 2);
    assert_eq!(store.pending_first().expect("pending").len(), 2);

    let online = SyncClient {
        hub_url: hub.url.clone(),
        ..offline
    };
    let taken = online.flush_outbox(&seen).await.expect("flush");
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].0, "k-ok");
    let chat = taken[0].1.clone();
    // The refused one stays, with the hub's reason, and is not sent again by itself.
    let pending = store.pending_first().expect("pending");
    assert_eq!(pending.len(), 1);
    assert!(
        pending[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("channel_id")),
        "{pending:?}"
    );
    assert!(online.flush_outbox(&seen).await.expect("flush").is_empty());

    // A crash after the hub took it but before the outbox forgot it: the resend is the same message.
    store
        .enqueue(&item("k-ok", channel))
        .expect("enqueue again");
    online.flush_outbox(&seen).await.expect("flush");
    let messages: Value = http
        .get(format!("{}/api/v1/chats/{chat}/messages", hub.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("messages")
        .json()
        .await
        .expect("json");
    assert_eq!(messages.as_array().map(Vec::len), Some(1), "{messages}");
}

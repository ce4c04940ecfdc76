//! The desktop's sync client against a real hub on loopback: live changes land in the local
//! store, notifications arrive, and a dropped link comes back and catches up; a token the hub
//! refuses ends the session for good and keeps the unsent messages; refusals keep their code.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_client::HubClient;
use switchboard_desktop::local::{LocalStore, OutboxItem};
use switchboard_desktop::sync::{SyncClient, SyncError, SyncObserver};
use switchboard_desktop::vm::ChatFilter;
use switchboard_wire::{NotifyEvent, SyncProgress, SyncResponse};

#[derive(Default)]
struct Seen {
    changes: Mutex<u32>,
    online: Mutex<Vec<bool>>,
    notified: Mutex<Vec<NotifyEvent>>,
    signed_out: Mutex<u32>,
    uploads: Mutex<Vec<(String, u64, u64)>>,
}

impl Seen {
    fn signed_out(&self) -> u32 {
        *self.signed_out.lock().expect("lock")
    }
    fn was_online(&self) -> bool {
        self.online.lock().expect("lock").contains(&true)
    }
}

impl SyncObserver for Seen {
    fn changed(&self, _: &switchboard_desktop::vm::StoreChange) {
        *self.changes.lock().expect("lock") += 1;
    }
    fn online(&self, online: bool) {
        self.online.lock().expect("lock").push(online);
    }
    fn notify(&self, event: NotifyEvent) {
        self.notified.lock().expect("lock").push(event);
    }
    fn signed_out(&self) {
        *self.signed_out.lock().expect("lock") += 1;
    }
    fn uploading(&self, key: &str, sent: u64, total: u64) {
        self.uploads
            .lock()
            .expect("lock")
            .push((key.to_owned(), sent, total));
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
    call(http, reqwest::Method::POST, url, token, Some(body)).await
}

/// A call that must succeed; its JSON answer (null for none).
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method.clone(), &url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    assert!(
        resp.status().is_success(),
        "{method} {url}: {}",
        resp.status()
    );
    resp.json().await.unwrap_or(Value::Null)
}

/// Waits (bounded) for the sync loop to end by itself.
async fn ends(task: tokio::task::JoinHandle<()>) {
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the sync loop should stop by itself")
        .expect("the sync loop panicked");
}

fn outbox_item(key: &str, channel: &str, phone: &str) -> OutboxItem {
    OutboxItem {
        key: key.into(),
        chat: None,
        channel_id: Some(channel.into()),
        phone: Some(phone.into()),
        display: Some(phone.into()),
        text: format!("text of {key}"),
        created_at: "2026-11-25T10:00:00.000Z".into(),
        error: None,
        error_code: None,
        error_owner: None,
        file: None,
    }
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

    fn client(&self, token: &str) -> SyncClient {
        SyncClient::new(
            HubClient::new(self.http.clone(), &self.hub.url, token),
            self.store.clone(),
        )
    }

    /// Another sign-in for `employee`: a token the administrator issues, and its client.
    async fn sign_in(&self, employee: &str) -> SyncClient {
        let issued = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/employees/{employee}/tokens"),
                None,
            )
            .await;
        self.client(issued["token"].as_str().expect("token"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub.url)
    }

    /// A call as the hub's administrator.
    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        call(
            &self.http,
            method,
            self.url(path),
            &self.hub.admin_token,
            body,
        )
        .await
    }

    /// A new employee: (id, token).
    async fn employee(
        &self,
        name: &str,
        role: &str,
        receives_new_clients: bool,
    ) -> (String, String) {
        let e = self
            .admin(
                reqwest::Method::POST,
                "/api/v1/employees",
                Some(json!({"name": name, "role": role, "receives_new_clients": receives_new_clients})),
            )
            .await;
        let id = e["id"].as_str().expect("id").to_owned();
        (id, e["token"].as_str().expect("token").to_owned())
    }

    /// `n` clients write, then the seller's desktop syncs the first page of its snapshot.
    async fn first_page_of(&self, n: usize) -> (SyncClient, Seen) {
        for i in 0..n {
            self.client_writes(&format!("p{i}"), &format!("7916{i:07}"), "hello")
                .await;
        }
        let client = self.client(self.seller["token"].as_str().expect("token"));
        let seen = Seen::default();
        client.sync_now(&seen).await.expect("first page");
        (client, seen)
    }

    /// A client writes to the workspace's channel from `phone` (digits).
    async fn client_writes(&self, message_id: &str, phone: &str, text: &str) {
        let webhook = self.url(&format!(
            "/webhooks/provider/{}",
            self.hub.hub.ingress_secret()
        ));
        let body = json!({"messages": [{"messageId": message_id, "channelId": self.channel["id"], "chatType": "whatsapp",
            "chatId": phone, "dateTime": "2026-11-25T10:00:00Z", "status": "inbound", "text": text}]});
        let resp = self
            .http
            .post(&webhook)
            .json(&body)
            .send()
            .await
            .expect("webhook");
        assert!(resp.status().is_success(), "{}", resp.status());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_changes_land_in_the_local_store_and_notify() {
    let w = World::new().await;
    let (hub, http, ch, emp, store) = (&w.hub, &w.http, &w.channel, &w.seller, w.store.clone());
    let client = SyncClient::new(
        HubClient::new(
            http.clone(),
            &hub.url,
            emp["token"].as_str().expect("token"),
        ),
        store.clone(),
    );
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
            .chat_list(ChatFilter::Mine, 0, 500)
            .map(|l| l.chats.len() == 1)
            .unwrap_or(false)
    })
    .await;
    let list = store.chat_list(ChatFilter::All, 0, 500).expect("list");
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
    let w = World::new().await;
    let (hub, http, ch, emp, store) = (&w.hub, &w.http, &w.channel, &w.seller, w.store.clone());
    let item = |key: &str, channel: &str| outbox_item(key, channel, "+79164569812");
    let channel = ch["id"].as_str().expect("id");
    store.enqueue(&item("k-ok", channel)).expect("enqueue");
    store
        .enqueue(&item("k-bad", "no-such-channel"))
        .expect("enqueue");
    let seen = Seen::default();
    let token = emp["token"].as_str().expect("token").to_owned();

    // Nobody listens on port 9 of loopback: the hub is "down".
    let offline = SyncClient::new(
        HubClient::new(http.clone(), "http://127.0.0.1:9", &token),
        store.clone(),
    );
    assert!(offline.flush_outbox(&seen).await.is_err());
    assert_eq!(store.outbox_len().expect("len"), 2);
    assert_eq!(store.pending_first().expect("pending").len(), 2);

    let online = SyncClient::new(
        HubClient::new(http.clone(), &hub.url, &token),
        store.clone(),
    );
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
    assert_eq!(pending[0].error_code.as_deref(), Some("invalid_field"));
    assert_eq!(pending[0].error_owner, None);
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

/// A token the hub does not know: the sync loop stops at once instead of retrying forever, and
/// tells the app it is signed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_the_sync_loop_and_signs_out() {
    let w = World::new().await;
    let seen = Arc::new(Seen::default());
    let task = tokio::spawn(w.client("not-a-token").run(seen.clone()));
    ends(task).await;
    assert!(seen.signed_out() >= 1);
    assert!(!seen.was_online());
}

/// An employee deactivated while their desktop is live: the hub ends the stream, the sync loop
/// stops without retrying and signs out; a message written meanwhile is kept (held back, not
/// sent later by itself). Reactivating does not bring the old token back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_employee_is_signed_out_and_keeps_unsent_messages() {
    let w = World::new().await;
    let seller = w.seller["id"].as_str().expect("id").to_owned();
    let token = w.seller["token"].as_str().expect("token").to_owned();
    let client = w.client(&token);
    let seen = Arc::new(Seen::default());
    let task = tokio::spawn(client.clone().run(seen.clone()));
    until("online", || seen.was_online()).await;
    until("who I am", || w.store.me().ok().flatten().is_some()).await;
    assert_eq!(seen.signed_out(), 0);

    let path = format!("/api/v1/employees/{seller}");
    w.admin(
        reqwest::Method::PATCH,
        &path,
        Some(json!({"active": false})),
    )
    .await;
    ends(task).await;
    assert!(seen.signed_out() >= 1);
    assert_eq!(seen.online.lock().expect("lock").last(), Some(&false));

    // Written as the access ended: the hub refuses the token, the message stays, held back.
    let channel = w.channel["id"].as_str().expect("id");
    w.store
        .enqueue(&outbox_item("k-late", channel, "+79164569812"))
        .expect("enqueue");
    let before = seen.signed_out();
    assert!(matches!(
        client.flush_outbox(seen.as_ref()).await,
        Err(SyncError::Unauthorized)
    ));
    assert!(seen.signed_out() > before);
    assert_eq!(w.store.outbox_len().expect("len"), 1);
    assert!(w.store.outbox().expect("outbox").is_empty(), "held back");
    let held = w.store.pending_first().expect("pending");
    assert_eq!(held[0].text, "text of k-late");
    assert_eq!(held[0].error_code.as_deref(), Some("access_ended"));
    assert!(matches!(
        client.sync_now(seen.as_ref()).await,
        Err(SyncError::Unauthorized)
    ));

    // Reactivated: the old sign-in stays ended; a new one works.
    w.admin(reqwest::Method::PATCH, &path, Some(json!({"active": true})))
        .await;
    assert!(matches!(
        client.sync_now(seen.as_ref()).await,
        Err(SyncError::Unauthorized)
    ));
    let fresh = w.sign_in(&seller).await;
    fresh
        .sync_now(seen.as_ref())
        .await
        .expect("a new sign-in syncs");
}

/// Signing out gives the desktop's own token up; a supervisor's list shows each sign-in, and
/// revoking one ends that desktop only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_are_listed_and_revoked_one_by_one() {
    let w = World::new().await;
    let seller = w.seller["id"].as_str().expect("id").to_owned();
    let first = w.client(w.seller["token"].as_str().expect("token"));
    let second = w.sign_in(&seller).await;
    let (_, boss) = w.employee("Boss", "supervisor", false).await;
    let tokens = || {
        let url = w.url(&format!("/api/v1/employees/{seller}/tokens"));
        call(&w.http, reqwest::Method::GET, url, &boss, None)
    };
    assert_eq!(tokens().await.as_array().map(Vec::len), Some(2));

    let seen = Arc::new(Seen::default());
    first.revoke_own_token().await.expect("sign out");
    assert!(matches!(
        first.sync_now(seen.as_ref()).await,
        Err(SyncError::Unauthorized)
    ));
    second
        .sync_now(seen.as_ref())
        .await
        .expect("the other desktop");
    let left = tokens().await;
    let left = left.as_array().expect("tokens");
    assert_eq!(left.len(), 1);
    assert!(left[0]["created_at"].is_string());

    // The supervisor revokes the other one: its live link ends and the loop signs out.
    let task = tokio::spawn(second.clone().run(seen.clone()));
    until("online", || seen.was_online()).await;
    let id = left[0]["id"].as_str().expect("id");
    let resp = w
        .http
        .delete(w.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&boss)
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), reqwest::StatusCode::NO_CONTENT);
    ends(task).await;
    assert!(seen.signed_out() >= 1);
    assert_eq!(tokens().await.as_array().map(Vec::len), Some(0));
}

/// Writing first to a client who is someone else's, or with a role without chats: the hub
/// refuses, and the outbox keeps the code and the owner's name for the window to explain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_first_refusals_keep_their_code_and_owner() {
    let w = World::new().await;
    let seller = w.seller["id"].as_str().expect("id").to_owned();
    // The client is the seller's in the CRM, and has written: their chat exists.
    w.admin(
        reqwest::Method::POST,
        "/api/v1/crm/contacts",
        Some(json!({"title": "Irina", "phones": ["+79164569812"], "responsible_id": seller})),
    )
    .await;
    w.client_writes("m1", "79164569812", "hello").await;

    let (_, other) = w.employee("Boris", "seller", false).await;
    let (_, nobody) = w.employee("Nadia", "none", false).await;
    let channel = w.channel["id"].as_str().expect("id");
    let seen = Seen::default();

    w.store
        .enqueue(&outbox_item("k-taken", channel, "+79164569812"))
        .expect("enqueue");
    let taken = w.client(&other).flush_outbox(&seen).await.expect("flush");
    assert!(taken.is_empty());
    let refused = w.store.pending_first().expect("pending");
    assert_eq!(refused[0].error_code.as_deref(), Some("client_taken"));
    assert_eq!(refused[0].error_owner.as_deref(), Some("S"));
    assert!(w.store.outbox_resolve("k-taken", false).expect("discard"));

    w.store
        .enqueue(&outbox_item("k-none", channel, "+79035550000"))
        .expect("enqueue");
    w.client(&nobody).flush_outbox(&seen).await.expect("flush");
    let refused = w.store.pending_first().expect("pending");
    assert_eq!(refused[0].error_code.as_deref(), Some("no_chat_access"));
    assert_eq!(refused[0].error_owner, None);
}

/// A hub that lagged: its events stream says `resync` (and stays open).
async fn lagging_hub(answer: &switchboard_wire::SyncResponse) -> String {
    scripted_hub(
        "event: resync\ndata: {\"cursor\": 7}\n\n".into(),
        answer,
        None,
    )
    .await
    .0
}

/// A request's head (up to the blank line), or `None` when the connection ends first.
async fn read_head(socket: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A scripted hub: its events stream sends `events` at once (and stays open, with a keep-alive
/// comment every `keep_alive` if given); every sync gets `answer`. Also answers how many syncs
/// were asked.
async fn scripted_hub(
    events: String,
    answer: &switchboard_wire::SyncResponse,
    keep_alive: Option<Duration>,
) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let sync_body = serde_json::to_string(answer).expect("json");
    let syncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = syncs.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (sync_body, events, counted) = (sync_body.clone(), events.clone(), counted.clone());
            tokio::spawn(async move {
                let Some(head) = read_head(&mut socket).await else {
                    return;
                };
                if head.starts_with("GET /api/v1/events ") {
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n{events}"
                    );
                    let _ = socket.write_all(resp.as_bytes()).await;
                    // The stream stays open, as the hub's does.
                    match keep_alive {
                        Some(every) => loop {
                            tokio::time::sleep(every).await;
                            if socket.write_all(b":\n\n").await.is_err() {
                                return;
                            }
                        },
                        None => std::future::pending::<()>().await,
                    }
                } else if head.starts_with("GET /api/v1/sync?cursor=") {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{sync_body}",
                        sync_body.len()
                    );
                    let _ = socket.write_all(resp.as_bytes()).await;
                } else {
                    let _ = socket
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                }
            });
        }
    });
    (url, syncs)
}

/// A desktop syncing from a scripted hub: its store, what it saw, its loop.
fn syncing(
    hub_url: &str,
) -> (
    tempfile::TempDir,
    Arc<LocalStore>,
    Arc<Seen>,
    tokio::task::JoinHandle<()>,
) {
    syncing_with(hub_url, switchboard_desktop::sync::SILENCE)
}

/// [`syncing`], taking the hub as gone after `silence` without a byte.
fn syncing_with(
    hub_url: &str,
    silence: Duration,
) -> (
    tempfile::TempDir,
    Arc<LocalStore>,
    Arc<Seen>,
    tokio::task::JoinHandle<()>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(LocalStore::open(&dir.path().join("local.db")).expect("store"));
    let mut client = SyncClient::new(
        HubClient::new(reqwest::Client::new(), hub_url, "t"),
        store.clone(),
    );
    client.silence = silence;
    let seen = Arc::new(Seen::default());
    let task = tokio::spawn(client.run(seen.clone()));
    (dir, store, seen, task)
}

/// A burst of 500 `change` events that arrived together is one sync, not 500; the
/// notification that came with them is still raised (after the sync).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_changes_is_synced_once() {
    use switchboard_wire::SyncResponse;
    let mut events: String = (1..=500)
        .map(|i| format!("event: change\ndata: {{\"cursor\": {i}}}\n\n"))
        .collect();
    events.push_str(
        "event: notify\ndata: {\"chat\": \"c1\", \"title\": \"Anna\", \"text\": \"hi\"}\n\n",
    );
    let (hub_url, syncs) = scripted_hub(
        events,
        &SyncResponse {
            changes: vec![],
            cursor: 500,
            has_more: false,
            ..SyncResponse::default()
        },
        None,
    )
    .await;
    let (_dir, store, seen, task) = syncing(&hub_url);
    // The notification comes after every change before it was handled.
    until("the notification after the burst", || {
        !seen.notified.lock().expect("lock").is_empty()
    })
    .await;
    let n = syncs.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..=5).contains(&n),
        "{n} syncs for one burst of 500 changes"
    );
    assert_eq!(store.cursor().ok(), Some(500));
    task.abort();
}

/// `resync`: the hub dropped this stream's events. The desktop syncs as on `change`, and raises
/// no notification for what it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_makes_the_desktop_sync_without_late_notifications() {
    use switchboard_wire::{Change, SyncResponse};
    let settings = switchboard_core::Settings {
        notify_supervisors_all: true,
        ..Default::default()
    };
    let hub_url = lagging_hub(&SyncResponse {
        changes: vec![Change::Settings { settings }],
        cursor: 7,
        has_more: false,
        ..SyncResponse::default()
    })
    .await;
    let (_dir, store, seen, task) = syncing(&hub_url);
    until("the sync after resync", || store.cursor().ok() == Some(7)).await;
    assert_eq!(store.settings().expect("settings"), Some(settings));
    assert!(*seen.changes.lock().expect("lock") >= 1);
    assert!(seen.notified.lock().expect("lock").is_empty());
    assert_eq!(seen.signed_out(), 0);
    task.abort();
}

/// A first sync comes in pages: the first fills the list at once, with the progress; live
/// changes are synced between pages; the last page ends it. A page the hub does not take
/// starts the snapshot again instead of stopping the sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_comes_in_pages_with_live_changes_between_them() {
    let w = World::new().await;
    let (client, seen) = w.first_page_of(130).await;
    let count = || {
        w.store
            .chat_list(ChatFilter::All, 0, 500)
            .expect("list")
            .total
    };
    assert_eq!(count(), 100, "the first page");
    assert!(w.store.snapshot_page().expect("page").is_some());
    assert_eq!(
        w.store
            .sync_progress()
            .expect("progress")
            .map(|p| (p.chats, p.total)),
        Some((100, 130))
    );
    // A new client between pages: synced at once, before the rest of the snapshot.
    w.client_writes("late", "79990000001", "hi").await;
    client.sync_now(&seen).await.expect("live change");
    assert_eq!(count(), 101);
    assert!(
        w.store.snapshot_page().expect("page").is_some(),
        "the snapshot goes on"
    );
    assert!(client.next_page(&seen).await.expect("next page"));
    assert_eq!(count(), 131);
    assert_eq!(w.store.snapshot_page().expect("page"), None);
    assert_eq!(w.store.sync_progress().expect("progress"), None);
    assert!(
        !client.next_page(&seen).await.expect("no page"),
        "nothing waits"
    );

    // A page the hub refuses (say, it was upgraded): the snapshot starts again, nothing lost.
    w.store
        .set_meta(&[("snapshot_page", "not a page")])
        .expect("meta");
    assert!(client.next_page(&seen).await.expect("restarted"));
    // Started again at once: a new first page, the rest to come; what was synced stays.
    assert!(w.store.cursor().expect("cursor") > 0);
    assert!(w.store.snapshot_page().expect("page").is_some());
    assert_eq!(count(), 131, "what was synced stays meanwhile");
    client.sync_fully(&seen).await.expect("synced again");
    assert_eq!(count(), 131);
    assert_eq!(w.store.snapshot_page().expect("page"), None);
}

/// Keep-alive comments are life: a quiet hub that sends them is not taken as gone (they yield
/// no event, so silence is judged on bytes); one that sends nothing is, and is reconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alives_keep_the_link_and_silence_ends_it() {
    let quiet = switchboard_wire::SyncResponse::default();
    let first = "event: change\ndata: {\"cursor\": 0}\n\n".to_owned();
    let silence = Duration::from_millis(600);
    let (alive, _) = scripted_hub(first.clone(), &quiet, Some(Duration::from_millis(100))).await;
    let (_dir, _store, seen, task) = syncing_with(&alive, silence);
    until("online", || seen.was_online()).await;
    // Five times the silence allowed, with keep-alives only.
    tokio::time::sleep(silence * 5).await;
    assert_eq!(*seen.online.lock().expect("lock"), [true], "never dropped");
    task.abort();

    let (mute, _) = scripted_hub(first, &quiet, None).await;
    let (_dir, _store, seen, task) = syncing_with(&mute, silence);
    until("online, then dropped and back", || {
        seen.online.lock().expect("lock").len() >= 3
    })
    .await;
    assert_eq!(seen.online.lock().expect("lock")[..3], [true, false, true]);
    task.abort();
}

/// A hub scripted for paging: the first plain sync answers `first` (a snapshot's first page),
/// a page request answers `page` (a body, or a status with an empty body), every later plain
/// sync `later`; its events stream sends a `change` every `every` (else one, then keep-alives).
/// Counts the plain syncs and the page requests.
async fn paging_hub(
    first: SyncResponse,
    page: Result<SyncResponse, u16>,
    later: SyncResponse,
    every: Option<Duration>,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let json = |s: &SyncResponse| serde_json::to_string(s).expect("json");
    let (first, later) = (json(&first), json(&later));
    let page = page.map(|p| json(&p));
    let (plain, paged) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (p, g) = (plain.clone(), paged.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (first, later, page, plain, paged) = (
                first.clone(),
                later.clone(),
                page.clone(),
                p.clone(),
                g.clone(),
            );
            tokio::spawn(async move {
                let Some(head) = read_head(&mut socket).await else {
                    return;
                };
                let line = head.lines().next().unwrap_or_default().to_owned();
                let answer = |status: u16, body: &str| {
                    format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                };
                let resp = if line.starts_with("GET /api/v1/events ") {
                    // A change at once, as the hub says on connect.
                    let _ = socket
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\nevent: change\ndata: {\"cursor\": 5}\n\n")
                        .await;
                    loop {
                        let event: &[u8] = if every.is_some() {
                            b"event: change\ndata: {\"cursor\": 6}\n\n"
                        } else {
                            b":\n\n"
                        };
                        if socket.write_all(event).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(every.unwrap_or(Duration::from_millis(100))).await;
                    }
                } else if line.starts_with("GET /api/v1/sync?") && line.contains("page=") {
                    paged.fetch_add(1, Ordering::SeqCst);
                    match &page {
                        Ok(body) => answer(200, body),
                        Err(status) => answer(
                            *status,
                            r#"{"error":{"code":"invalid_field","message":"page: not a page"}}"#,
                        ),
                    }
                } else if line.starts_with("GET /api/v1/sync?") {
                    let n = plain.fetch_add(1, Ordering::SeqCst);
                    // A sync takes a while: events come faster than syncs.
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    answer(200, if n == 0 { &first } else { &later })
                } else {
                    answer(404, "")
                };
                let _ = socket.write_all(resp.as_bytes()).await;
            });
        }
    });
    (url, plain, paged)
}

fn first_page() -> SyncResponse {
    SyncResponse {
        cursor: 5,
        has_more: true,
        page: Some("wh|100|0|2026-11-25T10:00:00.000Z|c".into()),
        progress: Some(SyncProgress {
            chats: 100,
            total: 200,
        }),
        ..SyncResponse::default()
    }
}

fn last_page() -> SyncResponse {
    SyncResponse {
        cursor: 5,
        progress: Some(SyncProgress {
            chats: 200,
            total: 200,
        }),
        ..SyncResponse::default()
    }
}

/// Events coming faster than syncs do not hold a snapshot's pages back for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_hub_does_not_starve_the_pages() {
    let later = SyncResponse {
        cursor: 6,
        ..SyncResponse::default()
    };
    let every = Some(Duration::from_millis(10));
    let (url, plain, paged) = paging_hub(first_page(), Ok(last_page()), later, every).await;
    let (_dir, store, _seen, task) = syncing(&url);
    until("the snapshot's last page", || {
        paged.load(Ordering::SeqCst) > 0 && store.snapshot_page().ok().flatten().is_none()
    })
    .await;
    assert!(plain.load(Ordering::SeqCst) >= 1);
    assert_eq!(store.sync_progress().expect("progress"), None);
    task.abort();
}

/// A page the hub refuses starts the snapshot again at once, even on a quiet hub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_page_starts_the_snapshot_again_at_once() {
    let again = SyncResponse {
        cursor: 7,
        ..last_page()
    };
    let (url, plain, paged) = paging_hub(first_page(), Err(400), again, None).await;
    let (_dir, store, _seen, task) = syncing(&url);
    until("the snapshot synced again", || {
        paged.load(Ordering::SeqCst) == 1 && store.cursor().ok() == Some(7)
    })
    .await;
    assert_eq!(
        plain.load(Ordering::SeqCst),
        2,
        "the first page, then the new snapshot"
    );
    assert_eq!(store.snapshot_page().expect("page"), None);
    assert_eq!(store.sync_progress().expect("progress"), None);
    task.abort();
}

/// A page answered as no page (a hub that knows none) ends the snapshot instead of asking
/// again and again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_answered_without_one_ends_the_snapshot() {
    let unpaged = SyncResponse {
        cursor: 5,
        ..SyncResponse::default()
    };
    let (url, _plain, paged) =
        paging_hub(first_page(), Ok(unpaged), SyncResponse::default(), None).await;
    let (_dir, store, _seen, task) = syncing(&url);
    until("the snapshot ended", || {
        paged.load(Ordering::SeqCst) == 1 && store.snapshot_page().ok().flatten().is_none()
    })
    .await;
    assert_eq!(paged.load(Ordering::SeqCst), 1);
    task.abort();
}

/// The employee's own edit during a first sync's pages: the sync starts again from the
/// beginning, so every waiting chat still comes with its unanswered messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_own_edit_during_a_first_sync_keeps_its_history() {
    let w = World::new().await;
    let (client, seen) = w.first_page_of(130).await;
    assert!(w.store.snapshot_page().expect("page").is_some());
    let id = w.seller["id"].as_str().expect("id");
    w.admin(
        reqwest::Method::PATCH,
        &format!("/api/v1/employees/{id}"),
        Some(json!({"name": "S. Renamed"})),
    )
    .await;
    client.sync_fully(&seen).await.expect("synced");
    let list = w.store.chat_list(ChatFilter::All, 0, 500).expect("list");
    assert_eq!(list.total, 130);
    let without: Vec<&str> = list
        .chats
        .iter()
        .filter(|c| {
            w.store
                .messages(&c.id)
                .map(|m| m.is_empty())
                .unwrap_or(true)
        })
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        without.is_empty(),
        "chats without their messages: {}",
        without.len()
    );
    assert_eq!(
        w.store.me().expect("me").map(|m| m.name),
        Some("S. Renamed".into())
    );
}

/// A file written here waits in the outbox (its bytes on disk, shown from there) while the hub
/// is out of reach, goes once with its progress told when it is back, and becomes the cached
/// file of the hub's message; a file whose bytes vanished is kept as refused, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_waits_in_the_outbox_and_goes_once() {
    let w = World::new().await;
    let (http, store) = (&w.http, w.store.clone());
    let token = w.seller["token"].as_str().expect("token").to_owned();
    let channel = w.channel["id"].as_str().expect("id");
    let online = w.client(&token);
    let seen = Seen::default();
    // A first message opens the chat the file goes to.
    store
        .enqueue(&outbox_item("first", channel, "+79164569812"))
        .expect("enqueue");
    let chat = online.flush_outbox(&seen).await.expect("flush")[0]
        .1
        .clone();
    let bytes: Vec<u8> = b"%PDF-1.4\n"
        .iter()
        .copied()
        .chain((0..300_000u32).map(|i| (i % 251) as u8))
        .collect();
    let file = |key: &str| OutboxItem {
        chat: Some(chat.clone()),
        channel_id: None,
        phone: None,
        display: None,
        text: String::new(),
        file: Some(switchboard_desktop::local::OutboxFile {
            name: "contract.pdf".into(),
            mime: "application/pdf".into(),
            size: bytes.len() as u64,
        }),
        ..outbox_item(key, channel, "")
    };
    let dir = store.outbox_dir().expect("outbox dir").to_owned();
    std::fs::write(dir.join("file-1"), &bytes).expect("bytes");
    store.enqueue(&file("file-1")).expect("enqueue");
    let offline = SyncClient::new(
        HubClient::new(http.clone(), "http://127.0.0.1:9", &token),
        store.clone(),
    );
    assert!(offline.flush_outbox(&seen).await.is_err());
    // Waiting: shown from this desktop's copy.
    let waiting = store.messages(&chat).expect("messages");
    let mine = waiting.iter().find(|m| m.id == "file-1").expect("waiting");
    assert!(mine.local);
    let media = mine.media.as_ref().expect("a file");
    assert_eq!(media.url.as_deref(), Some("media://localhost/file-1"));
    assert_eq!(media.state, switchboard_core::MediaState::Pending);
    assert_eq!(
        store.outbox_file("file-1").expect("read").map(|(p, _)| p),
        Some(dir.join("file-1"))
    );
    let taken = online.flush_outbox(&seen).await.expect("flush");
    assert_eq!(taken.len(), 1);
    let last = seen.uploads.lock().expect("lock").last().cloned();
    assert_eq!(
        last,
        Some(("file-1".into(), bytes.len() as u64, bytes.len() as u64))
    );
    // A resend after a crash (the outbox kept it): the same message, nothing new.
    std::fs::write(dir.join("file-1"), &bytes).expect("bytes again");
    store.enqueue(&file("file-1")).expect("enqueue again");
    online.flush_outbox(&seen).await.expect("flush");
    let messages: Value = http
        .get(format!("{}/api/v1/chats/{chat}/messages", w.hub.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("messages")
        .json()
        .await
        .expect("json");
    let files: Vec<&Value> = messages
        .as_array()
        .expect("list")
        .iter()
        .filter(|m| m["kind"] == "document")
        .collect();
    assert_eq!(files.len(), 1, "{messages}");
    let id = files[0]["id"].as_str().expect("id");
    let kept = http
        .get(format!("{}/api/v1/messages/{id}/media", w.hub.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("media")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(
        kept.as_ref(),
        bytes.as_slice(),
        "the hub has exactly the bytes"
    );
    // This desktop's copy became the message's cached file; the outbox holds nothing more.
    let cached = store.media_cache_dir().join(id);
    assert_eq!(std::fs::read(&cached).expect("cached"), bytes);
    assert_eq!(
        std::fs::read_to_string(cached.with_extension("type")).expect("type"),
        "application/pdf"
    );
    assert_eq!(store.outbox_len().expect("len"), 0);
    assert!(!dir.join("file-1").exists());
    // Text has no signature: the type read here goes with it, and the hub checks it is text.
    std::fs::write(dir.join("csv-1"), "товар;цена\nчай;100\n").expect("csv");
    store
        .enqueue(&OutboxItem {
            file: Some(switchboard_desktop::local::OutboxFile {
                name: "prices.csv".into(),
                mime: "text/csv".into(),
                size: "товар;цена\nчай;100\n".len() as u64,
            }),
            ..file("csv-1")
        })
        .expect("enqueue");
    let taken = online.flush_outbox(&seen).await.expect("flush");
    assert_eq!(taken.len(), 1, "the hub took the CSV");
    // A file no outbox row names (a crash before it was queued) is swept; waiting ones stay.
    std::fs::write(dir.join("orphan"), b"x").expect("orphan");
    assert_eq!(store.sweep_outbox_files().expect("sweep"), 1);
    assert!(!dir.join("orphan").exists());
    // Bytes that vanished: kept as refused, with the reason, not sent.
    store.enqueue(&file("file-2")).expect("enqueue");
    online.flush_outbox(&seen).await.expect("flush");
    let held = store.messages(&chat).expect("messages");
    let gone = held.iter().find(|m| m.id == "file-2").expect("held");
    assert_eq!(gone.error_code.as_deref(), Some("file_missing"));
    assert!(store.outbox_resolve("file-2", false).expect("discard"));
}

/// An upload that keeps breaking off (a proxy cutting it, a hub out of disk) is tried a few
/// times and then held, with Retry and Discard, instead of being sent again for ever; a hub
/// that cannot be reached at all counts nothing against the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_keeps_breaking_off_is_held_after_a_few_attempts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(LocalStore::open(&dir.path().join("local.db")).expect("store"));
    // Takes each connection and drops it at once.
    let cutter = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", cutter.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((s, _)) = cutter.accept().await {
            drop(s);
        }
    });
    let outbox = store.outbox_dir().expect("outbox").to_owned();
    std::fs::write(outbox.join("f"), b"%PDF-1.4 x").expect("bytes");
    store
        .enqueue(&OutboxItem {
            chat: Some("chat-1".into()),
            channel_id: None,
            phone: None,
            display: None,
            text: String::new(),
            file: Some(switchboard_desktop::local::OutboxFile {
                name: "a.pdf".into(),
                mime: "application/pdf".into(),
                size: 10,
            }),
            ..outbox_item("f", "ch", "")
        })
        .expect("enqueue");
    let seen = Seen::default();
    let nowhere = SyncClient::new(
        HubClient::new(reqwest::Client::new(), "http://127.0.0.1:9", "t"),
        store.clone(),
    );
    for _ in 0..10 {
        let _ = nowhere.flush_outbox(&seen).await;
    }
    assert!(
        store.messages("chat-1").expect("messages")[0]
            .error
            .is_none(),
        "unreachable counts nothing"
    );
    let cut = SyncClient::new(
        HubClient::new(reqwest::Client::new(), &url, "t"),
        store.clone(),
    );
    for _ in 0..switchboard_desktop::sync::FILE_ATTEMPTS {
        let _ = cut.flush_outbox(&seen).await;
    }
    let held = store.messages("chat-1").expect("messages");
    assert_eq!(
        held[0].error_code.as_deref(),
        Some("upload_failed"),
        "{held:?}"
    );
    // Retry puts it back in line with its count reset; Discard drops it and its bytes.
    assert!(store.outbox_resolve("f", true).expect("retry"));
    assert!(store.messages("chat-1").expect("messages")[0]
        .error
        .is_none());
    let _ = cut.flush_outbox(&seen).await;
    assert!(!store.outbox_resolve("f", false).expect("not held: kept"));
    assert!(outbox.join("f").exists());
}

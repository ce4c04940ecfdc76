//! The hub as its clients see it: real HTTP on a port-0 socket (and in-process for the
//! route/OpenAPI check), a fresh data directory per test.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_hub::api::EdgeHub;
use switchboard_hub::{start, RunningHub, ServeConfig};

struct T {
    hub: RunningHub,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    channel: String,
    seq: u32,
}

impl T {
    async fn new() -> T {
        let dir = tempfile::tempdir().expect("tempdir");
        let hub = start(ServeConfig::new(
            dir.path().to_owned(),
            ([127, 0, 0, 1], 0).into(),
            false,
        ))
        .await
        .expect("hub starts");
        let mut t = T {
            hub,
            http: reqwest::Client::new(),
            _dir: dir,
            channel: String::new(),
            seq: 0,
        };
        let admin = t.hub.admin_token.clone();
        let (_, ch) = t
            .call(
                &admin,
                Method::POST,
                "/api/v1/channels",
                json!({"transport": "whatsapp", "name": "WA"}),
            )
            .await;
        t.channel = ch["id"].as_str().expect("id").to_owned();
        t
    }

    async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.hub.url))
            .bearer_auth(token);
        if method != Method::GET {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn admin(&self, method: Method, path: &str, body: Value) -> Value {
        let (s, v) = self.call(&self.hub.admin_token, method, path, body).await;
        assert!(s.is_success(), "{path}: {s} {v}");
        v
    }

    async fn employee(&self, name: &str, role: &str, receives: bool) -> (String, String) {
        let v = self
            .admin(
                Method::POST,
                "/api/v1/employees",
                json!({"name": name, "role": role, "receives_new_clients": receives}),
            )
            .await;
        (
            v["id"].as_str().expect("id").into(),
            v["token"].as_str().expect("token").into(),
        )
    }

    async fn webhook(&self, body: Value) -> (StatusCode, Value) {
        crate::common::post_webhook(&self.http, &self.hub, &body).await
    }

    /// A client message from `phone` on the test channel.
    async fn client_writes(&mut self, phone: &str, text: &str) -> String {
        self.seq += 1;
        let id = format!("m{}", self.seq);
        let (s, v) = self.webhook(self.message(&id, phone, text, false)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        id
    }

    fn message(&self, id: &str, phone: &str, text: &str, echo: bool) -> Value {
        json!({"messages": [{"messageId": id, "channelId": self.channel, "chatType": "whatsapp", "chatId": phone,
            "dateTime": format!("2026-11-25T10:00:{:02}.000Z", self.seq % 60), "type": "text",
            "status": if echo { "sent" } else { "inbound" }, "isEcho": echo, "text": text, "contact": {"name": format!("Client {phone}")}}]})
    }

    async fn chats(&self, token: &str) -> Vec<Value> {
        let (s, v) = self
            .call(token, Method::GET, "/api/v1/chats", Value::Null)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v.as_array().cloned().unwrap_or_default()
    }

    /// `(count, color)` of the only chat `token` sees.
    async fn badge(&self, token: &str) -> Option<(u64, Value)> {
        let chats = self.chats(token).await;
        chats.first().map(|c| {
            (
                c["unanswered"]["count"].as_u64().unwrap_or(99),
                c["unanswered"]["color"].clone(),
            )
        })
    }
}

#[tokio::test]
async fn unknown_token_is_401_and_sellers_cannot_administer() {
    let t = T::new().await;
    let (s, v) = t
        .call("nope", Method::GET, "/api/v1/chats", Value::Null)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "unauthorized");
    let (_, seller) = t.employee("S", "seller", false).await;
    let (s, _) = t
        .call(
            &seller,
            Method::PUT,
            "/api/v1/settings",
            json!({"notify_supervisors_all": true}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .call(
            &seller,
            Method::POST,
            "/api/v1/employees",
            json!({"name": "X", "role": "seller"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = t
        .call(
            &t.hub.admin_token,
            Method::POST,
            "/api/v1/employees",
            json!({"name": "X", "role": "boss"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("role: unknown variant `boss`"),
        "{v}"
    );
    let (s, v) = t
        .call(
            &t.hub.admin_token,
            Method::POST,
            "/api/v1/employees",
            json!({"role": "seller"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("missing field `name`"),
        "{v}"
    );
}

#[tokio::test]
async fn badges_follow_setting3_and_a_flip_recolours_at_once() {
    let mut t = T::new().await;
    let (_, newbie) = t.employee("Newbie", "seller", true).await;
    let (_, other) = t.employee("Other", "seller", false).await;
    let (_, boss) = t.employee("Boss", "supervisor", false).await;
    t.client_writes("79164569812", "hello").await;
    t.client_writes("79164569812", "anyone?").await;
    assert_eq!(t.badge(&newbie).await, Some((2, json!("red"))));
    assert_eq!(
        t.badge(&other).await,
        None,
        "a seller does not see another's chat"
    );
    assert_eq!(t.badge(&boss).await, Some((2, json!("grey"))));
    let (_, c) = t
        .call(&boss, Method::GET, "/api/v1/me/counters", Value::Null)
        .await;
    assert_eq!(c, json!({"red": 0, "grey": 1}));

    let (s, _) = t
        .call(
            &boss,
            Method::PUT,
            "/api/v1/settings",
            json!({"notify_supervisors_all": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t.badge(&boss).await, Some((2, json!("red"))));
    let (_, c) = t
        .call(&boss, Method::GET, "/api/v1/me/counters", Value::Null)
        .await;
    assert_eq!(c, json!({"red": 1, "grey": 0}));
    let audit = t
        .admin(Method::GET, "/api/v1/settings/audit", Value::Null)
        .await;
    assert_eq!(audit[0]["field"], "notify_supervisors_all");
    assert_eq!(
        (audit[0]["old"].as_str(), audit[0]["new"].as_str()),
        (Some("false"), Some("true"))
    );
}

#[tokio::test]
async fn reading_resets_nothing_reply_echo_and_mark_answered_reset() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let (_, boss) = t.employee("B", "supervisor", false).await;
    t.client_writes("79164569812", "one").await;
    let chat = t.chats(&seller).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (s, msgs) = t
        .call(
            &boss,
            Method::GET,
            &format!("/api/v1/chats/{chat}/messages"),
            Value::Null,
        )
        .await;
    assert_eq!(
        (s, msgs.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(
        t.badge(&seller).await,
        Some((1, json!("red"))),
        "reading resets nothing"
    );

    let (s, _) = t
        .call(
            &seller,
            Method::POST,
            "/api/v1/messages",
            json!({"chat": chat, "text": "hi!", "idempotency_key": "k1"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(t.badge(&seller).await, Some((0, Value::Null)));
    t.call(
        &seller,
        Method::POST,
        "/api/v1/messages",
        json!({"chat": chat, "text": "hi!", "idempotency_key": "k1"}),
    )
    .await;
    let (_, msgs) = t
        .call(
            &seller,
            Method::GET,
            &format!("/api/v1/chats/{chat}/messages"),
            Value::Null,
        )
        .await;
    assert_eq!(
        msgs.as_array().map(Vec::len),
        Some(2),
        "the same key sends once"
    );

    t.client_writes("79164569812", "two").await;
    let (s, _) = t
        .webhook(t.message("echo-1", "79164569812", "answered from the phone", true))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        t.badge(&seller).await,
        Some((0, Value::Null)),
        "an echo is a reply"
    );

    t.client_writes("79164569812", "three").await;
    let (s, v) = t
        .call(
            &seller,
            Method::POST,
            &format!("/api/v1/chats/{chat}/answered"),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(t.badge(&seller).await, Some((0, Value::Null)));
}

#[tokio::test]
async fn webhooks_are_idempotent_and_malformed_ones_store_nothing() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let body = t.message("dup", "79164569812", "once", false);
    t.seq += 1;
    for _ in 0..3 {
        assert_eq!(t.webhook(body.clone()).await.0, StatusCode::OK);
    }
    assert_eq!(t.badge(&seller).await, Some((1, json!("red"))));

    let mut bad = t.message("bad", "79031234567", "x", false);
    bad["messages"][0]
        .as_object_mut()
        .expect("obj")
        .remove("chatId");
    let (s, v) = t.webhook(bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["message"], "messages[0].chatId: is required");
    // A body whose second message is bad stores neither.
    let mut two = t.message("ok-2", "79031234567", "fine", false);
    two["messages"]
        .as_array_mut()
        .expect("arr")
        .push(json!({"messageId": 5}));
    assert_eq!(t.webhook(two).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(t.chats(&seller).await.len(), 1, "nothing half-applied");
    assert_eq!(t.webhook(json!({"test": true})).await.0, StatusCode::OK);
    let wrong = t
        .http
        .post(format!("{}/webhooks/provider/wrong", t.hub.url))
        .json(&json!({"test": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn chats_link_to_crm_by_numbers_typed_with_8_and_the_deal_decides_the_responsible() {
    let mut t = T::new().await;
    let (ann, ann_t) = t.employee("Ann", "seller", false).await;
    let (bob, bob_t) = t.employee("Bob", "seller", false).await;
    let contact = t
        .admin(
            Method::POST,
            "/api/v1/crm/contacts",
            json!({"title": "Irina", "phones": ["8 (916) 456-98-12"], "responsible_id": ann}),
        )
        .await;
    let contact_id = contact["id"].as_str().expect("id").to_owned();
    t.client_writes("79164569812", "hello").await;
    let chats = t.chats(&ann_t).await;
    assert_eq!(chats.len(), 1, "matched through setting 2");
    assert_eq!(
        chats[0]["crm"],
        json!([{"kind": "contact", "id": contact_id}])
    );
    let deal = t
        .admin(
            Method::POST,
            "/api/v1/crm/deals",
            json!({"title": "Big deal", "responsible_id": bob, "contact_id": contact_id}),
        )
        .await;
    assert_eq!(
        t.chats(&ann_t).await.len(),
        0,
        "the deal's responsible wins"
    );
    assert_eq!(t.chats(&bob_t).await.len(), 1);
    t.client_writes("79164569812", "second").await;
    // Mirroring runs through the durable queue: wait for it to drain.
    let deal_path = format!(
        "/api/v1/crm/deals/{}/timeline",
        deal["id"].as_str().expect("id")
    );
    let contact_path = format!("/api/v1/crm/contacts/{contact_id}/timeline");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let contact = t.admin(Method::GET, &contact_path, Value::Null).await;
        let deal = t.admin(Method::GET, &deal_path, Value::Null).await;
        let n = |v: &Value| v.as_array().map_or(0, Vec::len);
        if n(&contact) == 2 && n(&deal) >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timelines: {contact} {deal}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let timeline = t.admin(Method::GET, &deal_path, Value::Null).await;
    assert_eq!(
        timeline.as_array().map(Vec::len),
        Some(1),
        "only messages after the link: {timeline}"
    );

    // Setting 2 off: "8 (916)…" no longer reads as +7, so the chat loses its links.
    t.admin(
        Method::PUT,
        "/api/v1/settings",
        json!({"eight_as_plus7": false}),
    )
    .await;
    assert_eq!(t.chats(&bob_t).await.len(), 0);
    let entity = t
        .admin(
            Method::GET,
            &format!("/api/v1/crm/contacts/{contact_id}"),
            Value::Null,
        )
        .await;
    assert_eq!(
        entity["phones"],
        json!(["8 (916) 456-98-12"]),
        "the CRM value is never rewritten"
    );
}

#[tokio::test]
async fn compose_reads_the_number_and_preselects_the_priority_channel() {
    let t = T::new().await;
    let v = t
        .admin(
            Method::POST,
            "/api/v1/employees",
            json!({"name": "S", "role": "seller", "priority_channel_id": t.channel}),
        )
        .await;
    let token = v["token"].as_str().expect("token");
    let (s, c) = t
        .call(
            token,
            Method::GET,
            "/api/v1/compose?phone=8%20(916)%20456-98-12",
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["address"], "+79164569812");
    assert_eq!(c["channel_id"], json!(t.channel));
    t.admin(
        Method::PATCH,
        &format!("/api/v1/channels/{}", t.channel),
        json!({"state": "unauthorized"}),
    )
    .await;
    let (_, c) = t
        .call(
            token,
            Method::GET,
            "/api/v1/compose?phone=89164569812",
            Value::Null,
        )
        .await;
    assert_eq!(
        (c["channel_id"].clone(), c["reason"].clone()),
        (Value::Null, json!("unauthorized"))
    );
    let (s, e) = t
        .call(
            token,
            Method::GET,
            "/api/v1/compose?phone=9164569812",
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "invalid_phone");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("9164569812"),
        "names the raw value: {e}"
    );
}

#[tokio::test]
async fn sync_replays_what_the_viewer_may_see_from_a_cursor() {
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    t.client_writes("79164569812", "first").await;
    let (_, snap) = t
        .call(&seller, Method::GET, "/api/v1/sync?cursor=0", Value::Null)
        .await;
    let types: Vec<&str> = snap["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    for needed in [
        "me",
        "settings",
        "channels",
        "visible_chats",
        "chat",
        "message",
    ] {
        assert!(
            types.contains(&needed),
            "snapshot lacks {needed}: {types:?}"
        );
    }
    let cursor = snap["cursor"].as_i64().expect("cursor");
    t.client_writes("79164569812", "second").await;
    let (_, inc) = t
        .call(
            &seller,
            Method::GET,
            &format!("/api/v1/sync?cursor={cursor}"),
            Value::Null,
        )
        .await;
    let changes = inc["changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .any(|c| c["type"] == "message" && c["message"]["text"] == "second"),
        "{inc}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["type"] == "chat" && c["chat"]["unanswered"]["count"] == 2),
        "{inc}"
    );
    assert!(
        !changes.iter().any(|c| c["type"] == "me"),
        "incremental, not a snapshot: {inc}"
    );
    let (_, again) = t
        .call(
            &seller,
            Method::GET,
            &format!("/api/v1/sync?cursor={}", inc["cursor"]),
            Value::Null,
        )
        .await;
    assert_eq!(again["changes"], json!([]));
}

#[tokio::test]
async fn events_stream_notifies_exactly_the_employees_the_rules_name() {
    use futures_util::StreamExt;
    let mut t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let (_, boss) = t.employee("B", "supervisor", false).await;
    let open = |token: String| {
        let http = t.http.clone();
        let url = format!("{}/api/v1/events", t.hub.url);
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("events")
                .bytes_stream()
        }
    };
    let mut seller_events = open(seller.clone()).await;
    let mut boss_events = open(boss.clone()).await;
    t.client_writes("79164569812", "ping").await;
    let mut text = String::new();
    while !text.contains("event: notify") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), seller_events.next())
            .await
            .expect("a notify within 5 s")
            .expect("stream open")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("ping"), "{text}");
    // The supervisor's stream carries `change` events but no `notify` (setting off).
    let mut boss_text = String::new();
    while !boss_text.contains("event: change") {
        let chunk = boss_events.next().await.expect("open").expect("chunk");
        boss_text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let settle =
        tokio::time::timeout(std::time::Duration::from_millis(300), boss_events.next()).await;
    if let Ok(Some(Ok(chunk))) = settle {
        boss_text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!boss_text.contains("event: notify"), "{boss_text}");
}

#[tokio::test]
async fn every_documented_route_is_routed() {
    use tower::ServiceExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = switchboard_hub::db::open_hub(&dir.path().join("hub.db")).expect("db");
    switchboard_hub::store::ensure_workspace(&conn).expect("workspace");
    let router = switchboard_hub::api::router(switchboard_hub::Hub::new(conn, "s".into()));
    let doc = switchboard_hub::api::openapi();
    let mut checked = 0;
    for (path, item) in &doc.paths.paths {
        let concrete = path.replace("{kind}", "leads").replace(['{', '}'], "");
        let methods = [
            (item.get.is_some(), "GET"),
            (item.post.is_some(), "POST"),
            (item.put.is_some(), "PUT"),
            (item.patch.is_some(), "PATCH"),
        ];
        for (_, m) in methods.iter().filter(|(has, _)| *has) {
            let req = axum::http::Request::builder()
                .method(*m)
                .uri(&concrete)
                .body(axum::body::Body::empty())
                .expect("request");
            let resp = router.clone().oneshot(req).await.expect("response");
            let status = resp.status();
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .expect("body")
                .to_bytes();
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED,
                "{m} {path} is documented but not routed"
            );
            // The router's own 404 (no such route) is "Not Found"; a handler's names what.
            let unrouted = String::from_utf8_lossy(&body).contains("\"message\":\"Not Found\"");
            assert!(
                !(status == StatusCode::NOT_FOUND && (body.is_empty() || unrouted)),
                "{m} {path} is documented but not routed"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations documented");
}

/// The desktop's typed client calls only what the hub documents (and the hub serves).
#[test]
fn the_typed_client_calls_only_documented_operations() {
    let documented = switchboard_hub::api::operations();
    for op in switchboard_client::ops::ALL {
        assert!(
            documented
                .iter()
                .any(|(m, p)| *m == op.method && p == op.path),
            "{} {} is not in the hub's description",
            op.method,
            op.path
        );
    }
}

#[test]
fn openapi_file_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let generated = switchboard_hub::api::openapi()
        .to_pretty_json()
        .expect("json")
        + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/switchboard-hub/openapi.json is stale: run `make bindings`"
    );
}

#[test]
fn normalize_phone_reads_stdin_line_by_line() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-hub"))
        .args(["normalize-phone", "--eight-as-plus7", "on"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all("8 (916) 456-98-12\n9164569812\ntel:+79164569812\n   \n".as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "+79164569812\nerror:invalid_number\nerror:invalid_chars\nerror:empty\n"
    );
}

#[tokio::test]
async fn a_second_hub_on_the_same_directory_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = ServeConfig::new(dir.path().to_owned(), ([127, 0, 0, 1], 0).into(), false);
    let _first = start(cfg.clone()).await.expect("first");
    let err = start(cfg).await.err().expect("second refuses");
    assert!(
        format!("{err:#}").contains("another hub is already serving"),
        "{err:#}"
    );
}

#[tokio::test]
async fn the_demo_workspace_seeds_roles_channels_crm_and_chats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = start(ServeConfig::new(
        dir.path().to_owned(),
        ([127, 0, 0, 1], 0).into(),
        true,
    ))
    .await
    .expect("demo");
    let http = reqwest::Client::new();
    let call = |method: Method, path: &str, token: &str| {
        let req = http
            .request(method, format!("{}{path}", hub.url))
            .bearer_auth(token);
        async move {
            req.send()
                .await
                .expect("send")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let employees = call(Method::GET, "/api/v1/employees", &hub.admin_token).await;
    let employees = employees.as_array().expect("array");
    let roles: std::collections::BTreeSet<&str> = employees
        .iter()
        .filter_map(|e| e["role"].as_str())
        .collect();
    assert_eq!(
        roles,
        ["none", "seller", "supervisor"].into_iter().collect()
    );
    let channels = call(Method::GET, "/api/v1/channels", &hub.admin_token).await;
    let transports: std::collections::BTreeSet<&str> = channels
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["transport"].as_str())
        .collect();
    assert!(transports.len() >= 3, "{transports:?}");
    let boss = employees
        .iter()
        .find(|e| e["role"] == "supervisor")
        .expect("supervisor");
    let path = format!(
        "/api/v1/employees/{}/tokens",
        boss["id"].as_str().expect("id")
    );
    let token = call(Method::POST, &path, &hub.admin_token).await;
    let chats = call(
        Method::GET,
        "/api/v1/chats",
        token["token"].as_str().expect("token"),
    )
    .await;
    let chats = chats.as_array().expect("array");
    assert!(chats.len() >= 5, "the supervisor sees every seeded chat");
    assert!(
        chats
            .iter()
            .any(|c| !c["crm"].as_array().expect("crm").is_empty()),
        "some chats are linked to the CRM"
    );
}

#[tokio::test]
async fn escalation_turns_a_waiting_chat_red_for_supervisors_once_and_an_answer_ends_it() {
    let mut t = T::new().await;
    let (seller_id, seller) = t.employee("S", "seller", false).await;
    let (boss_id, boss) = t.employee("B", "supervisor", false).await;
    t.admin(
        Method::POST,
        "/api/v1/crm/contacts",
        json!({"title": "C", "phones": ["+79164569812"], "responsible_id": seller_id}),
    )
    .await;
    let (s, v) = t
        .call(
            &boss,
            Method::PUT,
            "/api/v1/settings",
            json!({"escalate_after_minutes": 0}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    t.call(
        &boss,
        Method::PUT,
        "/api/v1/settings",
        json!({"escalate_after_minutes": 30}),
    )
    .await;
    // The client writes now (the hub's own 5-second tick sees nothing due for 30 minutes).
    let mut body = t.message("esc-1", "79164569812", "hello?", false);
    body["messages"][0]["dateTime"] = json!(switchboard_hub::clock::now());
    assert_eq!(t.webhook(body).await.0, StatusCode::OK);
    assert_eq!(t.badge(&boss).await, Some((1, json!("grey"))));

    let tick = |minutes: i64| {
        let hub = t.hub.hub.clone();
        async move {
            let at = switchboard_hub::clock::now_ms() + minutes * 60_000;
            hub.write(move |c| Ok(switchboard_hub::store::escalation_tick(c, at)?))
                .await
                .expect("tick")
        }
    };
    assert!(tick(29).await.is_empty(), "not yet due");
    let notified = tick(31).await;
    assert_eq!(
        notified.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
        [boss_id.as_str()]
    );
    assert!(
        notified[0].1.text.contains("without a reply"),
        "{:?}",
        notified[0].1
    );
    assert!(tick(60).await.is_empty(), "supervisors are notified once");
    assert_eq!(t.badge(&boss).await, Some((1, json!("red"))));
    assert_eq!(t.badge(&seller).await, Some((1, json!("red"))));

    let chat = t.chats(&seller).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.call(
        &seller,
        Method::POST,
        "/api/v1/messages",
        json!({"chat": chat, "text": "here", "idempotency_key": "e1"}),
    )
    .await;
    t.client_writes("79164569812", "thanks").await;
    assert_eq!(
        t.badge(&boss).await,
        Some((1, json!("grey"))),
        "an answer ends the escalation"
    );
}

#[tokio::test]
async fn stopping_the_hub_ends_live_event_streams_instead_of_waiting_for_them() {
    use futures_util::StreamExt;
    let t = T::new().await;
    let (_, seller) = t.employee("S", "seller", true).await;
    let mut events = t
        .http
        .get(format!("{}/api/v1/events", t.hub.url))
        .bearer_auth(seller)
        .send()
        .await
        .expect("events")
        .bytes_stream();
    let first = events.next().await.expect("open").expect("chunk");
    assert!(String::from_utf8_lossy(&first).contains("event: change"));
    // Regression: a graceful shutdown used to wait forever for connected desktops.
    tokio::time::timeout(std::time::Duration::from_secs(10), t.hub.stop())
        .await
        .expect("the hub stops while a desktop is connected");
    assert!(
        events.next().await.is_none_or(|r| r.is_err()),
        "the stream ended"
    );
}

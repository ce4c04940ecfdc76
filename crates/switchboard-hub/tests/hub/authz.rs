//! The authorization matrix: every route of the OpenAPI route list × every kind of caller,
//! with the answer each must get. A route added without rows here fails
//! `every_route_has_rows`. Each case runs on its own copy of one seeded workspace, so what
//! one case changes (a revoked token, a sent message) never reaches another.
//!
//! The callers: the administrator's token; a supervisor; Anna, the seller responsible for the
//! chat and CRM lead the rows aim at; Boris, another seller; Vera, a seller who receives new
//! clients (the chat is Anna's, so not hers); Nina, role `none`; Dima, deactivated (his token
//! was valid before); and no token at all.

use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use switchboard_hub::api::EdgeHub;
use switchboard_hub::{api, db, store, Hub};
use tower::ServiceExt;

const ADMIN: &str = "matrix-admin";
const INGRESS: &str = "matrix-ingress";
const CALLERS: [&str; 8] = [
    "admin",
    "supervisor",
    "responsible",
    "other",
    "new-clients",
    "none",
    "deactivated",
    "no token",
];

/// The seeded workspace every case copies.
struct World {
    _dir: tempfile::TempDir,
    template: std::path::PathBuf,
    /// The seeded workspace, kept open while its file is copied.
    _seeded: Hub,
    /// Tokens in the order of [`CALLERS`] (the last is no token).
    tokens: Vec<Option<String>>,
    ids: std::collections::HashMap<&'static str, String>,
}

async fn send(
    hub: &Hub,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method.clone()).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = if let Some(file) = body.get("$file") {
        // A file's bytes, with its key and name in headers (`POST /api/v1/chats/{id}/files`).
        for h in ["idempotency-key", "x-file-name"] {
            req = req.header(h, file[h].as_str().unwrap_or_default());
        }
        axum::body::Body::from(file["bytes"].as_str().unwrap_or_default().to_owned())
    } else if body.is_null() {
        axum::body::Body::empty()
    } else {
        req = req.header("content-type", "application/json");
        axum::body::Body::from(body.to_string())
    };
    let resp = api::router(hub.clone())
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("answer");
    let status = resp.status();
    if path == "/api/v1/events" && status == StatusCode::OK {
        // An endless stream: the status is what counts.
        return (status, Value::Null);
    }
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn open(path: &std::path::Path) -> Hub {
    let conn = db::open_hub(path).expect("db");
    store::ensure_workspace(&conn).expect("workspace");
    store::replace_admin_token(&conn, ADMIN, &switchboard_hub::clock::now()).expect("admin token");
    let hub = Hub::new(conn, INGRESS.into());
    // Every copy reads the template's kept files.
    hub.set_media_dir(path.with_file_name("media"));
    hub
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let template = dir.path().join("template.db");
        let hub = open(&template);
        let admin = Some(ADMIN);
        let ok = |(s, v): (StatusCode, Value)| {
            assert!(s.is_success(), "seeding: {s} {v}");
            v
        };
        let mut ids = std::collections::HashMap::new();
        let mut tokens = vec![Some(ADMIN.to_owned())];
        for (key, name, role, receives) in [
            ("supervisor", "Sofia", "supervisor", false),
            ("anna", "Anna", "seller", false),
            ("boris", "Boris", "seller", false),
            ("vera", "Vera", "seller", true),
            ("nina", "Nina", "none", true),
            ("dima", "Dima", "seller", true),
        ] {
            let v = ok(send(
                &hub,
                Method::POST,
                "/api/v1/employees",
                admin,
                json!({"name": name, "role": role, "receives_new_clients": receives}),
            )
            .await);
            ids.insert(key, v["id"].as_str().expect("id").to_owned());
            tokens.push(Some(v["token"].as_str().expect("token").to_owned()));
        }
        tokens.push(None);
        let channel = ok(send(
            &hub,
            Method::POST,
            "/api/v1/channels",
            admin,
            json!({"transport": "whatsapp", "name": "WA"}),
        )
        .await);
        ids.insert("channel", channel["id"].as_str().expect("id").to_owned());
        let viber = ok(send(
            &hub,
            Method::POST,
            "/api/v1/channels",
            admin,
            json!({"transport": "viber", "name": "Viber"}),
        )
        .await);
        ids.insert("viber", viber["id"].as_str().expect("id").to_owned());
        let lead = ok(send(&hub, Method::POST, "/api/v1/crm/leads", admin,
            json!({"title": "Anna's client", "phones": ["8 (916) 111-11-11"], "responsible_id": ids["anna"]})).await);
        ids.insert("lead", lead["id"].as_str().expect("id").to_owned());
        // Anna's client writes (linked to her lead); a stranger writes (nobody's yet).
        for (n, phone) in [(1, "79161111111"), (2, "79162222222")] {
            ok(send(&hub, Method::POST, &format!("/webhooks/provider/{INGRESS}"), None,
                json!({"messages": [{"messageId": format!("p{n}"), "channelId": ids["channel"], "chatType": "whatsapp",
                    "chatId": phone, "dateTime": "2026-11-25T10:00:00.000Z", "type": "text", "status": "inbound",
                    "text": "hello"}]})).await);
        }
        let anna = tokens[2].clone();
        let chats = ok(send(
            &hub,
            Method::GET,
            "/api/v1/chats",
            anna.as_deref(),
            Value::Null,
        )
        .await);
        let chat = chats[0]["id"]
            .as_str()
            .expect("Anna sees her chat")
            .to_owned();
        assert_eq!(chats.as_array().map(Vec::len), Some(1), "{chats}");
        let sent = ok(send(
            &hub,
            Method::POST,
            "/api/v1/messages",
            anna.as_deref(),
            json!({"chat": chat, "text": "hi", "idempotency_key": "seed-reply"}),
        )
        .await);
        let inbound = ok(send(
            &hub,
            Method::GET,
            &format!("/api/v1/chats/{chat}/messages"),
            anna.as_deref(),
            Value::Null,
        )
        .await)
        .as_array()
        .and_then(|m| m.iter().find(|m| m["direction"] == "in"))
        .and_then(|m| m["id"].as_str())
        .expect("the client's message")
        .to_owned();
        ids.insert("chat", chat);
        ids.insert(
            "failed",
            sent["message_id"].as_str().expect("id").to_owned(),
        );
        ids.insert("mirror_failed", inbound.clone());
        let boris_tokens = ok(send(
            &hub,
            Method::GET,
            &format!("/api/v1/employees/{}/tokens", ids["boris"]),
            admin,
            Value::Null,
        )
        .await);
        ids.insert(
            "boris_token",
            boris_tokens[0]["id"].as_str().expect("token id").to_owned(),
        );
        let failed = ids["failed"].clone();
        hub.write(move |c| {
            // A send that failed and a timeline entry the CRM refused: what Retry is for.
            c.execute(
                "UPDATE messages SET status = 'failed', error = 'x' WHERE id = ?1",
                [&failed],
            )?;
            c.execute(
                "UPDATE mirror_queue SET state = 'failed' WHERE message_id = ?1",
                [&inbound],
            )?;
            // The client's message came with a photo, kept by the hub.
            c.execute(
                "UPDATE messages SET kind = 'image', media_state = 'stored', media_name = 'photo.png', \
                 media_mime = 'image/png', media_size = 4 WHERE id = ?1",
                [&inbound],
            )?;
            Ok(())
        })
        .await
        .expect("failures");
        let media = template.with_file_name("media");
        std::fs::create_dir_all(&media).expect("media dir");
        std::fs::write(media.join(&ids["mirror_failed"]), b"\x89PNG").expect("a kept file");
        let kept = ids["mirror_failed"].clone();
        let link = hub
            .write(move |c| {
                Ok(store::media_queue::public_link(
                    c,
                    &kept,
                    switchboard_hub::clock::now_ms(),
                    std::time::Duration::from_secs(3600),
                )?)
            })
            .await
            .expect("a public link");
        ids.insert("public_link", link);
        // A quick reply of the workspace's, and one of Anna's own.
        let workspace_reply = ok(send(
            &hub,
            Method::POST,
            "/api/v1/quick-replies",
            admin,
            json!({"title": "Hello", "text": "Hello {client}"}),
        )
        .await);
        ids.insert(
            "workspace_reply",
            workspace_reply["id"].as_str().expect("id").to_owned(),
        );
        let annas_reply = ok(send(
            &hub,
            Method::POST,
            "/api/v1/quick-replies",
            anna.as_deref(),
            json!({"title": "Prices", "text": "Our prices", "personal": true}),
        )
        .await);
        ids.insert(
            "annas_reply",
            annas_reply["id"].as_str().expect("id").to_owned(),
        );
        // Dima is deactivated: the token he had stops working.
        ok(send(
            &hub,
            Method::PATCH,
            &format!("/api/v1/employees/{}", ids["dima"]),
            admin,
            json!({"active": false}),
        )
        .await);
        World {
            _dir: dir,
            template,
            _seeded: hub,
            tokens,
            ids,
        }
    }

    /// A fresh copy of the seeded workspace.
    async fn copy(&self, n: usize) -> Hub {
        let path = self.template.with_file_name(format!("case{n}.db"));
        let to = path.to_string_lossy().into_owned();
        // Its own connection: VACUUM cannot run inside a transaction, and the hub's reads are.
        rusqlite::Connection::open(&self.template)
            .and_then(|c| c.execute("VACUUM INTO ?1", [to]))
            .expect("copy");
        open(&path)
    }
}

/// One row: a request and the status each caller of [`CALLERS`] must get.
struct Row {
    method: Method,
    /// The route as the OpenAPI description names it.
    route: &'static str,
    path: String,
    body: Value,
    expect: [u16; 8],
}

fn rows(w: &World) -> Vec<Row> {
    let id = |k: &str| w.ids[k].clone();
    let (chat, lead, channel) = (id("chat"), id("lead"), id("channel"));
    let row =
        |method: Method, route: &'static str, path: String, body: Value, expect: [u16; 8]| Row {
            method,
            route,
            path,
            body,
            expect,
        };
    // Columns: admin, supervisor, responsible, other, new-clients, none, deactivated, no token.
    const MANAGE: fn(u16) -> [u16; 8] = |ok| [ok, ok, 403, 403, 403, 403, 401, 401];
    const ADMIN_ONLY: fn(u16) -> [u16; 8] = |ok| [ok, 403, 403, 403, 403, 403, 401, 401];
    const ANY_EMPLOYEE: fn(u16) -> [u16; 8] = |ok| [403, ok, ok, ok, ok, ok, 401, 401];
    const ANYONE: fn(u16) -> [u16; 8] = |ok| [ok, ok, ok, ok, ok, ok, 401, 401];
    // Anna's chat / lead: her, supervisors (and the admin for CRM data); 404 for the rest.
    const HERS: fn(u16) -> [u16; 8] = |ok| [403, ok, ok, 404, 404, 404, 401, 401];
    const HER_CRM: fn(u16) -> [u16; 8] = |ok| [ok, ok, ok, 404, 404, 404, 401, 401];
    // Webhooks: the secret in the path is the credential; bearer tokens change nothing.
    const SECRET: fn(u16) -> [u16; 8] = |s| [s; 8];
    let boris = id("boris");
    vec![
        row(
            Method::POST,
            "/api/v1/employees",
            "/api/v1/employees".into(),
            json!({"name": "New", "role": "seller"}),
            MANAGE(201),
        ),
        row(
            Method::GET,
            "/api/v1/employees",
            "/api/v1/employees".into(),
            Value::Null,
            MANAGE(200),
        ),
        row(
            Method::PATCH,
            "/api/v1/employees/{id}",
            format!("/api/v1/employees/{boris}"),
            json!({"name": "Boris B"}),
            MANAGE(200),
        ),
        row(
            Method::PATCH,
            "/api/v1/employees/{id}",
            format!("/api/v1/employees/{boris}"),
            json!({"active": false}),
            MANAGE(200),
        ),
        row(
            Method::POST,
            "/api/v1/employees/{id}/tokens",
            format!("/api/v1/employees/{boris}/tokens"),
            Value::Null,
            ADMIN_ONLY(201),
        ),
        // A deactivated employee gets no new token until reactivated.
        row(
            Method::POST,
            "/api/v1/employees/{id}/tokens",
            format!("/api/v1/employees/{}/tokens", id("dima")),
            Value::Null,
            ADMIN_ONLY(409),
        ),
        row(
            Method::GET,
            "/api/v1/employees/{id}/tokens",
            format!("/api/v1/employees/{boris}/tokens"),
            Value::Null,
            MANAGE(200),
        ),
        row(
            Method::DELETE,
            "/api/v1/tokens/{id}",
            format!("/api/v1/tokens/{}", id("boris_token")),
            Value::Null,
            MANAGE(204),
        ),
        row(
            Method::GET,
            "/api/v1/me",
            "/api/v1/me".into(),
            Value::Null,
            ANY_EMPLOYEE(200),
        ),
        row(
            Method::DELETE,
            "/api/v1/me/token",
            "/api/v1/me/token".into(),
            Value::Null,
            ANY_EMPLOYEE(204),
        ),
        row(
            Method::POST,
            "/api/v1/channels",
            "/api/v1/channels".into(),
            json!({"transport": "telegram", "name": "TG"}),
            MANAGE(201),
        ),
        row(
            Method::GET,
            "/api/v1/channels",
            "/api/v1/channels".into(),
            Value::Null,
            ANYONE(200),
        ),
        row(
            Method::PATCH,
            "/api/v1/channels/{id}",
            format!("/api/v1/channels/{channel}"),
            json!({"state": "active"}),
            MANAGE(200),
        ),
        row(
            Method::GET,
            "/api/v1/settings",
            "/api/v1/settings".into(),
            Value::Null,
            ANYONE(200),
        ),
        row(
            Method::PUT,
            "/api/v1/settings",
            "/api/v1/settings".into(),
            json!({"notify_supervisors_all": true}),
            MANAGE(200),
        ),
        row(
            Method::GET,
            "/api/v1/settings/audit",
            "/api/v1/settings/audit".into(),
            Value::Null,
            MANAGE(200),
        ),
        row(
            Method::GET,
            "/api/v1/quick-replies",
            "/api/v1/quick-replies".into(),
            Value::Null,
            ANYONE(200),
        ),
        row(
            Method::POST,
            "/api/v1/quick-replies",
            "/api/v1/quick-replies".into(),
            json!({"title": "Bye", "text": "Bye {client}"}),
            MANAGE(201),
        ),
        // One's own: any employee (the administrator has none).
        row(
            Method::POST,
            "/api/v1/quick-replies",
            "/api/v1/quick-replies".into(),
            json!({"title": "Mine", "text": "Mine", "personal": true}),
            ANY_EMPLOYEE(201),
        ),
        row(
            Method::PATCH,
            "/api/v1/quick-replies/{id}",
            format!("/api/v1/quick-replies/{}", id("workspace_reply")),
            json!({"text": "Hi {client}"}),
            MANAGE(200),
        ),
        // Anna's own: hers alone; to everyone else it does not exist.
        row(
            Method::PATCH,
            "/api/v1/quick-replies/{id}",
            format!("/api/v1/quick-replies/{}", id("annas_reply")),
            json!({"text": "Prices {client}"}),
            [404, 404, 200, 404, 404, 404, 401, 401],
        ),
        row(
            Method::DELETE,
            "/api/v1/quick-replies/{id}",
            format!("/api/v1/quick-replies/{}", id("workspace_reply")),
            Value::Null,
            MANAGE(204),
        ),
        row(
            Method::DELETE,
            "/api/v1/quick-replies/{id}",
            format!("/api/v1/quick-replies/{}", id("annas_reply")),
            Value::Null,
            [404, 404, 204, 404, 404, 404, 401, 401],
        ),
        row(
            Method::PUT,
            "/api/v1/quick-replies/company",
            "/api/v1/quick-replies/company".into(),
            json!({"company": "Romashka"}),
            MANAGE(200),
        ),
        row(
            Method::POST,
            "/api/v1/crm/{kind}",
            "/api/v1/crm/leads".into(),
            json!({"title": "T", "phones": []}),
            MANAGE(201),
        ),
        row(
            Method::GET,
            "/api/v1/crm",
            "/api/v1/crm?q=client".into(),
            Value::Null,
            [403, 200, 200, 200, 200, 403, 401, 401],
        ),
        row(
            Method::GET,
            "/api/v1/crm/connection",
            "/api/v1/crm/connection".into(),
            Value::Null,
            MANAGE(200),
        ),
        // Nothing listens there: the check fails as a 400, after the role was checked.
        row(
            Method::PUT,
            "/api/v1/crm/connection",
            "/api/v1/crm/connection".into(),
            json!({"webhook_url": "https://127.0.0.1:9/rest/1/code/"}),
            MANAGE(400),
        ),
        row(
            Method::DELETE,
            "/api/v1/crm/connection",
            "/api/v1/crm/connection".into(),
            Value::Null,
            MANAGE(200),
        ),
        row(
            Method::POST,
            "/api/v1/crm/connection/check",
            "/api/v1/crm/connection/check".into(),
            json!({"webhook_url": "https://127.0.0.1:9/rest/1/code/"}),
            MANAGE(400),
        ),
        row(
            Method::PUT,
            "/api/v1/crm/connection/events",
            "/api/v1/crm/connection/events".into(),
            json!({"application_token": "t"}),
            MANAGE(409),
        ),
        row(
            Method::GET,
            "/api/v1/crm/{kind}/{id}",
            format!("/api/v1/crm/leads/{lead}"),
            Value::Null,
            HER_CRM(200),
        ),
        row(
            Method::PATCH,
            "/api/v1/crm/{kind}/{id}",
            format!("/api/v1/crm/leads/{lead}"),
            json!({"title": "Renamed"}),
            MANAGE(200),
        ),
        row(
            Method::GET,
            "/api/v1/crm/{kind}/{id}/timeline",
            format!("/api/v1/crm/leads/{lead}/timeline"),
            Value::Null,
            HER_CRM(200),
        ),
        row(
            Method::POST,
            "/webhooks/provider/{secret}",
            format!("/webhooks/provider/{INGRESS}"),
            json!({"test": true}),
            SECRET(200),
        ),
        row(
            Method::POST,
            "/webhooks/provider/{secret}",
            "/webhooks/provider/wrong".into(),
            json!({"test": true}),
            SECRET(404),
        ),
        // The provider's secret does not open the CRM events door (it has its own, made when
        // Bitrix24 is connected; none here).
        row(
            Method::POST,
            "/webhooks/bitrix24/{secret}",
            format!("/webhooks/bitrix24/{INGRESS}"),
            Value::Null,
            SECRET(404),
        ),
        row(
            Method::GET,
            "/api/v1/chats",
            "/api/v1/chats".into(),
            Value::Null,
            ANY_EMPLOYEE(200),
        ),
        row(
            Method::GET,
            "/api/v1/chats/{id}/messages",
            format!("/api/v1/chats/{chat}/messages"),
            Value::Null,
            HERS(200),
        ),
        row(
            Method::GET,
            "/api/v1/messages/{id}/media",
            format!("/api/v1/messages/{}/media", id("mirror_failed")),
            Value::Null,
            HERS(200),
        ),
        // A client's file kept by the hub, by its public link: the link is the credential.
        row(
            Method::GET,
            "/public/files/{token}",
            format!("/public/files/{}", id("public_link")),
            Value::Null,
            SECRET(200),
        ),
        row(
            Method::GET,
            "/public/files/{token}",
            format!("/public/files/{}", "0".repeat(64)),
            Value::Null,
            SECRET(404),
        ),
        row(
            Method::GET,
            "/public/files/{token}/{name}",
            format!("/public/files/{}/photo.png", id("public_link")),
            Value::Null,
            SECRET(200),
        ),
        row(
            Method::GET,
            "/public/files/{token}/{name}",
            format!("/public/files/{}/photo.png", "0".repeat(64)),
            Value::Null,
            SECRET(404),
        ),
        row(
            Method::POST,
            "/api/v1/chats/{id}/files",
            format!("/api/v1/chats/{chat}/files"),
            json!({"$file": {"idempotency-key": "f1", "x-file-name": "a.pdf", "bytes": "%PDF-1.4 x"}}),
            [403, 202, 202, 404, 404, 404, 401, 401],
        ),
        // Anna's key names her message: the same key with a file is hers again (answered before
        // the chat is looked at, so a repeat after the chat moved is still that message); else 409.
        row(
            Method::POST,
            "/api/v1/chats/{id}/files",
            format!("/api/v1/chats/{chat}/files"),
            json!({"$file": {"idempotency-key": "seed-reply", "x-file-name": "a.pdf", "bytes": "%PDF-1.4 x"}}),
            [403, 409, 202, 409, 409, 409, 401, 401],
        ),
        row(
            Method::POST,
            "/api/v1/chats/{id}/answered",
            format!("/api/v1/chats/{chat}/answered"),
            Value::Null,
            HERS(200),
        ),
        row(
            Method::POST,
            "/api/v1/chats/{id}/unanswered",
            format!("/api/v1/chats/{chat}/unanswered"),
            Value::Null,
            HERS(200),
        ),
        // Search: whoever works with chats (each finds only what they may see).
        row(
            Method::GET,
            "/api/v1/search",
            "/api/v1/search?q=hello".into(),
            Value::Null,
            [403, 200, 200, 200, 200, 403, 401, 401],
        ),
        // A hand-over: supervisors (a seller only of their own, when the workspace allows: off
        // here); the administrator has no chats, role `none` none to hand.
        row(
            Method::GET,
            "/api/v1/chats/{id}/transfer",
            format!("/api/v1/chats/{chat}/transfer"),
            Value::Null,
            [403, 200, 403, 404, 404, 403, 401, 401],
        ),
        row(
            Method::POST,
            "/api/v1/chats/{id}/transfer",
            format!("/api/v1/chats/{chat}/transfer"),
            json!({"to": id("boris")}),
            [403, 200, 403, 404, 404, 403, 401, 401],
        ),
        row(
            Method::GET,
            "/api/v1/transfers",
            "/api/v1/transfers".into(),
            Value::Null,
            MANAGE(200),
        ),
        row(
            Method::GET,
            "/api/v1/compose",
            "/api/v1/compose?phone=89161111111".into(),
            Value::Null,
            [403, 200, 200, 200, 200, 403, 401, 401],
        ),
        row(
            Method::GET,
            "/api/v1/compose",
            format!("/api/v1/compose?crm=lead:{lead}"),
            Value::Null,
            [403, 200, 200, 404, 404, 403, 401, 401],
        ),
        row(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"chat": chat, "text": "t", "idempotency_key": "k1"}),
            [403, 202, 202, 404, 404, 404, 401, 401],
        ),
        // Writing first to Anna's client: refused for those who may not see the chat.
        row(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"channel_id": channel, "phone": "8 916 111-11-11", "text": "t", "idempotency_key": "k2"}),
            [403, 202, 202, 409, 409, 403, 401, 401],
        ),
        row(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"channel_id": channel, "crm": format!("lead:{lead}"), "text": "t", "idempotency_key": "k3"}),
            [403, 202, 202, 404, 404, 403, 401, 401],
        ),
        // ... on another channel too (the client's chat elsewhere is Anna's).
        row(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"channel_id": id("viber"), "phone": "8 916 111-11-11", "text": "t", "idempotency_key": "k5"}),
            [403, 202, 202, 409, 409, 403, 401, 401],
        ),
        // The stranger's chat is unassigned: only those who may see it (receiving new clients)
        // may write first to that number on another channel — else they would take it over.
        row(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"channel_id": id("viber"), "phone": "+7 916 222-22-22", "text": "t", "idempotency_key": "k6"}),
            [403, 202, 409, 409, 202, 403, 401, 401],
        ),
        // Anna's key names her message: the same key again is her message; anyone else's 409.
        row(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"channel_id": channel, "phone": "+7 916 333-33-33", "text": "t", "idempotency_key": "seed-reply"}),
            [403, 409, 202, 409, 409, 403, 401, 401],
        ),
        // A new number: anyone with chats may write first (the client becomes theirs).
        row(
            Method::POST,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"channel_id": channel, "phone": "+7 916 333-33-33", "text": "t", "idempotency_key": "k4"}),
            [403, 202, 202, 202, 202, 403, 401, 401],
        ),
        row(
            Method::POST,
            "/api/v1/messages/{id}/retry",
            format!("/api/v1/messages/{}/retry", id("failed")),
            Value::Null,
            HERS(200),
        ),
        row(
            Method::POST,
            "/api/v1/messages/{id}/mirror/retry",
            format!("/api/v1/messages/{}/mirror/retry", id("mirror_failed")),
            Value::Null,
            HERS(200),
        ),
        row(
            Method::GET,
            "/api/v1/me/counters",
            "/api/v1/me/counters".into(),
            Value::Null,
            ANY_EMPLOYEE(200),
        ),
        row(
            Method::GET,
            "/api/v1/sync",
            "/api/v1/sync?cursor=0".into(),
            Value::Null,
            ANY_EMPLOYEE(200),
        ),
        // A snapshot's next page (a token as the hub writes them).
        row(
            Method::GET,
            "/api/v1/sync",
            "/api/v1/sync?cursor=0&page=wh%7C0%7C0%7C0%7C%7C".into(),
            Value::Null,
            ANY_EMPLOYEE(200),
        ),
        row(
            Method::GET,
            "/api/v1/events",
            "/api/v1/events".into(),
            Value::Null,
            ANY_EMPLOYEE(200),
        ),
    ]
}

fn openapi_routes() -> BTreeSet<(String, String)> {
    api::operations()
        .into_iter()
        .map(|(method, path)| (method.to_owned(), path))
        .collect()
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_rules_say() {
    let w = World::new().await;
    let rows = rows(&w);
    let documented = openapi_routes();
    let mut covered = BTreeSet::new();
    let mut wrong = Vec::new();
    let mut n = 0;
    for row in &rows {
        let key = (row.method.to_string(), row.route.to_owned());
        assert!(
            documented.contains(&key),
            "row for an undocumented route: {key:?}"
        );
        covered.insert(key);
        for (who, expected) in CALLERS.iter().zip(row.expect) {
            n += 1;
            let hub = w.copy(n).await;
            let token = w.tokens[CALLERS.iter().position(|c| c == who).expect("caller")].clone();
            let (status, body) = send(
                &hub,
                row.method.clone(),
                &row.path,
                token.as_deref(),
                row.body.clone(),
            )
            .await;
            if status.as_u16() != expected {
                wrong.push(format!(
                    "{} {} as {who}: expected {expected}, got {status} {body}",
                    row.method, row.path
                ));
            }
        }
    }
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without rows in the matrix: {missing:?}"
    );
    assert!(
        wrong.is_empty(),
        "{} of {n} cases wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!(
        "authorization matrix: {} routes, {} rows × {} callers = {n} cases",
        covered.len(),
        rows.len(),
        CALLERS.len()
    );
}

/// What the statuses above do not show: search hits, the refusal's words, no trace of a
/// refused write, and revocation reaching a stream that is already open.
#[tokio::test]
async fn refusals_store_nothing_and_say_whose_client_it_is() {
    let w = World::new().await;
    let hub = w.copy(0).await;
    let (boris, vera, anna) = (
        w.tokens[3].as_deref(),
        w.tokens[4].as_deref(),
        w.tokens[2].as_deref(),
    );
    // Search: Anna finds her lead, Boris does not; supervisors do.
    for (token, found) in [(anna, 1), (boris, 0), (w.tokens[1].as_deref(), 1)] {
        let (s, v) = send(&hub, Method::GET, "/api/v1/crm?q=Anna", token, Value::Null).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v.as_array().map(Vec::len), Some(found), "{v}");
    }
    // Vera receives new clients: the stranger's unassigned chat is hers to see, Anna's is not.
    let (_, chats) = send(&hub, Method::GET, "/api/v1/chats", vera, Value::Null).await;
    assert_eq!(chats.as_array().map(Vec::len), Some(1), "{chats}");
    assert_ne!(chats[0]["id"].as_str(), Some(w.ids["chat"].as_str()));
    // Boris writes first to Anna's client: 409 naming Anna; nothing stored, nothing moved.
    let before = hub.read(|c| Ok(store::last_seq(c)?)).await.expect("seq");
    let count = |hub: &Hub| {
        let hub = hub.clone();
        async move {
            hub.read(|c| Ok(c.query_row("SELECT (SELECT count(*) FROM messages) || '/' || (SELECT count(*) FROM chats) || '/' || (SELECT count(*) FROM crm_entities)", [], |r| r.get::<_, String>(0))?))
                .await
                .expect("count")
        }
    };
    let rows_before = count(&hub).await;
    let (_, anna_chats) = send(&hub, Method::GET, "/api/v1/chats", anna, Value::Null).await;
    let (s, v) = send(&hub, Method::POST, "/api/v1/messages", boris,
        json!({"channel_id": w.ids["channel"], "phone": "+79161111111", "text": "mine now", "idempotency_key": "steal"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "client_taken");
    assert_eq!(v["error"]["owner"], "Anna");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Anna")),
        "{v}"
    );
    assert_eq!(
        hub.read(|c| Ok(store::last_seq(c)?)).await.expect("seq"),
        before
    );
    assert_eq!(count(&hub).await, rows_before);
    let (_, after) = send(&hub, Method::GET, "/api/v1/chats", anna, Value::Null).await;
    assert_eq!(after, anna_chats, "Anna's badge and chat unchanged");
    // The timeline of Anna's lead is not Boris's to read.
    let (s, _) = send(
        &hub,
        Method::GET,
        &format!("/api/v1/crm/leads/{}/timeline", w.ids["lead"]),
        boris,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rotated_admin_token_stops_working() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    let first = open(&path);
    let (s, _) = send(
        &first,
        Method::GET,
        "/api/v1/employees",
        Some(ADMIN),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    drop(first);
    // The hub starts again with another admin token (as `start` does).
    let conn = db::open_hub(&path).expect("db");
    store::replace_admin_token(&conn, "rotated", &switchboard_hub::clock::now()).expect("rotate");
    let hub = Hub::new(conn, INGRESS.into());
    let (s, _) = send(
        &hub,
        Method::GET,
        "/api/v1/employees",
        Some(ADMIN),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the old admin token");
    let (s, _) = send(
        &hub,
        Method::GET,
        "/api/v1/employees",
        Some("rotated"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

/// A deactivated seller's clients are not left with nobody: they are unassigned (and so go to
/// the sellers who receive new clients) until reactivated or handed over in the CRM.
#[tokio::test]
async fn a_deactivated_sellers_clients_go_to_those_who_receive_new_clients() {
    let w = World::new().await;
    let hub = w.copy(0).await;
    let (vera, anna_id) = (w.tokens[4].as_deref(), w.ids["anna"].clone());
    let visible = |hub: Hub, token: Option<String>| async move {
        let (_, v) = send(
            &hub,
            Method::GET,
            "/api/v1/chats",
            token.as_deref(),
            Value::Null,
        )
        .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["id"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert!(!visible(hub.clone(), vera.map(str::to_owned))
        .await
        .contains(&w.ids["chat"]));
    let (s, _) = send(
        &hub,
        Method::PATCH,
        &format!("/api/v1/employees/{anna_id}"),
        Some(ADMIN),
        json!({"active": false}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        visible(hub.clone(), vera.map(str::to_owned))
            .await
            .contains(&w.ids["chat"]),
        "Vera picks up Anna's client"
    );
    // Where Vera's and Boris's desktops stand before Anna is back.
    let other = w.tokens[3].as_deref();
    let cursor = |token: Option<&str>| {
        let (hub, token) = (hub.clone(), token.map(str::to_owned));
        async move {
            let token = token.as_deref();
            let (_, v) = send(
                &hub,
                Method::GET,
                "/api/v1/sync?cursor=0",
                token,
                Value::Null,
            )
            .await;
            v["cursor"].as_i64().expect("cursor")
        }
    };
    let (vera_at, other_at) = (cursor(vera).await, cursor(other).await);
    let (s, _) = send(
        &hub,
        Method::PATCH,
        &format!("/api/v1/employees/{anna_id}"),
        Some(ADMIN),
        json!({"active": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !visible(hub.clone(), vera.map(str::to_owned))
            .await
            .contains(&w.ids["chat"]),
        "Anna's again"
    );
    // Vera's desktop is told the chat went; Boris, who never saw it, hears nothing of it.
    let removed = |token: Option<&str>, at: i64| {
        let (hub, token) = (hub.clone(), token.map(str::to_owned));
        async move {
            let token = token.as_deref();
            let path = format!("/api/v1/sync?cursor={at}");
            let (_, v) = send(&hub, Method::GET, &path, token, Value::Null).await;
            v["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .filter(|c| c["type"] == "chat_removed")
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(removed(vera, vera_at).await, [w.ids["chat"].clone()]);
    assert_eq!(removed(other, other_at).await, Vec::<String>::new());
}

/// Errors the framework makes (an unreadable path or query, an unknown route or method) come
/// in the hub's one error shape too.
#[tokio::test]
async fn every_error_has_the_error_shape() {
    let w = World::new().await;
    let hub = w.copy(0).await;
    let anna = w.tokens[2].as_deref();
    for (method, path, status) in [
        (
            Method::GET,
            format!("/api/v1/chats/{}/messages?limit=-1", w.ids["chat"]),
            400,
        ),
        (Method::GET, "/api/v1/sync?cursor=abc".to_owned(), 400),
        (Method::GET, "/api/v1/nothing-here".to_owned(), 404),
        (Method::PATCH, "/api/v1/chats".to_owned(), 405),
    ] {
        let (s, v) = send(&hub, method.clone(), &path, anna, Value::Null).await;
        assert_eq!(s.as_u16(), status, "{method} {path}: {v}");
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{method} {path}: {v}"
        );
    }
}

/// What the long fuzz run found stored from a 2xx, refused now with the field named: empty
/// names and titles, a deal's contact that is not one, an entity named by a second spelling of
/// its id (its phones went into the index under that spelling).
#[tokio::test]
async fn malformed_edits_are_refused_and_store_nothing() {
    let w = World::new().await;
    let hub = w.copy(0).await;
    let before = hub.read(|c| Ok(store::last_seq(c)?)).await.expect("seq");
    let lead = &w.ids["lead"];
    for (method, path, body, status, field) in [
        (
            Method::PATCH,
            format!("/api/v1/employees/{}", w.ids["boris"]),
            json!({"name": " "}),
            400,
            "name",
        ),
        (
            Method::PATCH,
            format!("/api/v1/channels/{}", w.ids["channel"]),
            json!({"name": ""}),
            400,
            "name",
        ),
        (
            Method::PATCH,
            format!("/api/v1/crm/leads/{lead}"),
            json!({"title": ""}),
            400,
            "title",
        ),
        (
            Method::PATCH,
            format!("/api/v1/crm/leads/0{lead}"),
            json!({"phones": ["+7 916 999-99-99"]}),
            404,
            "",
        ),
        (
            Method::POST,
            "/api/v1/crm/deals".to_owned(),
            json!({"title": "D", "phones": [], "contact_id": "999"}),
            400,
            "contact_id",
        ),
        (
            Method::POST,
            "/api/v1/crm/deals".to_owned(),
            json!({"title": "D", "phones": [], "contact_id": format!("0{lead}")}),
            400,
            "contact_id",
        ),
    ] {
        let (s, v) = send(&hub, method.clone(), &path, Some(ADMIN), body).await;
        assert_eq!(s.as_u16(), status, "{method} {path}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{method} {path}: {v}"
        );
    }
    assert_eq!(
        hub.read(|c| Ok(store::last_seq(c)?)).await.expect("seq"),
        before,
        "nothing stored"
    );
}

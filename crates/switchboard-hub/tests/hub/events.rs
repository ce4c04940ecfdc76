//! The live events stream at its edges: a burst bigger than the event ring, a stream that
//! lags, and access taken back while a stream is open. Streams (and the provider's webhook)
//! go in-process (the router), so the test decides when the stream is read; every other call
//! goes through the typed client to the same hub served on a loopback port.

use crate::common::{self, assert_refused, new_channel, new_employee};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::time::Duration;
use switchboard_client::{ops, HubClient};
use switchboard_core::{Role, Transport};
use switchboard_hub::json::{EmployeePatch, NewEmployee};
use switchboard_hub::{api, db, serve, store, Hub, HubEvent, EVENT_RING};
use tower::ServiceExt;

const ADMIN: &str = "events-admin";
const INGRESS: &str = "events-ingress";

struct T {
    _dir: tempfile::TempDir,
    hub: Hub,
    /// The same hub's router served on a loopback port, for the typed client.
    url: String,
    http: reqwest::Client,
}

impl T {
    async fn new() -> T {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = db::open_hub(&dir.path().join("hub.db")).expect("db");
        store::ensure_workspace(&conn).expect("workspace");
        store::replace_admin_token(&conn, ADMIN, &switchboard_hub::clock::now()).expect("admin");
        let hub = Hub::new(conn, INGRESS.into());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("listen");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(serve::serve(
            listener,
            api::router(hub.clone()),
            serve::Limits::default(),
            std::future::pending(),
        ));
        T {
            hub,
            url,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// The typed client, calling as `token`.
    fn client(&self, token: &str) -> HubClient {
        common::client(&self.http, &self.url, token)
    }

    /// The typed client, calling as the administrator.
    fn admin(&self) -> HubClient {
        self.client(ADMIN)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Body) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = if body.is_null() {
            Body::empty()
        } else {
            req = req.header("content-type", "application/json");
            Body::from(body.to_string())
        };
        let resp = api::router(self.hub.clone())
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("answer");
        (resp.status(), resp.into_body())
    }

    async fn json(&self, method: Method, path: &str, token: Option<&str>, body: Value) -> Value {
        let (s, b) = self.call(method, path, token, body).await;
        let bytes = b.collect().await.expect("body").to_bytes();
        assert!(
            s.is_success(),
            "{path}: {s} {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    /// A seller who receives new clients: notified of every new client's first message.
    async fn seller(&self, name: &str) -> (String, String) {
        let e = self
            .admin()
            .create_employee(&NewEmployee {
                receives_new_clients: true,
                ..new_employee(name, Role::Seller)
            })
            .await
            .expect("employee");
        (e.id, e.token)
    }

    async fn events(&self, token: &str) -> Stream {
        let (s, body) = self
            .call(Method::GET, "/api/v1/events", Some(token), Value::Null)
            .await;
        assert_eq!(s, StatusCode::OK);
        Stream {
            body,
            buf: String::new(),
        }
    }
}

/// Server-sent events as text, one event (up to its blank line) at a time.
struct Stream {
    body: Body,
    buf: String,
}

impl Stream {
    /// The next event's name and data; `None` when the stream ended. Keep-alive comments are skipped.
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name).map(str::trim))
                        .unwrap_or("")
                        .to_owned()
                };
                if block.lines().all(|l| l.starts_with(':') || l.is_empty()) {
                    continue;
                }
                return Some((field("event:"), field("data:")));
            }
            let frame = tokio::time::timeout(Duration::from_secs(30), self.body.frame())
                .await
                .expect("the stream neither sent nor ended within 30 s")?
                .expect("frame");
            if let Ok(data) = frame.into_data() {
                self.buf.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_larger_than_the_ring_notifies_every_message() {
    let t = T::new().await;
    let (_, token) = t.seller("Vera").await;
    let channel = t
        .admin()
        .create_channel(&new_channel(Transport::Whatsapp, "WA"))
        .await
        .expect("channel")
        .id;
    let mut stream = t.events(&token).await;
    assert_eq!(stream.next().await.map(|e| e.0), Some("change".into()));
    // One delivery from the provider with more new clients than the event ring holds.
    let n = EVENT_RING + 100;
    let messages: Vec<Value> = (0..n)
        .map(|i| {
            json!({"messageId": format!("b{i}"), "channelId": channel, "chatType": "whatsapp",
            "chatId": format!("7916{i:07}"), "dateTime": "2026-11-25T10:00:00.000Z", "type": "text",
            "status": "inbound", "text": format!("hello {i}")})
        })
        .collect();
    t.json(
        Method::POST,
        &format!("/webhooks/provider/{INGRESS}"),
        None,
        json!({"messages": messages}),
    )
    .await;
    let (mut notified, mut other) = (0, Vec::new());
    while notified < n {
        match stream.next().await.expect("the stream goes on") {
            (e, _) if e == "notify" => notified += 1,
            (e, data) => other.push(format!("{e} {data}")),
        }
    }
    assert_eq!(notified, n);
    assert!(other.iter().all(|e| e.starts_with("change")), "{other:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lagging_stream_is_told_to_resync() {
    let t = T::new().await;
    let (_, token) = t.seller("Vera").await;
    let mut stream = t.events(&token).await;
    assert_eq!(stream.next().await.map(|e| e.0), Some("change".into()));
    // More events than the ring holds, while this stream reads nothing.
    for i in 0..(EVENT_RING as i64 + 10) {
        t.hub.publish(HubEvent::Change(i));
    }
    let (event, data) = stream.next().await.expect("an event");
    assert_eq!(event, "resync", "{data}");
    let data: Value = serde_json::from_str(&data).expect("json");
    assert!(data["cursor"].is_i64(), "{data}");
    assert!(data["missed"].as_u64().is_some_and(|m| m >= 10), "{data}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivating_or_revoking_ends_an_open_stream_at_once() {
    let t = T::new().await;
    let (vera, vera_token) = t.seller("Vera").await;
    let (boris, boris_token) = t.seller("Boris").await;
    // Deactivation: every stream of Vera's ends; Boris's goes on.
    let mut vera_stream = t.events(&vera_token).await;
    let mut boris_stream = t.events(&boris_token).await;
    assert!(vera_stream.next().await.is_some());
    assert!(boris_stream.next().await.is_some());
    t.admin()
        .patch_employee(
            &vera,
            &EmployeePatch {
                active: Some(false),
                ..EmployeePatch::default()
            },
        )
        .await
        .expect("deactivated");
    while let Some((e, _)) = vera_stream.next().await {
        assert_eq!(e, "change", "only changes before the end");
    }
    assert_refused(
        t.client(&vera_token).events().await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    // Revoking one token: that stream ends.
    let admin = t.admin();
    let tokens = admin.employee_tokens(&boris).await.expect("tokens");
    // Sent as `revoke_token` sends it, read here for its exact status.
    let revoked = HubClient::send(
        admin
            .request(ops::REVOKE_TOKEN, &[&tokens[0].id])
            .expect("path"),
    )
    .await
    .expect("revoked");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    while let Some((e, _)) = boris_stream.next().await {
        assert_eq!(e, "change", "only changes before the end");
    }
    assert_refused(
        t.client(&boris_token).me().await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}

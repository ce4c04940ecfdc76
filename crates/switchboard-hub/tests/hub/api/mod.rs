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

mod access;
mod chats;
mod live;
mod surface;

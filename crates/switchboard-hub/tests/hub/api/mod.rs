//! The hub as its clients see it: real HTTP on a port-0 socket (and in-process for the
//! route/OpenAPI check), a fresh data directory per test.

use crate::common::{self, assert_refused, new_channel, new_employee};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use switchboard_client::HubClient;
use switchboard_core::{BadgeColor, Role, Transport};
use switchboard_hub::api::EdgeHub;
use switchboard_hub::{start, RunningHub, ServeConfig};
use switchboard_wire::{ChatView, NewEmployee, SettingsPatch};

struct T {
    hub: RunningHub,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    channel: String,
    seq: u32,
}

impl T {
    async fn new() -> T {
        let (hub, dir) = common::hub().await;
        let mut t = T {
            hub,
            http: reqwest::Client::new(),
            _dir: dir,
            channel: String::new(),
            seq: 0,
        };
        t.channel = t
            .admin()
            .create_channel(&new_channel(Transport::Whatsapp, "WA"))
            .await
            .expect("channel")
            .id;
        t
    }

    /// The typed client, calling as `token`.
    fn client(&self, token: &str) -> HubClient {
        common::client(&self.http, &self.hub.url, token)
    }

    /// The typed client, calling as the administrator.
    fn admin(&self) -> HubClient {
        self.client(&self.hub.admin_token)
    }

    async fn employee(&self, name: &str, role: Role, receives: bool) -> (String, String) {
        let e = self
            .admin()
            .create_employee(&NewEmployee {
                receives_new_clients: receives,
                ..new_employee(name, role)
            })
            .await
            .expect("employee");
        (e.id, e.token)
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

    async fn chats(&self, token: &str) -> Vec<ChatView> {
        self.client(token).chats().await.expect("chats")
    }

    /// `(count, color)` of the only chat `token` sees.
    async fn badge(&self, token: &str) -> Option<(u32, Option<BadgeColor>)> {
        let chats = self.chats(token).await;
        chats
            .first()
            .map(|c| (c.unanswered.count, c.unanswered.color))
    }
}

mod access;
mod chats;
mod live;
mod replies;
mod search;
mod surface;
mod transfer;

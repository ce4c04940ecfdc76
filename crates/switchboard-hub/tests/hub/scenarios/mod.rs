//! One scenario suite for both CRM adapters: every scenario runs against the built-in CRM (the
//! hub's own tables) and against Bitrix24 (the contract fake, its outgoing webhook set up so
//! CRM changes reach the hub as events). The hub is the real binary on a real port, killed
//! with SIGKILL where a scenario says so; time is shrunk 100× (`--crm-backoff-ms 10`: the
//! queue's retries start at 10 ms and stop doubling at 600 ms instead of 1 s and a minute), so a
//! 3 s outage stands for five minutes.
//!
//! What differs between the adapters is only how the CRM is filled and read: through the
//! hub's built-in CRM routes, or in the portal (the fake) whose changes arrive as events.
//! The built-in CRM lives in the hub's own database and cannot be out on its own: its outage
//! and 503 steps are no-ops, and the scenario checks the same outcome (each message once, in
//! order) with the hub's own crash as the only failure.

use crate::common;
use common::{free_port, until, HubProcess, ADMIN};

use bitrix24_fake::{FakeConfig, Fault, Outgoing, RunningFake};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use switchboard_core::read_crm_phone;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Adapter {
    BuiltIn,
    Bitrix,
}

struct Employee {
    id: String,
    token: String,
    crm_user_id: u64,
}

struct World {
    adapter: Adapter,
    dir: tempfile::TempDir,
    listen: String,
    hub: Option<HubProcess>,
    url: String,
    http: reqwest::Client,
    fake: Option<RunningFake>,
    channel: String,
    anna: Employee,
    boris: Employee,
    gleb: Employee,
    vera: Employee,
}

/// A CRM reference as the hub's routes name it: (kind, id).
type Ref = (&'static str, String);

impl World {
    async fn new(adapter: Adapter) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let listen = format!("127.0.0.1:{}", free_port());
        let fake = match adapter {
            Adapter::BuiltIn => None,
            Adapter::Bitrix => Some(
                bitrix24_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(1, "sc3n4r10"))
                    .await
                    .expect("fake"),
            ),
        };
        let hub = start_hub(dir.path(), &listen).await;
        let url = hub.url.clone();
        let http = reqwest::Client::new();
        let placeholder = || Employee {
            id: String::new(),
            token: String::new(),
            crm_user_id: 0,
        };
        let mut w = World {
            adapter,
            dir,
            listen,
            hub: Some(hub),
            url,
            http,
            fake,
            channel: String::new(),
            anna: placeholder(),
            boris: placeholder(),
            gleb: placeholder(),
            vera: placeholder(),
        };
        w.channel = w
            .admin(
                Method::POST,
                "/api/v1/channels",
                json!({"transport": "whatsapp", "name": "WA"}),
            )
            .await["id"]
            .as_str()
            .expect("channel")
            .to_owned();
        w.anna = w.employee("Анна", "seller", 7).await;
        w.boris = w.employee("Борис", "seller", 8).await;
        w.gleb = w.employee("Глеб", "seller", 10).await;
        w.vera = w.employee("Вера", "supervisor", 9).await;
        if let Some(f) = &w.fake {
            let webhook = f.webhook.clone();
            w.admin(
                Method::PUT,
                "/api/v1/crm/connection",
                json!({"webhook_url": webhook}),
            )
            .await;
            let c = w
                .admin(
                    Method::PUT,
                    "/api/v1/crm/connection/events",
                    json!({"application_token": "app-token-1"}),
                )
                .await;
            assert_eq!(c["events"], true, "{c}");
            let handler = c["events_url"].as_str().expect("events url").to_owned();
            f.fake.set_outgoing(Some(Outgoing {
                handler,
                application_token: "app-token-1".into(),
            }));
        }
        w
    }

    fn fake(&self) -> &RunningFake {
        self.fake.as_ref().expect("the Bitrix24 fake")
    }

    async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        common::call(&self.http, &self.url, token, method, path, body).await
    }

    async fn admin(&self, method: Method, path: &str, body: Value) -> Value {
        let (s, v) = self.call(ADMIN, method, path, body).await;
        assert!(s.is_success(), "{path}: {s} {v}");
        v
    }

    async fn employee(&self, name: &str, role: &str, crm_user_id: u64) -> Employee {
        let v = self
            .admin(
                Method::POST,
                "/api/v1/employees",
                json!({"name": name, "role": role, "receives_new_clients": false, "crm_user_id": crm_user_id.to_string()}),
            )
            .await;
        Employee {
            id: v["id"].as_str().expect("id").to_owned(),
            token: v["token"].as_str().expect("token").to_owned(),
            crm_user_id,
        }
    }

    /// Kills the hub with SIGKILL and starts it again on the same directory and address.
    async fn crash_and_restart(&mut self) {
        if let Some(h) = self.hub.take() {
            h.kill().await;
        }
        let hub = start_hub(self.dir.path(), &self.listen).await;
        assert_eq!(hub.url, self.url);
        self.hub = Some(hub);
    }

    // ---------- the CRM, as its users fill it ----------

    /// Adds a lead, contact or deal; returns once the hub knows it.
    async fn add(
        &self,
        kind: &'static str,
        title: &str,
        phones: &[&str],
        responsible: &Employee,
        contacts: &[&str],
    ) -> Ref {
        let id = match self.adapter {
            Adapter::BuiltIn => {
                let v = self
                    .admin(
                        Method::POST,
                        &format!("/api/v1/crm/{kind}s"),
                        json!({"title": title, "phones": phones, "responsible_id": responsible.id,
                               "contact_id": contacts.first()}),
                    )
                    .await;
                v["id"].as_str().expect("id").to_owned()
            }
            Adapter::Bitrix => {
                let phones: Vec<Value> = phones.iter().map(|p| json!({"VALUE": p})).collect();
                let mut fields =
                    json!({"ASSIGNED_BY_ID": responsible.crm_user_id, "PHONE": phones});
                fields[if kind == "contact" { "NAME" } else { "TITLE" }] = json!(title);
                if !contacts.is_empty() {
                    fields["CONTACT_IDS"] = json!(contacts);
                }
                self.fake().fake.add(kind, fields).expect("add").to_string()
            }
        };
        let r = (kind, id);
        self.until_entity(&r, |e| e["responsible_id"] == responsible.id.as_str())
            .await;
        r
    }

    /// Changes an entity's responsible or closes it, as its users would; returns once the hub
    /// has the change.
    async fn change(&self, r: &Ref, responsible: Option<&Employee>, closed: Option<bool>) {
        match self.adapter {
            Adapter::BuiltIn => {
                let mut body = json!({});
                if let Some(e) = responsible {
                    body["responsible_id"] = json!(e.id);
                }
                if let Some(c) = closed {
                    body["closed"] = json!(c);
                }
                self.admin(
                    Method::PATCH,
                    &format!("/api/v1/crm/{}s/{}", r.0, r.1),
                    body,
                )
                .await;
            }
            Adapter::Bitrix => {
                let mut fields = json!({});
                if let Some(e) = responsible {
                    fields["ASSIGNED_BY_ID"] = json!(e.crm_user_id);
                }
                if let Some(c) = closed {
                    fields["CLOSED"] = json!(if c { "Y" } else { "N" });
                }
                self.fake()
                    .fake
                    .update(r.0, r.1.parse().expect("id"), fields)
                    .expect("update");
            }
        }
        self.until_entity(r, |e| {
            responsible.is_none_or(|x| e["responsible_id"] == x.id.as_str())
                && closed.is_none_or(|c| e["closed"] == c)
        })
        .await;
    }

    async fn until_entity(&self, r: &Ref, ok: impl Fn(&Value) -> bool) {
        let path = format!("/api/v1/crm/{}s/{}", r.0, r.1);
        until(&format!("the hub knows {path}"), || async {
            let (s, v) = self.call(ADMIN, Method::GET, &path, Value::Null).await;
            s == StatusCode::OK && ok(&v)
        })
        .await;
    }

    /// The entity's timeline, first line of each entry (the portal's comments carry a marker
    /// line after the text).
    async fn timeline(&self, r: &Ref) -> Vec<String> {
        match self.adapter {
            Adapter::BuiltIn => {
                let v = self
                    .admin(
                        Method::GET,
                        &format!("/api/v1/crm/{}s/{}/timeline", r.0, r.1),
                        Value::Null,
                    )
                    .await;
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| e["text"].as_str().unwrap_or_default().to_owned())
                    .collect()
            }
            Adapter::Bitrix => self
                .fake()
                .fake
                .comments()
                .into_iter()
                .filter(|c| c.entity_type == r.0 && c.entity_id.to_string() == r.1)
                .map(|c| c.comment.lines().next().unwrap_or_default().to_owned())
                .collect(),
        }
    }

    /// The CRM answers nothing but 503 for `d`; `false` when this CRM cannot be out on its own.
    fn outage(&self, d: Duration) -> bool {
        match &self.fake {
            Some(f) => {
                f.fake.outage(d);
                true
            }
            None => false,
        }
    }

    /// The next `n` calls draw `QUERY_LIMIT_EXCEEDED`; `false` when this CRM has no rate limit.
    fn storm(&self, n: usize) -> bool {
        match &self.fake {
            Some(f) => {
                f.fake.inject(std::iter::repeat_n(Fault::QueryLimit, n));
                true
            }
            None => false,
        }
    }

    // ---------- the conversation ----------

    /// A client writes (the provider's webhook; the same `id` again is a redelivery).
    async fn client_writes(&self, id: &str, phone: &str, text: &str) {
        self.provider(json!({"messages": [{"messageId": id, "channelId": self.channel, "chatType": "whatsapp",
            "chatId": phone, "dateTime": "2026-11-25T10:00:00.000Z", "type": "text", "status": "inbound",
            "text": text, "contact": {"name": "Клиент"}}]}))
            .await;
    }

    async fn provider(&self, body: Value) {
        let secret =
            std::fs::read_to_string(self.dir.path().join("ingress-secret")).expect("secret");
        let r = self
            .http
            .post(format!("{}/webhooks/provider/{}", self.url, secret.trim()))
            .json(&body)
            .send()
            .await
            .expect("webhook");
        assert_eq!(r.status(), StatusCode::OK);
    }

    async fn reply(&self, who: &Employee, chat: &str, key: &str, text: &str) {
        common::reply(&self.http, &self.url, &who.token, chat, text, key).await;
    }

    /// The chats the supervisor sees (all of them).
    async fn chats(&self) -> Vec<Value> {
        let (_, v) = self
            .call(&self.vera.token, Method::GET, "/api/v1/chats", Value::Null)
            .await;
        v.as_array().cloned().unwrap_or_default()
    }

    /// The WhatsApp chat with `phone` (waits for it, up to 30 s).
    async fn chat(&self, phone: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .chats()
                .await
                .into_iter()
                .find(|c| c["chat_id"] == phone && c["channel_id"] == self.channel.as_str());
            if let Some(c) = found {
                return c;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no chat with {phone}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn sees(&self, who: &Employee, phone: &str) -> bool {
        let (_, v) = self
            .call(&who.token, Method::GET, "/api/v1/chats", Value::Null)
            .await;
        v.as_array()
            .is_some_and(|a| a.iter().any(|c| c["chat_id"] == phone))
    }

    async fn mirror_states(&self, chat: &str) -> Vec<Value> {
        let (_, v) = self
            .call(
                &self.vera.token,
                Method::GET,
                &format!("/api/v1/chats/{chat}/messages"),
                Value::Null,
            )
            .await;
        v.as_array()
            .into_iter()
            .flatten()
            .map(|m| m["mirror"]["state"].clone())
            .collect()
    }

    async fn settings(&self, body: Value) {
        self.admin(Method::PUT, "/api/v1/settings", body).await;
    }
}

async fn start_hub(dir: &std::path::Path, listen: &str) -> HubProcess {
    HubProcess::start(
        dir,
        listen,
        &["--crm-backoff-ms", "10", "--crm-timeout", "2"],
        &[],
    )
    .await
}

fn refs(chat: &Value) -> Vec<String> {
    let mut v: Vec<String> = chat["crm"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{}:{}",
                c["kind"].as_str().unwrap_or(""),
                c["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

fn vectors() -> Vec<(String, bool, String)> {
    let path = match std::env::var_os("SWITCHBOARD_SHARED") {
        Some(dir) => PathBuf::from(dir).join("spec/phone-vectors.tsv"),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/phone-vectors.tsv")
        }
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((
                cols.next()?.to_owned(),
                cols.next()? == "on",
                cols.next()?.to_owned(),
            ))
        })
        .collect()
}

/// Runs a scenario against both adapters.
macro_rules! both {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn built_in() {
                super::$scenario(super::Adapter::BuiltIn).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bitrix24() {
                super::$scenario(super::Adapter::Bitrix).await
            }
        }
    };
}

mod delivery;
mod linking;
mod timeline;

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
use common::{free_port, new_channel, new_employee, new_entity, until, HubProcess, ADMIN};

use bitrix24_fake::{FakeConfig, Fault, RunningFake};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use switchboard_client::HubClient;
use switchboard_core::{read_crm_phone, EntityKind, MirrorSkip, Role, Transport};
use switchboard_hub::json::{
    ChatView, CrmEntityPatch, CrmEntityView, MirrorState, NewChannel, NewCrmEntity, NewEmployee,
    SettingsPatch,
};

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

/// A CRM reference: (kind, id).
type Ref = (EntityKind, String);

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
            .admin()
            .create_channel(&new_channel(Transport::Whatsapp, "WA"))
            .await
            .expect("channel")
            .id;
        w.anna = w.employee("Анна", Role::Seller, 7).await;
        w.boris = w.employee("Борис", Role::Seller, 8).await;
        w.gleb = w.employee("Глеб", Role::Seller, 10).await;
        w.vera = w.employee("Вера", Role::Supervisor, 9).await;
        if let Some(f) = &w.fake {
            common::connect_bitrix24(&w.admin(), f, "app-token-1").await;
        }
        w
    }

    fn fake(&self) -> &RunningFake {
        self.fake.as_ref().expect("the Bitrix24 fake")
    }

    /// The typed client, calling as `token`.
    fn client(&self, token: &str) -> HubClient {
        common::client(&self.http, &self.url, token)
    }

    /// The typed client, calling as the administrator.
    fn admin(&self) -> HubClient {
        self.client(ADMIN)
    }

    async fn employee(&self, name: &str, role: Role, crm_user_id: u64) -> Employee {
        let v = self
            .admin()
            .create_employee(&NewEmployee {
                crm_user_id: Some(crm_user_id.to_string()),
                ..new_employee(name, role)
            })
            .await
            .expect("employee");
        Employee {
            id: v.id,
            token: v.token,
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
        kind: EntityKind,
        title: &str,
        phones: &[&str],
        responsible: &Employee,
        contacts: &[&str],
    ) -> Ref {
        let id = match self.adapter {
            Adapter::BuiltIn => {
                let entity = NewCrmEntity {
                    responsible_id: Some(responsible.id.clone()),
                    contact_id: contacts.first().map(|c| (*c).to_owned()),
                    ..new_entity(title, phones)
                };
                self.admin()
                    .crm_create(kind, &entity)
                    .await
                    .expect("created")
                    .id
            }
            Adapter::Bitrix => {
                let phones: Vec<Value> = phones.iter().map(|p| json!({"VALUE": p})).collect();
                let mut fields =
                    json!({"ASSIGNED_BY_ID": responsible.crm_user_id, "PHONE": phones});
                fields[if kind == EntityKind::Contact {
                    "NAME"
                } else {
                    "TITLE"
                }] = json!(title);
                if !contacts.is_empty() {
                    fields["CONTACT_IDS"] = json!(contacts);
                }
                self.fake()
                    .fake
                    .add(kind.as_str(), fields)
                    .expect("add")
                    .to_string()
            }
        };
        let r = (kind, id);
        self.until_entity(&r, |e| {
            e.responsible_id.as_deref() == Some(responsible.id.as_str())
        })
        .await;
        r
    }

    /// Changes an entity's responsible or closes it, as its users would; returns once the hub
    /// has the change.
    async fn change(&self, r: &Ref, responsible: Option<&Employee>, closed: Option<bool>) {
        match self.adapter {
            Adapter::BuiltIn => {
                let patch = CrmEntityPatch {
                    responsible_id: responsible.map(|e| Some(e.id.clone())),
                    closed,
                    ..CrmEntityPatch::default()
                };
                self.admin()
                    .crm_patch(r.0, &r.1, &patch)
                    .await
                    .expect("patched");
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
                    .update(r.0.as_str(), r.1.parse().expect("id"), fields)
                    .expect("update");
            }
        }
        self.until_entity(r, |e| {
            responsible.is_none_or(|x| e.responsible_id.as_deref() == Some(x.id.as_str()))
                && closed.is_none_or(|c| e.closed == c)
        })
        .await;
    }

    async fn until_entity(&self, r: &Ref, ok: impl Fn(&CrmEntityView) -> bool) {
        let admin = self.admin();
        until(
            &format!("the hub knows {} {}", r.0.as_str(), r.1),
            || async { admin.crm_entity(r.0, &r.1).await.is_ok_and(|e| ok(&e)) },
        )
        .await;
    }

    /// The entity's timeline, first line of each entry (the portal's comments carry a marker
    /// line after the text).
    async fn timeline(&self, r: &Ref) -> Vec<String> {
        match self.adapter {
            Adapter::BuiltIn => self
                .admin()
                .crm_timeline(r.0, &r.1)
                .await
                .expect("timeline")
                .into_iter()
                .map(|e| e.text)
                .collect(),
            Adapter::Bitrix => self
                .fake()
                .fake
                .comments()
                .into_iter()
                .filter(|c| c.entity_type == r.0.as_str() && c.entity_id.to_string() == r.1)
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
        common::reply(&self.client(&who.token), chat, text, key).await;
    }

    /// The chats the supervisor sees (all of them).
    async fn chats(&self) -> Vec<ChatView> {
        self.client(&self.vera.token).chats().await.expect("chats")
    }

    /// The WhatsApp chat with `phone` (waits for it, up to 30 s).
    async fn chat(&self, phone: &str) -> ChatView {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .chats()
                .await
                .into_iter()
                .find(|c| c.chat_id == phone && c.channel_id == self.channel);
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
        self.client(&who.token)
            .chats()
            .await
            .expect("chats")
            .iter()
            .any(|c| c.chat_id == phone)
    }

    async fn mirror_states(&self, chat: &str) -> Vec<MirrorState> {
        self.client(&self.vera.token)
            .chat_messages(chat, None, None)
            .await
            .expect("messages")
            .into_iter()
            .map(|m| m.mirror.state)
            .collect()
    }

    async fn settings(&self, patch: SettingsPatch) {
        self.admin().put_settings(&patch).await.expect("settings");
    }

    /// Setting 1 on or off.
    async fn save_to_timeline(&self, on: bool) {
        self.settings(SettingsPatch {
            save_to_crm_timeline: Some(on),
            ..SettingsPatch::default()
        })
        .await;
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

/// The chat's CRM links as `kind:id`, sorted.
fn refs(chat: &ChatView) -> Vec<String> {
    let mut v: Vec<String> = chat.crm.iter().map(ToString::to_string).collect();
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

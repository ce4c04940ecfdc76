//! Setting 1's durable queue: every message in the timeline of every linked entity exactly
//! once and in order — through the built-in CRM over the hub's HTTP surface, and through a
//! CRM port that loses answers, fails and refuses (the queue's own guarantees).

use crate::common;
use common::{new_channel, new_employee, new_entity, until};
use switchboard_hub::api::EdgeHub;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_client::HubClient;
use switchboard_core::{EntityKind, MirrorSkip, Role, Transport};
use switchboard_hub::crm::{CrmFailure, CrmPort, TimelineJob};
use switchboard_hub::json::{MessageView, MirrorState, NewChannel, NewCrmEntity, SettingsPatch};
use switchboard_hub::store::{self, Inbound};
use switchboard_hub::{Hub, RunningHub};

struct T {
    hub: RunningHub,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl T {
    async fn new() -> T {
        let (hub, dir) = common::hub().await;
        T {
            hub,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// The typed client, calling as `token`.
    fn client(&self, token: &str) -> HubClient {
        common::client(&self.http, &self.hub.url, token)
    }

    /// The typed client, calling as the administrator.
    fn admin(&self) -> HubClient {
        self.client(&self.hub.admin_token)
    }

    /// A channel made by the administrator; its id.
    async fn channel(&self, channel: &NewChannel) -> String {
        self.admin()
            .create_channel(channel)
            .await
            .expect("channel")
            .id
    }

    /// A built-in CRM entity made by the administrator; its id.
    async fn entity(&self, kind: EntityKind, entity: &NewCrmEntity) -> String {
        self.admin()
            .crm_create(kind, entity)
            .await
            .expect("entity")
            .id
    }

    /// Setting 1 on or off.
    async fn save_to_timeline(&self, on: bool) {
        self.admin()
            .put_settings(&SettingsPatch {
                save_to_crm_timeline: Some(on),
                ..SettingsPatch::default()
            })
            .await
            .expect("settings");
    }

    async fn webhook(&self, body: Value) {
        let (status, _) = common::post_webhook(&self.http, &self.hub, &body).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn timeline(&self, kind: EntityKind, id: &str) -> Vec<String> {
        self.admin()
            .crm_timeline(kind, id)
            .await
            .expect("timeline")
            .into_iter()
            .map(|e| e.text)
            .collect()
    }

    async fn messages(&self, token: &str, chat: &str) -> Vec<MessageView> {
        self.client(token)
            .chat_messages(chat, None, None)
            .await
            .expect("messages")
    }
}

fn client(id: &str, channel: &str, text: &str) -> Value {
    json!({"messages": [{"messageId": id, "channelId": channel, "chatType": "whatsapp", "chatId": "79164569812",
        "dateTime": "2026-11-25T10:00:00.000Z", "type": "text", "status": "inbound", "text": text,
        "contact": {"name": "Ирина"}}]})
}

#[tokio::test]
async fn a_mixed_conversation_lands_once_in_order_in_every_linked_timeline() {
    let t = T::new().await;
    let ch = t.channel(&new_channel(Transport::Whatsapp, "WA")).await;
    let emp = t
        .admin()
        .create_employee(&new_employee("Анна", Role::Seller))
        .await
        .expect("employee");
    let (anna, token) = (emp.id, emp.token);
    let contact = t
        .entity(
            EntityKind::Contact,
            &NewCrmEntity {
                responsible_id: Some(anna.clone()),
                ..new_entity("Ирина", &["8 916 456 98 12"])
            },
        )
        .await;
    let deal = t
        .entity(
            EntityKind::Deal,
            &NewCrmEntity {
                responsible_id: Some(anna.clone()),
                contact_id: Some(contact.clone()),
                ..new_entity("Поставка", &[])
            },
        )
        .await;

    t.webhook(client("m1", &ch, "Здравствуйте")).await;
    // The provider redelivers: nothing is written twice.
    t.webhook(client("m1", &ch, "Здравствуйте")).await;
    let anna = t.client(&token);
    let chat = anna.chats().await.expect("chats")[0].id.clone();
    anna.send_message(&common::reply_in(&chat, "Добрый день!", "r1"))
        .await
        .expect("reply");
    let mut with_file = client("m2", &ch, "");
    with_file["messages"][0]["type"] = json!("image");
    with_file["messages"][0]["contentUri"] = json!("https://store.example/photo.jpg");
    t.webhook(with_file).await;
    // Anna sends a document: kept by the hub (a sandbox channel sends at once).
    let pdf = b"%PDF-1.4\n% the contract".to_vec();
    anna.send_file(
        &chat,
        "f1",
        "договор.pdf",
        "application/pdf",
        pdf.len() as u64,
        pdf.clone().into(),
    )
    .await
    .expect("file");

    until("four entries in each timeline", || async {
        t.timeline(EntityKind::Contact, &contact).await.len() == 4
            && t.timeline(EntityKind::Deal, &deal).await.len() == 4
    })
    .await;
    let link = |entry: &str| {
        entry
            .lines()
            .last()
            .filter(|l| l.starts_with(&format!("{}/public/files/", t.hub.url)))
            .map(str::to_owned)
    };
    for (kind, id) in [(EntityKind::Contact, &contact), (EntityKind::Deal, &deal)] {
        let entries = t.timeline(kind, id).await;
        assert!(entries[0].contains("→ Ирина: Здравствуйте"), "{entries:?}");
        assert!(entries[1].contains("← Анна: Добрый день!"), "{entries:?}");
        // Files are named, with a link to the hub's copy (the provider's link is not shown).
        assert!(
            entries[2].contains("→ Ирина: Photo: photo.jpg"),
            "{entries:?}"
        );
        assert!(!entries[2].contains("store.example"), "{entries:?}");
        assert!(link(&entries[2]).is_some(), "{entries:?}");
        assert!(
            entries[3].contains("← Анна: Document: договор.pdf (application/pdf, 1 KB)"),
            "{entries:?}"
        );
        assert!(entries.iter().all(|e| e.starts_with("[WA]")), "{entries:?}");
        // Whoever opens the CRM follows the link without signing in: the exact bytes.
        let url = link(&entries[3]).expect("a link");
        let got = t.http.get(&url).send().await.expect("get");
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(got.bytes().await.expect("bytes").as_ref(), pdf.as_slice());
    }
    // The client's photo could not be fetched (store.example is nowhere): its link finds nothing.
    let photo = link(&t.timeline(EntityKind::Contact, &contact).await[2]).expect("a link");
    assert_eq!(
        t.http.get(&photo).send().await.expect("get").status(),
        StatusCode::NOT_FOUND
    );
    until("every message shows written", || async {
        t.messages(&token, &chat)
            .await
            .iter()
            .all(|m| m.mirror.state == MirrorState::Written)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        t.timeline(EntityKind::Contact, &contact).await.len(),
        4,
        "nothing doubled later"
    );
}

#[tokio::test]
async fn setting_off_skips_without_back_fill_and_open_lines_write_one_activity() {
    let t = T::new().await;
    let ch = t.channel(&new_channel(Transport::Whatsapp, "WA")).await;
    let ol = t
        .channel(&NewChannel {
            open_lines: true,
            ..new_channel(Transport::Viber, "Viber OL")
        })
        .await;
    let token = t
        .admin()
        .create_employee(&new_employee("Вера", Role::Supervisor))
        .await
        .expect("employee")
        .token;
    let vera = t.client(&token);
    let contact = t
        .entity(EntityKind::Contact, &new_entity("Ирина", &["+79164569812"]))
        .await;

    t.save_to_timeline(false).await;
    t.webhook(client("off-1", &ch, "while off")).await;
    let chat = vera.chats().await.expect("chats")[0].id.clone();
    let m = t.messages(&token, &chat).await;
    assert_eq!(
        m[0].mirror.state,
        MirrorState::Skipped(MirrorSkip::SettingOff)
    );
    t.save_to_timeline(true).await;
    t.webhook(client("on-1", &ch, "after on")).await;
    until("the message after on is written", || async {
        t.timeline(EntityKind::Contact, &contact).await.len() == 1
    })
    .await;
    assert!(
        t.timeline(EntityKind::Contact, &contact).await[0].contains("after on"),
        "no back-fill"
    );

    // Open Lines: messages never mirrored; the chat's first client message makes one activity.
    let mut first = client("ol-1", &ol, "по открытой линии");
    first["messages"][0]["chatType"] = json!("viber");
    t.webhook(first).await;
    let mut second = client("ol-2", &ol, "ещё");
    second["messages"][0]["chatType"] = json!("viber");
    t.webhook(second).await;
    until("the Open Lines activity", || async {
        t.timeline(EntityKind::Contact, &contact).await.len() == 2
    })
    .await;
    let entries = t.timeline(EntityKind::Contact, &contact).await;
    assert!(
        entries[1].contains("Open Lines chat started"),
        "{entries:?}"
    );
    let chats = vera.chats().await.expect("chats");
    let ol_chat = chats
        .iter()
        .find(|c| c.channel_id == ol)
        .expect("open lines chat");
    for m in t.messages(&token, &ol_chat.id).await {
        assert_eq!(m.mirror.state, MirrorState::Skipped(MirrorSkip::OpenLines));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(t.timeline(EntityKind::Contact, &contact).await.len(), 2);
}

/// A CRM that writes but sometimes loses the answer, fails without writing, or refuses.
#[derive(Default)]
struct FlakyCrm {
    /// (key, text) of every entry written, in order.
    entries: Mutex<Vec<(String, String)>>,
    /// Per call, in order: what to do (true: write then lose the answer; false: fail before writing).
    script: Mutex<Vec<bool>>,
    refuse_entity: Option<String>,
}

impl CrmPort for FlakyCrm {
    async fn write_timeline(&self, job: &TimelineJob) -> Result<String, CrmFailure> {
        if self.refuse_entity.as_deref() == Some(job.entity.id.as_str()) {
            return Err(CrmFailure::Refused("OWNER_NOT_FOUND: Not found.".into()));
        }
        let step = {
            let mut s = self.script.lock().expect("lock");
            (!s.is_empty()).then(|| s.remove(0))
        };
        match step {
            Some(false) => Err(CrmFailure::Retry {
                reason: "503 QUERY_LIMIT_EXCEEDED".into(),
                maybe_written: false,
            }),
            Some(true) => {
                self.entries
                    .lock()
                    .expect("lock")
                    .push((job.key.clone(), job.text.clone()));
                Err(CrmFailure::Retry {
                    reason: "timed out".into(),
                    maybe_written: true,
                })
            }
            None => {
                let mut e = self.entries.lock().expect("lock");
                e.push((job.key.clone(), job.text.clone()));
                Ok(e.len().to_string())
            }
        }
    }

    async fn find_timeline(&self, job: &TimelineJob) -> Result<Option<String>, CrmFailure> {
        Ok(self
            .entries
            .lock()
            .expect("lock")
            .iter()
            .position(|(k, _)| *k == job.key)
            .map(|i| (i + 1).to_string()))
    }
}

#[tokio::test]
async fn lost_answers_failures_and_refusals_write_exactly_once_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = switchboard_hub::db::open_hub(&dir.path().join("hub.db")).expect("db");
    store::ensure_workspace(&conn).expect("workspace");
    let hub = Hub::new(conn, "secret".into());
    let (channel, refused_contact) = hub
        .write(|c| {
            let ch = store::insert_channel(
                c,
                &NewChannel {
                    transport: Transport::Whatsapp,
                    name: "WA".into(),
                    open_lines: false,
                },
            )?;
            let entity = |title: &str, phone: &str| {
                store::insert_entity(
                    c,
                    EntityKind::Contact,
                    &NewCrmEntity {
                        title: title.into(),
                        phones: vec![phone.into()],
                        responsible_id: None,
                        contact_id: None,
                        closed: false,
                        stage: None,
                    },
                )
            };
            entity("A", "+79164569812")?;
            let b = entity("B", "+79031234567")?;
            Ok((ch, b))
        })
        .await
        .expect("seed");
    let crm = Arc::new(FlakyCrm {
        // Lose the answer twice, fail before writing three times (a 503 storm), lose once more.
        script: Mutex::new(vec![true, false, false, true, false, true]),
        refuse_entity: Some(refused_contact.clone()),
        ..FlakyCrm::default()
    });
    // Time shrunk: the first retry after 10 ms instead of 1 s.
    switchboard_hub::mirror::spawn_with(hub.clone(), crm.clone(), Duration::from_millis(10));
    for i in 0..6 {
        let ch = channel.clone();
        let phone = if i == 5 { "79031234567" } else { "79164569812" };
        hub.write(move |c| {
            store::ingest(
                c,
                &Inbound {
                    provider_message_id: format!("m{i}"),
                    channel_id: ch.id.clone(),
                    chat_type: "whatsapp".into(),
                    chat_id: phone.into(),
                    at: format!("2026-11-25T10:00:0{i}.000Z"),
                    text: format!("text {i}"),
                    content_uri: None,
                    kind: switchboard_core::MessageKind::Text,
                    is_echo: false,
                    author_id: None,
                    contact_name: Some("Client".into()),
                    contact_phone: None,
                },
                &switchboard_hub::clock::now(),
            )?;
            Ok(())
        })
        .await
        .expect("ingest");
    }
    let written = || crm.entries.lock().expect("lock").clone();
    until("five entries for contact A", || async {
        written().len() == 5
    })
    .await;
    let entries = written();
    let mut keys: Vec<&String> = entries.iter().map(|(k, _)| k).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 5, "each once: {entries:?}");
    // In the order the messages came.
    let texts: Vec<String> = entries
        .iter()
        .map(|(_, t)| t.rsplit(": ").next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(texts, ["text 0", "text 1", "text 2", "text 3", "text 4"]);
    // The refused entity's entry is failed with the CRM's reason.
    let refused = refused_contact.clone();
    let failed: Vec<(String, Option<String>)> = hub
        .read(move |c| {
            let mut s = c.prepare("SELECT state, error FROM mirror_queue WHERE entity_id = ?1")?;
            let rows = s.query_map([&refused], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .expect("read");
    assert_eq!(
        failed,
        vec![(
            "failed".to_owned(),
            Some("OWNER_NOT_FOUND: Not found.".to_owned())
        )]
    );
    hub.close();
}

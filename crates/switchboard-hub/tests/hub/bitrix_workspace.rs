//! A workspace connected to Bitrix24 (the contract fake): Check connection, the local index,
//! chats linked by numbers typed with 8 (deal through its contact), responsibles mapped by CRM
//! user id, timeline comments written once per entity, a new number found with
//! crm.duplicate.findbycomm, the webhook URL never shown whole.

use crate::common;
use common::{assert_refused, new_channel, new_employee, new_entity, until};
use switchboard_hub::api::EdgeHub;

use bitrix24_fake::FakeConfig;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use switchboard_client::ops;
use switchboard_core::{CrmKind, EntityKind, Role, Transport};
use switchboard_hub::json::{CrmConnect, CrmConnectionView, CrmEvents, NewEmployee};

#[tokio::test(flavor = "multi_thread")]
async fn a_bitrix24_workspace_links_mirrors_and_keeps_the_webhook_secret() {
    let f = bitrix24_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(1, "s3cr3tc0de"))
        .await
        .expect("fake");
    let irina = f
        .fake
        .add("contact", json!({"NAME": "Ирина", "LAST_NAME": "Соколова", "ASSIGNED_BY_ID": 7, "PHONE": [{"VALUE": "8 (916) 456-98-12"}]}))
        .expect("contact");
    let deal = f
        .fake
        .add(
            "deal",
            json!({"TITLE": "Поставка 40 шт.", "ASSIGNED_BY_ID": 8, "CONTACT_ID": irina}),
        )
        .expect("deal");
    let (hub, _dir) = common::hub().await;
    let http = reqwest::Client::new();
    let admin = common::client(&http, &hub.url, &hub.admin_token);
    let ch = admin
        .create_channel(&new_channel(Transport::Whatsapp, "WA"))
        .await
        .expect("channel")
        .id;
    let employee = |name: &str, crm_user_id: &str| NewEmployee {
        crm_user_id: Some(crm_user_id.to_owned()),
        ..new_employee(name, Role::Seller)
    };
    let anna = admin
        .create_employee(&employee("Анна", "7"))
        .await
        .expect("Анна");
    let boris = admin
        .create_employee(&employee("Борис", "8"))
        .await
        .expect("Борис");
    let boris_id = boris.id;
    let anna = common::client(&http, &hub.url, &anna.token);
    let boris = common::client(&http, &hub.url, &boris.token);
    let webhook = |url: String| CrmConnect { webhook_url: url };

    // Check connection shows the portal and the webhook's user; a wrong code is refused.
    let v = admin
        .check_crm(&webhook(f.webhook.clone()))
        .await
        .expect("check");
    assert_eq!(v.user.as_deref(), Some("Webhook User"));
    assert_refused(
        admin
            .check_crm(&webhook(format!("{}/rest/1/wrong/", f.url)))
            .await,
        StatusCode::BAD_REQUEST,
        "crm_unreachable",
    );
    admin
        .connect_crm(&webhook(f.webhook.clone()))
        .await
        .expect("connect");
    // Read as sent too: the code must be nowhere in the answer, whatever field would carry it.
    let connection = || async {
        common::typed_and_wire::<CrmConnectionView>(
            admin.request(ops::CRM_CONNECTION, &[]).expect("path"),
        )
        .await
    };
    let (v, wire) = connection().await;
    assert_eq!(v.kind, CrmKind::Bitrix24);
    assert!(
        !wire.contains("s3cr3tc0de"),
        "the code is never shown: {wire}"
    );
    assert!(
        v.webhook_masked
            .as_deref()
            .is_some_and(|m| m.ends_with("/rest/1/••••••/")),
        "{v:?}"
    );
    // Leads, contacts and deals are edited in the portal now.
    assert_refused(
        admin
            .crm_create(EntityKind::Lead, &new_entity("x", &[]))
            .await,
        StatusCode::CONFLICT,
        "crm_is_bitrix24",
    );

    // The index fills; a client typed with 8 in the portal writes: linked to the contact and
    // (through it) the deal, whose responsible (Boris, CRM user 8) answers.
    until("the index has Ирина", || async {
        anna.crm_search("Ирина").await.is_ok_and(|a| !a.is_empty())
    })
    .await;
    let hook = common::webhook_url(&hub);
    let msg = |id: &str, phone: &str, text: &str| common::client_message(id, &ch, phone, text);
    assert!(http
        .post(&hook)
        .json(&msg("b1", "79164569812", "Здравствуйте"))
        .send()
        .await
        .expect("hook")
        .status()
        .is_success());
    let chats = boris.chats().await.expect("chats");
    assert_eq!(chats.len(), 1, "{chats:?}");
    assert_eq!(chats[0].responsible_id.as_deref(), Some(boris_id.as_str()));
    let mut kinds: Vec<&str> = chats[0].crm.iter().map(|c| c.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["contact", "deal"]);
    let deal_id = deal.to_string();
    let entity = boris
        .crm_entity(EntityKind::Deal, &deal_id)
        .await
        .expect("the deal");
    assert_eq!(entity.responsible_name.as_deref(), Some("Борис"));
    assert!(
        entity
            .url
            .as_deref()
            .is_some_and(|u| u.ends_with(&format!("/crm/deal/details/{deal}/"))),
        "{entity:?}"
    );

    // Mirrored once to each entity's timeline in the portal.
    until("two timeline comments", || async {
        f.fake.comments().len() == 2
    })
    .await;
    let mut owners: Vec<(String, u64)> = f
        .fake
        .comments()
        .into_iter()
        .map(|c| (c.entity_type, c.entity_id))
        .collect();
    owners.sort();
    assert_eq!(
        owners,
        vec![("contact".to_owned(), irina), ("deal".to_owned(), deal)]
    );
    assert!(f.fake.comments()[0].comment.contains("Здравствуйте"));

    // A client created in the portal after the last poll: found by crm.duplicate.findbycomm.
    f.fake
        .add(
            "contact",
            json!({"NAME": "Павел", "ASSIGNED_BY_ID": 7, "PHONE": [{"VALUE": "+7 903 123-45-67"}]}),
        )
        .expect("contact");
    assert!(http
        .post(&hook)
        .json(&msg("b2", "79031234567", "Добрый день"))
        .send()
        .await
        .expect("hook")
        .status()
        .is_success());
    until("Anna sees Pavel's chat", || async {
        anna.chats()
            .await
            .is_ok_and(|a| a.iter().any(|c| c.chat_id == "79031234567"))
    })
    .await;
    until("Pavel's message in the portal", || async {
        f.fake.comments().len() == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(f.fake.comments().len(), 3, "nothing twice");
    // The deal's stage by the portal's name for it (crm.status.list).
    assert_eq!(entity.stage.as_deref(), Some("Новая"), "{entity:?}");

    // The portal's outgoing webhook: refused until its application token is stored, then
    // checked against it; a body that is not an event is a 400.
    let (c, wire) = connection().await;
    assert!(!c.events);
    let events_url = c.events_url.expect("events url");
    assert!(events_url.starts_with(&hub.url), "{events_url}");
    // Its own secret: the provider's ingress secret is in no answer and opens no CRM door.
    assert!(
        !wire.contains(hub.hub.ingress_secret()),
        "the ingress secret is shown: {wire}"
    );
    let event = |token: &str| {
        format!("event=ONCRMDEALUPDATE&event_handler_id=7&data%5BFIELDS%5D%5BID%5D={deal}&ts=1&auth%5Bdomain%5D=x&auth%5Bapplication_token%5D={token}")
    };
    let post_event = |url: String, body: String| {
        let http = http.clone();
        async move {
            http.post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("event")
                .status()
        }
    };
    assert_eq!(
        post_event(events_url.clone(), event("tok")).await,
        StatusCode::CONFLICT
    );
    let (v, wire) = common::typed_and_wire::<CrmConnectionView>(
        admin
            .request(ops::CRM_EVENTS, &[])
            .expect("path")
            .json(&CrmEvents {
                application_token: "tok".into(),
            }),
    )
    .await;
    assert!(v.events, "{wire}");
    assert!(!wire.contains("\"tok\""), "the token is not shown: {wire}");
    assert_eq!(
        post_event(events_url.clone(), event("wrong")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_event(events_url.clone(), "ts=1".into()).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post_event(format!("{}/webhooks/bitrix24/nope", hub.url), event("tok")).await,
        StatusCode::NOT_FOUND
    );
    // A real one: the deal moved to Anna in the portal reaches the hub without waiting for a poll.
    f.fake
        .update(
            "deal",
            deal,
            json!({"ASSIGNED_BY_ID": 7, "STAGE_ID": "PREPARATION"}),
        )
        .expect("update");
    assert_eq!(
        post_event(events_url.clone(), event("tok")).await,
        StatusCode::OK
    );
    until("the deal is Anna's, in preparation", || async {
        anna.crm_entity(EntityKind::Deal, &deal_id)
            .await
            .is_ok_and(|e| {
                e.responsible_name.as_deref() == Some("Анна")
                    && e.stage.as_deref() == Some("Подготовка документов")
            })
    })
    .await;
    // Boris's chat went with the deal: the deal's card is not his to read any more.
    assert_refused(
        boris.crm_entity(EntityKind::Deal, &deal_id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    hub.stop().await;
}

/// A deletion the portal announced is applied even when the sync round that first saw it
/// failed at a later step (here: asking about a new number during an outage). The portal never
/// sends the event again and the poll cannot see deletions, so losing it left the entity
/// linked for good.
#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_event_survives_a_failed_sync_round() {
    let f = bitrix24_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(1, "c0de"))
        .await
        .expect("fake");
    let contact = f
        .fake
        .add("contact", json!({"NAME": "Ирина", "ASSIGNED_BY_ID": 7, "PHONE": [{"VALUE": "8 (916) 456-98-12"}]}))
        .expect("contact");
    let (hub, _dir) = common::hub().await;
    let http = reqwest::Client::new();
    let admin = common::client(&http, &hub.url, &hub.admin_token);
    let ch = admin
        .create_channel(&new_channel(Transport::Whatsapp, "WA"))
        .await
        .expect("channel")
        .id;
    let sup = admin
        .create_employee(&new_employee("Софья", Role::Supervisor))
        .await
        .expect("employee")
        .token;
    let sup = common::client(&http, &hub.url, &sup);
    common::connect_bitrix24(&admin, &f, "app").await;
    let hook = common::webhook_url(&hub);
    let writes = |id: &str, phone: &str| {
        let (http, hook) = (http.clone(), hook.clone());
        let body = common::client_message(id, &ch, phone, "Здравствуйте");
        async move {
            let s = http
                .post(hook)
                .json(&body)
                .send()
                .await
                .expect("hook")
                .status();
            assert!(s.is_success(), "{s}");
        }
    };
    let linked = || async {
        sup.chats()
            .await
            .expect("chats")
            .iter()
            .filter(|c| c.chat_id == "79164569812")
            .map(|c| c.crm.len())
            .sum::<usize>()
    };
    writes("d1", "79164569812").await;
    until("Ирина's chat is linked to her contact", || async {
        linked().await == 1
    })
    .await;

    // The portal is out of reach; a new number waits to be asked about (that round fails).
    f.fake.outage(Duration::from_secs(120));
    let asked = f.fake.calls();
    writes("d2", "79990001122").await;
    until("the hub asked about the new number", || async {
        f.fake.calls() > asked
    })
    .await;
    // The contact is deleted in the portal; its event arrives; the round it starts fails too.
    let dirty = || async {
        hub.hub
            .read(
                |c| Ok(c.query_row("SELECT count(*) FROM crm_dirty", [], |r| r.get::<_, i64>(0))?),
            )
            .await
            .expect("read")
    };
    let asked = f.fake.calls();
    f.fake.delete("contact", contact).expect("delete");
    until(
        "the deletion was recorded and a round failed after it",
        || async { f.fake.calls() > asked },
    )
    .await;
    assert_eq!(
        dirty().await,
        1,
        "the deletion is still on the list after the failed round"
    );
    assert_eq!(linked().await, 1);

    // The portal is back; the next round (rung by any message) applies the deletion.
    f.fake.outage(Duration::ZERO);
    writes("d3", "79164569812").await;
    until("the deleted contact is unlinked", || async {
        linked().await == 0
    })
    .await;
    assert_eq!(dirty().await, 0);
    hub.stop().await;
}

/// A hand-over in a Bitrix24 workspace changes `ASSIGNED_BY_ID` in the portal first (deal and
/// contact), and the chat moves at once, without waiting for the portal's events; an employee
/// without a Bitrix24 user cannot be handed a chat, and a portal out of reach changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_hand_over_changes_the_portals_responsible_first_and_moves_the_chat_at_once() {
    let f = bitrix24_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(1, "c0de"))
        .await
        .expect("fake");
    let irina = f
        .fake
        .add(
            "contact",
            json!({"NAME": "Ирина", "ASSIGNED_BY_ID": 8, "PHONE": [{"VALUE": "+7 916 456-98-12"}]}),
        )
        .expect("contact");
    let deal = f
        .fake
        .add(
            "deal",
            json!({"TITLE": "Поставка", "ASSIGNED_BY_ID": 8, "CONTACT_ID": irina}),
        )
        .expect("deal");
    let (hub, _dir) = common::hub().await;
    let http = reqwest::Client::new();
    let admin = common::client(&http, &hub.url, &hub.admin_token);
    let ch = admin
        .create_channel(&new_channel(Transport::Whatsapp, "WA"))
        .await
        .expect("channel")
        .id;
    let person = |name: &str, role, crm_user_id: Option<&str>| NewEmployee {
        crm_user_id: crm_user_id.map(str::to_owned),
        ..new_employee(name, role)
    };
    let anna = admin
        .create_employee(&person("Анна", Role::Seller, Some("7")))
        .await
        .expect("Анна");
    let boris = admin
        .create_employee(&person("Борис", Role::Seller, Some("8")))
        .await
        .expect("Борис");
    let vera = admin
        .create_employee(&person("Вера", Role::Seller, None))
        .await
        .expect("Вера");
    let sofia = admin
        .create_employee(&person("София", Role::Supervisor, Some("9")))
        .await
        .expect("София");
    let (anna_id, anna) = (anna.id, common::client(&http, &hub.url, &anna.token));
    let boris = common::client(&http, &hub.url, &boris.token);
    let sofia = common::client(&http, &hub.url, &sofia.token);
    admin
        .connect_crm(&CrmConnect {
            webhook_url: f.webhook.clone(),
        })
        .await
        .expect("connect");
    until("the index has Ирина", || async {
        sofia.crm_search("Ирина").await.is_ok_and(|a| !a.is_empty())
    })
    .await;
    let sent = http
        .post(common::webhook_url(&hub))
        .json(&common::client_message(
            "t1",
            &ch,
            "79164569812",
            "Добрый день",
        ))
        .send()
        .await
        .expect("hook");
    assert!(sent.status().is_success());
    let chat = boris.chats().await.expect("chats")[0].id.clone();
    let assigned = |kind: &'static str, id: u64| {
        let (http, url) = (http.clone(), f.webhook.clone());
        async move {
            let v: serde_json::Value = http
                .post(format!("{url}crm.{kind}.get.json"))
                .json(&json!({"id": id}))
                .send()
                .await
                .expect("portal")
                .json()
                .await
                .expect("json");
            v["result"]["ASSIGNED_BY_ID"]
                .to_string()
                .trim_matches('"')
                .to_owned()
        }
    };

    // Вера has no Bitrix24 user: the portal could not name her.
    assert_refused(
        sofia.transfer(&chat, &vera.id).await,
        StatusCode::CONFLICT,
        "no_crm_user",
    );
    // The portal out of reach: refused, and nothing changed anywhere.
    f.fake.outage(Duration::from_secs(2));
    assert_refused(
        sofia.transfer(&chat, &anna_id).await,
        StatusCode::BAD_REQUEST,
        "crm_unreachable",
    );
    assert_eq!(boris.chats().await.expect("chats").len(), 1);
    until("the portal back", || async {
        sofia.transfer(&chat, &anna_id).await.is_ok()
    })
    .await;
    // At once: Anna's, not Boris's (no portal event was waited for).
    assert_eq!(anna.chats().await.expect("chats")[0].id, chat);
    assert!(boris.chats().await.expect("chats").is_empty());
    assert_eq!(assigned("deal", deal).await, "7");
    assert_eq!(assigned("contact", irina).await, "7");
    let line = anna
        .chat_messages(&chat, None, Some(10))
        .await
        .expect("messages")
        .pop()
        .expect("the line");
    assert_eq!(line.text, "София: Борис → Анна");
}

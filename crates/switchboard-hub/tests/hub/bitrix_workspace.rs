//! A workspace connected to Bitrix24 (the contract fake): Check connection, the local index,
//! chats linked by numbers typed with 8 (deal through its contact), responsibles mapped by CRM
//! user id, timeline comments written once per entity, a new number found with
//! crm.duplicate.findbycomm, the webhook URL never shown whole.

use crate::common;
use common::until;
use switchboard_hub::api::EdgeHub;

use bitrix24_fake::FakeConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

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
    let call = |token: String, method: Method, path: String, body: Value| {
        let (http, base) = (http.clone(), hub.url.clone());
        async move { common::call(&http, &base, &token, method, &path, body).await }
    };
    let admin = hub.admin_token.clone();
    let (_, ch) = call(
        admin.clone(),
        Method::POST,
        "/api/v1/channels".into(),
        json!({"transport": "whatsapp", "name": "WA"}),
    )
    .await;
    let ch = ch["id"].as_str().expect("channel").to_owned();
    let (_, anna) = call(
        admin.clone(),
        Method::POST,
        "/api/v1/employees".into(),
        json!({"name": "Анна", "role": "seller", "crm_user_id": "7"}),
    )
    .await;
    let (_, boris) = call(
        admin.clone(),
        Method::POST,
        "/api/v1/employees".into(),
        json!({"name": "Борис", "role": "seller", "crm_user_id": "8"}),
    )
    .await;
    let (anna_t, boris_id, boris_t) = (
        anna["token"].as_str().expect("t").to_owned(),
        boris["id"].as_str().expect("id").to_owned(),
        boris["token"].as_str().expect("t").to_owned(),
    );

    // Check connection shows the portal and the webhook's user; a wrong code is refused.
    let (s, v) = call(
        admin.clone(),
        Method::POST,
        "/api/v1/crm/connection/check".into(),
        json!({"webhook_url": f.webhook}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["user"], "Webhook User");
    let (s, v) = call(
        admin.clone(),
        Method::POST,
        "/api/v1/crm/connection/check".into(),
        json!({"webhook_url": format!("{}/rest/1/wrong/", f.url)}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        admin.clone(),
        Method::PUT,
        "/api/v1/crm/connection".into(),
        json!({"webhook_url": f.webhook}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = call(
        admin.clone(),
        Method::GET,
        "/api/v1/crm/connection".into(),
        Value::Null,
    )
    .await;
    assert_eq!(v["kind"], "bitrix24");
    assert!(
        !v.to_string().contains("s3cr3tc0de"),
        "the code is never shown: {v}"
    );
    assert!(
        v["webhook_masked"]
            .as_str()
            .is_some_and(|m| m.ends_with("/rest/1/••••••/")),
        "{v}"
    );
    // Leads, contacts and deals are edited in the portal now.
    let (s, _) = call(
        admin.clone(),
        Method::POST,
        "/api/v1/crm/leads".into(),
        json!({"title": "x", "phones": []}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The index fills; a client typed with 8 in the portal writes: linked to the contact and
    // (through it) the deal, whose responsible (Boris, CRM user 8) answers.
    until("the index has Ирина", || async {
        let (_, v) = call(
            anna_t.clone(),
            Method::GET,
            "/api/v1/crm?q=Ирина".into(),
            Value::Null,
        )
        .await;
        v.as_array().is_some_and(|a| !a.is_empty())
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
    let (_, chats) = call(
        boris_t.clone(),
        Method::GET,
        "/api/v1/chats".into(),
        Value::Null,
    )
    .await;
    assert_eq!(chats.as_array().map(Vec::len), Some(1), "{chats}");
    assert_eq!(chats[0]["responsible_id"], boris_id.as_str());
    let mut kinds: Vec<String> = chats[0]["crm"]
        .as_array()
        .expect("crm")
        .iter()
        .map(|c| c["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["contact", "deal"]);
    let (_, entity) = call(
        boris_t.clone(),
        Method::GET,
        format!("/api/v1/crm/deals/{deal}"),
        Value::Null,
    )
    .await;
    assert_eq!(entity["responsible_name"], "Борис");
    assert!(
        entity["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/crm/deal/details/{deal}/"))),
        "{entity}"
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
        let (_, v) = call(
            anna_t.clone(),
            Method::GET,
            "/api/v1/chats".into(),
            Value::Null,
        )
        .await;
        v.as_array()
            .is_some_and(|a| a.iter().any(|c| c["chat_id"] == "79031234567"))
    })
    .await;
    until("Pavel's message in the portal", || async {
        f.fake.comments().len() == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(f.fake.comments().len(), 3, "nothing twice");
    // The deal's stage by the portal's name for it (crm.status.list).
    assert_eq!(entity["stage"], "Новая", "{entity}");

    // The portal's outgoing webhook: refused until its application token is stored, then
    // checked against it; a body that is not an event is a 400.
    let (_, c) = call(
        admin.clone(),
        Method::GET,
        "/api/v1/crm/connection".into(),
        Value::Null,
    )
    .await;
    assert_eq!(c["events"], false);
    let events_url = c["events_url"].as_str().expect("events url").to_owned();
    assert!(events_url.starts_with(&hub.url), "{events_url}");
    // Its own secret: the provider's ingress secret is in no answer and opens no CRM door.
    assert!(
        !c.to_string().contains(hub.hub.ingress_secret()),
        "the ingress secret is shown: {c}"
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
    let (s, v) = call(
        admin.clone(),
        Method::PUT,
        "/api/v1/crm/connection/events".into(),
        json!({"application_token": "tok"}),
    )
    .await;
    assert_eq!((s, &v["events"]), (StatusCode::OK, &json!(true)), "{v}");
    assert!(
        !v.to_string().contains("\"tok\""),
        "the token is not shown: {v}"
    );
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
        let (_, e) = call(
            anna_t.clone(),
            Method::GET,
            format!("/api/v1/crm/deals/{deal}"),
            Value::Null,
        )
        .await;
        e["responsible_name"] == "Анна" && e["stage"] == "Подготовка документов"
    })
    .await;
    // Boris's chat went with the deal: the deal's card is not his to read any more.
    let (s, _) = call(
        boris_t.clone(),
        Method::GET,
        format!("/api/v1/crm/deals/{deal}"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
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
    let call = |method: Method, path: String, body: Value| {
        let (http, base, token) = (http.clone(), hub.url.clone(), hub.admin_token.clone());
        async move { common::call(&http, &base, &token, method, &path, body).await }
    };
    let (_, ch) = call(
        Method::POST,
        "/api/v1/channels".into(),
        json!({"transport": "whatsapp", "name": "WA"}),
    )
    .await;
    let ch = ch["id"].as_str().expect("channel").to_owned();
    let (_, sup) = call(
        Method::POST,
        "/api/v1/employees".into(),
        json!({"name": "Софья", "role": "supervisor"}),
    )
    .await;
    let sup = sup["token"].as_str().expect("token").to_owned();
    let (s, _) = call(
        Method::PUT,
        "/api/v1/crm/connection".into(),
        json!({"webhook_url": f.webhook}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, c) = call(
        Method::PUT,
        "/api/v1/crm/connection/events".into(),
        json!({"application_token": "app"}),
    )
    .await;
    f.fake.set_outgoing(Some(bitrix24_fake::Outgoing {
        handler: c["events_url"].as_str().expect("events url").to_owned(),
        application_token: "app".into(),
    }));
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
    let linked = || {
        let (http, base, sup) = (http.clone(), hub.url.clone(), sup.clone());
        async move {
            let (_, chats) = common::call(
                &http,
                &base,
                &sup,
                Method::GET,
                "/api/v1/chats",
                Value::Null,
            )
            .await;
            chats
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["chat_id"] == "79164569812")
                .map(|c| c["crm"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        }
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

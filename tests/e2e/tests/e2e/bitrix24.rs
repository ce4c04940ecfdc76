//! The desktop on a workspace connected to Bitrix24 (the contract fake as its own process, its
//! outgoing webhook set up): a client the portal knows writes; the seller's window shows the
//! chat, the CRM panel lists the contact and the deal with the portal's stage name, the
//! responsible and "Open in Bitrix24"; the client's message and the seller's reply move to
//! "in CRM" and are in the portal's timelines once each. Then the deal is handed to another
//! seller in the portal: the event reaches the hub and the chat leaves the first seller's list.

use anyhow::{Context, Result};
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crm_panel_follows_bitrix24_and_messages_reach_its_timelines() -> Result<()> {
    let portal = Bitrix24Fake::start()?;
    let hub = Hub::start()?;
    let channel = hub.channel("whatsapp", "WhatsApp · продажи").await?;
    let (_, anna) = hub
        .employee(json!({"name": "Анна Петрова", "role": "seller", "receives_new_clients": false, "crm_user_id": "7"}))
        .await?;
    hub.employee(json!({"name": "Борис Орлов", "role": "seller", "receives_new_clients": false, "crm_user_id": "8"}))
        .await?;
    hub.admin(
        reqwest::Method::PUT,
        "/api/v1/crm/connection",
        json!({"webhook_url": portal.webhook}),
    )
    .await?;
    let c = hub
        .admin(
            reqwest::Method::PUT,
            "/api/v1/crm/connection/events",
            json!({"application_token": "e2e-app-token"}),
        )
        .await?;
    let events_url = c["events_url"].as_str().context("events url")?;
    portal.outgoing(events_url, "e2e-app-token").await?;

    // The portal's users: Irina (typed with 8) and her deal, both Anna's.
    let contact = portal
        .call(
            "crm.contact.add",
            json!({"fields": {"NAME": "Ирина", "LAST_NAME": "Соколова", "ASSIGNED_BY_ID": 7,
                "PHONE": [{"VALUE": "8 (916) 456-98-12", "VALUE_TYPE": "MOBILE"}]}}),
        )
        .await?;
    let deal = portal
        .call(
            "crm.deal.add",
            json!({"fields": {"TITLE": "Поставка 40 шт.", "STAGE_ID": "PREPARATION", "ASSIGNED_BY_ID": 7,
                "CONTACT_ID": contact}}),
        )
        .await?;
    until("the hub knows the deal", WAIT, || async {
        let v = hub
            .admin(
                reqwest::Method::GET,
                &format!("/api/v1/crm/deals/{deal}"),
                json!(null),
            )
            .await;
        Ok(v.is_ok_and(|v| v["stage"] == "Подготовка документов"))
    })
    .await?;

    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &hub, &portal, &channel, &anna, &deal.to_string()).await;
    finish(app, result, "bitrix24").await
}

async fn js(app: &fantoccini::Client, script: &str) -> Result<serde_json::Value> {
    Ok(app.execute(script, vec![]).await?)
}

async fn scenario(
    app: &fantoccini::Client,
    hub: &Hub,
    portal: &Bitrix24Fake,
    channel: &str,
    anna: &str,
    deal: &str,
) -> Result<()> {
    sign_in(app, &hub.url, anna, "Анна Петрова").await?;
    hub.webhook(client_message(
        "b24-1",
        channel,
        "79164569812",
        "Ирина",
        "Здравствуйте! Счёт уже готов?",
    ))
    .await?;
    until("Anna sees Irina's chat", WAIT, || async {
        Ok(chat_rows(app).await?.len() == 1)
    })
    .await?;
    click(app, "[data-testid=chat-row]").await?;
    until("the CRM panel lists the contact and the deal", WAIT, || async {
        Ok(js(app, "return Array.from(document.querySelectorAll('[data-testid=crm-entity]')).map(e => e.dataset.kind).sort();").await?
            == json!(["contact", "deal"]))
    })
    .await?;
    let panel = text_of(app, "crm-panel").await?;
    for want in [
        "Поставка 40 шт.",
        "Подготовка документов",
        "Ирина Соколова",
        "Анна Петрова",
        "+7 916 456-98-12",
    ] {
        assert!(panel.contains(want), "{want} in {panel}");
    }
    assert_eq!(
        js(
            app,
            "return document.querySelectorAll('[data-testid=open-in-crm]').length;"
        )
        .await?,
        json!(2),
        "both open in the portal"
    );
    type_into(app, "reply", "Да, отправила на почту.").await?;
    click(app, ".composer button[type=submit]").await?;
    until("both messages are in the CRM", WAIT, || async {
        Ok(js(app, "return Array.from(document.querySelectorAll('[data-testid=mirror-state]')).map(s => s.dataset.state);").await?
            == json!(["written", "written"]))
    })
    .await?;
    let comments = portal.comments().await?;
    let mut owners: Vec<String> = comments
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["entity_type"].as_str().unwrap_or(""),
                c["entity_id"]
            )
        })
        .collect();
    owners.sort();
    assert_eq!(
        owners.len(),
        4,
        "two messages × contact and deal: {comments:?}"
    );
    assert!(owners.contains(&format!("deal:{deal}")), "{owners:?}");
    assert!(
        comments.iter().any(|c| c["comment"]
            .as_str()
            .is_some_and(|t| t.contains("← Анна Петрова: Да, отправила на почту."))),
        "{comments:?}"
    );
    screenshot(app, "crm-panel-bitrix24.png").await?;

    // The deal goes to Boris in the portal: the event moves the chat at once.
    portal
        .call(
            "crm.deal.update",
            json!({"id": deal, "fields": {"ASSIGNED_BY_ID": 8}}),
        )
        .await?;
    until("the chat leaves Anna's list", WAIT, || async {
        Ok(chat_rows(app).await?.is_empty())
    })
    .await?;
    Ok(())
}

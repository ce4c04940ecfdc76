//! Writing first, end to end: the provider fake and a hub as their own processes, the real
//! desktop window. A seller whose priority channel is Telegram opens a CRM contact typed
//! `8 (916) 456-98-12`: Telegram is preselected and `+7 916 456-98-12` shown; they switch to
//! WhatsApp and send — the provider receives chatId 79164569812 on WhatsApp once and the
//! status walks to "read". With setting 2 off the same phone names its raw value and Send is
//! disabled. With the hub down a message waits on the desktop and is delivered once when
//! the hub is back.

use anyhow::{Context, Result};
use fantoccini::Locator;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_first_preselects_reads_the_number_and_delivers_once() -> Result<()> {
    let fake = ProviderFake::start(&[
        "whatsapp:79990000001:active",
        "telegram:switchboard_e2e_bot:active",
    ])?;
    let channels = fake.channels().await?;
    let id_of = |t: &str| {
        channels
            .iter()
            .find(|(_, tr)| tr == t)
            .map(|(id, _)| id.clone())
            .context("channel")
    };
    let (wa, tg) = (id_of("whatsapp")?, id_of("telegram")?);
    let mut hub = Hub::start_with(Some((&fake.url, &fake.key)))?;
    until("the hub reads the provider's channels", WAIT, || async {
        let v = hub
            .admin(reqwest::Method::GET, "/api/v1/channels", json!(null))
            .await?;
        Ok(v.as_array().is_some_and(|a| a.len() == 2))
    })
    .await?;
    // Names people would give them.
    for (id, name) in [(&wa, "WhatsApp · продажи"), (&tg, "Telegram · бот")] {
        hub.admin(
            reqwest::Method::PATCH,
            &format!("/api/v1/channels/{id}"),
            json!({ "name": name }),
        )
        .await?;
    }
    let (seller, token) = hub
        .employee(json!({"name": "Анна Петрова", "role": "seller", "receives_new_clients": true, "priority_channel_id": tg}))
        .await?;
    let contact = hub
        .admin(
            reqwest::Method::POST,
            "/api/v1/crm/contacts",
            json!({"title": "Ирина Соколова", "phones": ["8 (916) 456-98-12"], "responsible_id": seller}),
        )
        .await?;
    hub.admin(
        reqwest::Method::POST,
        "/api/v1/crm/deals",
        json!({"title": "Поставка 40 шт.", "responsible_id": seller, "contact_id": contact["id"]}),
    )
    .await?;

    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &mut hub, &fake, &wa, &tg, &token).await;
    finish(app, result, "composer").await
}

async fn value_of(app: &fantoccini::Client, testid: &str) -> Result<String> {
    let v = app
        .execute(
            &format!(
                "const e = document.querySelector('[data-testid={testid}]'); return e ? e.value : null;"
            ),
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

async fn disabled(app: &fantoccini::Client, testid: &str) -> Result<bool> {
    let v = app
        .execute(
            &format!("return document.querySelector('[data-testid={testid}]').disabled;"),
            vec![],
        )
        .await?;
    Ok(v.as_bool().unwrap_or(false))
}

/// Opens New message and picks the CRM contact found by `query`.
async fn open_contact(app: &fantoccini::Client, query: &str) -> Result<()> {
    click(app, "[data-testid=open-new-message]").await?;
    type_into(app, "crm-search", query).await?;
    click(app, "[data-testid=crm-card]").await
}

async fn scenario(
    app: &fantoccini::Client,
    hub: &mut Hub,
    fake: &ProviderFake,
    wa: &str,
    tg: &str,
    token: &str,
) -> Result<()> {
    sign_in(app, &hub.url, token, "Анна Петрова").await?;

    // The CRM card: the phone as typed and as read; Telegram (the priority) preselected.
    open_contact(app, "Ирина").await?;
    until("the number read as +7 916 456-98-12", WAIT, || async {
        Ok(text_of(app, "compose-address").await? == "+7 916 456-98-12")
    })
    .await?;
    assert_eq!(value_of(app, "compose-channel").await?, tg);
    let phone = text_of(app, "phone-option").await?;
    assert!(
        phone.contains("8 (916) 456-98-12") && phone.contains("+7 916 456-98-12"),
        "{phone}"
    );
    type_into(app, "compose-text", "Ирина, добрый день! Счёт готов.").await?;
    screenshot(app, "composer-preselected.png").await?;

    // The seller prefers WhatsApp for this one.
    app.find(Locator::Css("[data-testid=compose-channel]"))
        .await?
        .select_by_value(wa)
        .await?;
    click(app, "[data-testid=compose-send]").await?;
    until("the provider receives the message", WAIT, || async {
        Ok(!fake.sent().await?.is_empty())
    })
    .await?;
    until("the conversation shows it read", WAIT, || async {
        let v = app
            .execute(
                "return Array.from(document.querySelectorAll('[data-testid=message-status]')).map(s => s.dataset.status);",
                vec![],
            )
            .await?;
        Ok(v == json!(["read"]))
    })
    .await?;
    let sent = fake.sent().await?;
    assert_eq!(sent.len(), 1, "sent once: {sent:?}");
    assert_eq!(sent[0]["chatId"], "79164569812");
    assert_eq!(sent[0]["channelId"], wa);
    assert_eq!(sent[0]["chatType"], "whatsapp");
    // The CRM panel shows the deal and the contact; the message is written to both timelines.
    until("the CRM panel lists the deal and the contact", WAIT, || async {
        let v = app
            .execute(
                "return Array.from(document.querySelectorAll('[data-testid=crm-entity]')).map(e => e.dataset.kind).sort();",
                vec![],
            )
            .await?;
        Ok(v == json!(["contact", "deal"]))
    })
    .await?;
    until("the message's CRM copy is written", WAIT, || async {
        let v = app
            .execute(
                "return Array.from(document.querySelectorAll('[data-testid=mirror-state]')).map(s => s.dataset.state);",
                vec![],
            )
            .await?;
        Ok(v == json!(["written"]))
    })
    .await?;
    // The new chat is titled after the CRM client it belongs to.
    let rows = chat_rows(app).await?;
    assert_eq!(
        rows.first().map(|r| r.0.as_str()),
        Some("Ирина Соколова"),
        "{rows:?}"
    );
    screenshot(app, "composer-read.png").await?;

    // Setting 2 off: the same phone cannot be read; the error quotes it; Send stays disabled.
    hub.admin(
        reqwest::Method::PUT,
        "/api/v1/settings",
        json!({"eight_as_plus7": false}),
    )
    .await?;
    open_contact(app, "Ирина").await?;
    until("the compose error naming the raw value", WAIT, || async {
        Ok(text_of(app, "compose-error")
            .await?
            .contains("8 (916) 456-98-12"))
    })
    .await?;
    type_into(app, "compose-text", "не уйдёт").await?;
    assert!(disabled(app, "compose-send").await?);
    screenshot(app, "composer-setting2-off.png").await?;

    // The hub goes away: the number is read and the channel preselected from what this desktop
    // synced (core's rules, same answer), the message waits here, then goes once.
    hub.stop();
    until("the window knows the hub is gone", WAIT, || async {
        let v = app
            .execute(
                "return document.querySelector('[data-testid=online]').dataset.online;",
                vec![],
            )
            .await?;
        Ok(v == json!("false"))
    })
    .await?;
    type_into(app, "crm-search", "+7 903 123-45-67").await?;
    until(
        "the calm word that the CRM cannot be searched now",
        WAIT,
        || async { Ok(!text_of(app, "crm-search-offline").await?.is_empty()) },
    )
    .await?;
    click(app, "[data-testid=write-to-number]").await?;
    until("the typed number read offline", WAIT, || async {
        Ok(text_of(app, "compose-address").await? == "+7 903 123-45-67")
    })
    .await?;
    assert_eq!(value_of(app, "compose-channel").await?, tg);
    type_into(app, "compose-text", "Павел, перезвоню после пяти").await?;
    click(app, "[data-testid=compose-send]").await?;
    until("the message waits on the desktop", WAIT, || async {
        Ok(!text_of(app, "pending-first").await?.is_empty())
    })
    .await?;
    assert_eq!(
        fake.sent().await?.len(),
        1,
        "nothing sent while the hub is down"
    );
    hub.restart()?;
    until("the waiting message is delivered", WAIT, || async {
        Ok(fake
            .sent()
            .await?
            .iter()
            .any(|m| m["text"] == "Павел, перезвоню после пяти"))
    })
    .await?;
    until("the desktop's outbox is empty", WAIT, || async {
        Ok(text_of(app, "pending-first").await?.is_empty())
    })
    .await?;
    let sent = fake.sent().await?;
    let again: Vec<_> = sent
        .iter()
        .filter(|m| m["text"] == "Павел, перезвоню после пяти")
        .collect();
    assert_eq!(again.len(), 1, "delivered once: {sent:?}");
    assert_eq!(again[0]["chatId"], "79031234567");
    assert_eq!(again[0]["channelId"], tg);
    Ok(())
}

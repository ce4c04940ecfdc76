//! Find and answer fast (#15): a supervisor's quick reply reaches the seller's desktop; `/` in
//! the reply opens it, Enter writes it for the chat (the client's name and the seller's filled
//! in), the deal nobody knows is marked and Send waits until it is filled; what is being
//! written survives the app's restart.

use anyhow::Result;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_reply_is_written_for_the_chat_and_a_draft_survives_a_restart() -> Result<()> {
    let hub = Hub::start()?;
    let channel = hub.channel("whatsapp", "WhatsApp E2E").await?;
    let (_, token) = hub
        .employee(json!({"name": "Selma Seller", "role": "seller", "receives_new_clients": true}))
        .await?;
    hub.admin(
        reqwest::Method::POST,
        "/api/v1/quick-replies",
        json!({"title": "Greeting", "text": "Здравствуйте, {client}! Я {manager}, заказ {deal} готов."}),
    )
    .await?;
    let status = hub
        .webhook(client_message(
            "e2e-q1",
            &channel,
            "79164569812",
            "Ирина",
            "Добрый день! Что с заказом?",
        ))
        .await?;
    assert_eq!(status, 200);
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &hub, &token).await;
    let app = match result {
        Ok(()) => app,
        Err(e) => return finish(app, Err(e), "quick-replies").await,
    };
    // Restarted: the draft typed before is there, in the list and in the reply.
    app.close().await?;
    until("the first app has quit", WAIT, || async {
        Ok(pid_of_profile(data.path()).is_none())
    })
    .await?;
    let app = driver.launch(data.path()).await?;
    let result = after_restart(&app).await;
    finish(app, result, "quick-replies-restart").await
}

/// The reply field's text.
async fn reply_text(app: &fantoccini::Client) -> Result<String> {
    let v = app
        .execute(
            "return document.querySelector('[data-testid=reply]')?.value ?? '';",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

async fn scenario(app: &fantoccini::Client, hub: &Hub, token: &str) -> Result<()> {
    sign_in(app, &hub.url, token, "Selma Seller").await?;
    click(app, "[data-testid=chat-row]").await?;
    until("the chat opens", WAIT, || async {
        Ok(text_of(app, "conversation-title").await? == "Ирина")
    })
    .await?;
    type_into(app, "reply", "/gree").await?;
    until("the picker offers the greeting", WAIT, || async {
        Ok(text_of(app, "reply-option").await?.contains("Greeting"))
    })
    .await?;
    screenshot(app, "quick-reply-picker.png").await?;
    let field = app
        .find(fantoccini::Locator::Css("[data-testid=reply]"))
        .await?;
    field.send_keys("\u{E007}").await?; // Enter: inserts, sends nothing
    let filled = "Здравствуйте, Ирина! Я Selma Seller, заказ {deal} готов.";
    until("the reply written for Ирина", WAIT, || async {
        Ok(reply_text(app).await? == filled)
    })
    .await?;
    until("the deal marked and named", WAIT, || async {
        Ok(text_of(app, "fill-in").await?.contains("deal"))
    })
    .await?;
    let marked = app
        .execute(
            "return document.querySelector('.hole-marks mark')?.textContent ?? '';",
            vec![],
        )
        .await?;
    assert_eq!(marked, json!("{deal}"));
    let held = app
        .execute(
            "return document.querySelector('[data-testid=send]').disabled;",
            vec![],
        )
        .await?;
    assert_eq!(held, json!(true), "Send waits for the deal");
    screenshot(app, "quick-reply-hole.png").await?;
    // Enter does not send it either; the hole is selected, so typing fills it.
    field.send_keys("\u{E007}").await?;
    field.send_keys("№ 42").await?;
    let done = "Здравствуйте, Ирина! Я Selma Seller, заказ № 42 готов.";
    until("the deal filled in", WAIT, || async {
        Ok(reply_text(app).await? == done)
    })
    .await?;
    let messages = text_of(app, "conversation").await?;
    assert!(
        !messages.contains("Здравствуйте, Ирина"),
        "nothing was sent while the deal was missing"
    );
    until("Send is free", WAIT, || async {
        Ok(app
            .execute(
                "return document.querySelector('[data-testid=send]').disabled;",
                vec![],
            )
            .await?
            == json!(false))
    })
    .await?;
    // Kept as the chat's draft after a pause in typing (shown in the list).
    until("the draft shown in the list", WAIT, || async {
        Ok(text_of(app, "chat-row").await?.contains("№ 42"))
    })
    .await?;
    Ok(())
}

async fn after_restart(app: &fantoccini::Client) -> Result<()> {
    // Signed in still; the list shows the draft, and the reply holds it.
    until("the draft in the list after the restart", WAIT, || async {
        Ok(text_of(app, "chat-row").await?.contains("№ 42"))
    })
    .await?;
    click(app, "[data-testid=chat-row]").await?;
    until("the reply holds the draft", WAIT, || async {
        Ok(reply_text(app).await? == "Здравствуйте, Ирина! Я Selma Seller, заказ № 42 готов.")
    })
    .await?;
    // Sent: the message goes, the draft with it.
    click(app, "[data-testid=send]").await?;
    until("the reply in the conversation", WAIT, || async {
        Ok(text_of(app, "conversation")
            .await?
            .contains("заказ № 42 готов"))
    })
    .await?;
    until("the draft gone", WAIT, || async {
        Ok(reply_text(app).await?.is_empty() && !text_of(app, "chat-row").await?.contains("Draft"))
    })
    .await?;
    Ok(())
}

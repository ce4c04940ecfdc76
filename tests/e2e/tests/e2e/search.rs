//! Search works from what the desktop holds (#15): with the hub stopped, the seller types the
//! beginnings of an old message's words in another case and with "е" for "ё", finds it (the
//! words marked), and Enter opens its chat with that message shown and marked.

use anyhow::Result;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_found_offline_and_opened_at_its_place() -> Result<()> {
    let mut hub = Hub::start()?;
    let channel = hub.channel("whatsapp", "WhatsApp E2E").await?;
    let (_, token) = hub
        .employee(json!({"name": "Selma Seller", "role": "seller", "receives_new_clients": true}))
        .await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &mut hub, &channel, &token).await;
    finish(app, result, "search").await
}

async fn scenario(
    app: &fantoccini::Client,
    hub: &mut Hub,
    channel: &str,
    token: &str,
) -> Result<()> {
    sign_in(app, &hub.url, token, "Selma Seller").await?;
    for (n, text) in [
        "Пришлите, пожалуйста, счёт-фактуру №42 на оплату",
        "Спасибо!",
        "А доставка когда?",
        "Жду ответа",
    ]
    .iter()
    .enumerate()
    {
        let status = hub
            .webhook(client_message(
                &format!("e2e-s{n}"),
                channel,
                "79164569812",
                "Ирина",
                text,
            ))
            .await?;
        assert_eq!(status, 200);
    }
    until("the four messages synced", WAIT, || async {
        Ok(chat_rows(app)
            .await?
            .iter()
            .any(|r| r.0 == "Ирина" && r.2 == "4"))
    })
    .await?;
    hub.stop();
    until("the desktop knows it is offline", WAIT, || async {
        let online = app
            .execute(
                "return document.querySelector('[data-testid=online]')?.dataset.online;",
                vec![],
            )
            .await?;
        Ok(online.as_str() == Some("false"))
    })
    .await?;
    // Part of a word, another case, "е" for "ё".
    type_into(app, "search", "СЧЕТ-ФАКТ").await?;
    until("the message found", WAIT, || async {
        Ok(text_of(app, "search-hit").await?.contains("фактуру"))
    })
    .await?;
    let marks = app
        .execute(
            "return [...document.querySelectorAll('[data-testid=search-hit] mark')].map(m => m.textContent);",
            vec![],
        )
        .await?;
    assert_eq!(marks, json!(["счёт-фактуру"]), "the words found, marked");
    app.active_element().await?.send_keys("\u{E007}").await?; // Enter
    until("its chat opens with the message marked", WAIT, || async {
        Ok(text_of(app, "conversation-title").await? == "Ирина"
            && app
                .execute(
                    "return document.querySelector('.message.focused')?.textContent ?? '';",
                    vec![],
                )
                .await?
                .as_str()
                .is_some_and(|t| t.contains("счёт-фактуру №42")))
    })
    .await?;
    screenshot(app, "search-offline.png").await?;
    Ok(())
}

/// Past the history the desktop holds (a first sync brings each chat's newest 50 messages),
/// the hub's search finds an old message; opening it fetches the history back to it and shows
/// it marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_message_the_desktop_does_not_hold_is_found_on_the_hub() -> Result<()> {
    let hub = Hub::start()?;
    let channel = hub.channel("whatsapp", "WhatsApp E2E").await?;
    let (_, token) = hub
        .employee(json!({"name": "Selma Seller", "role": "seller", "receives_new_clients": true}))
        .await?;
    // 60 messages: the first, about a kitchen, is older than what a first sync brings.
    let messages: Vec<serde_json::Value> = (0..60)
        .map(|n| {
            let text = if n == 0 {
                "Старый заказ: кухня из дуба".to_owned()
            } else {
                format!("Сообщение {n}")
            };
            json!({"messageId": format!("e2e-h{n}"), "channelId": channel, "chatType": "whatsapp",
                "chatId": "79164569812", "dateTime": format!("2026-11-2{}T10:{:02}:00.000Z", n / 20, n % 60),
                "type": "text", "status": "inbound", "isEcho": false, "text": text, "contact": {"name": "Ирина"}})
        })
        .collect();
    assert_eq!(hub.webhook(json!({ "messages": messages })).await?, 200);
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = async {
        sign_in(&app, &hub.url, &token, "Selma Seller").await?;
        until("the chat synced", WAIT, || async {
            Ok(chat_rows(&app).await?.iter().any(|r| r.0 == "Ирина"))
        })
        .await?;
        // The hub's index takes new messages within a second or so (its worker, not the
        // webhook's transaction).
        let http = reqwest::Client::new();
        until("the hub's index has the old message", WAIT, || async {
            let v: serde_json::Value = http
                .get(format!("{}/api/v1/search", hub.url))
                .query(&[("q", "кухн")])
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            Ok(v["hits"].as_array().is_some_and(|a| !a.is_empty()))
        })
        .await?;
        type_into(&app, "search", "кухн").await?;
        until("the hub finds the old message", WAIT, || async {
            let remote = app
                .execute(
                    "return [...document.querySelectorAll('[data-testid=search-hit]')].filter(h => h.dataset.remote === 'true').length;",
                    vec![],
                )
                .await?;
            Ok(remote == json!(1))
        })
        .await?;
        screenshot(&app, "search-hub.png").await?;
        click(&app, "[data-testid=search-hit][data-remote=true]").await?;
        until("its chat opens at the old message, marked", WAIT, || async {
            Ok(app
                .execute(
                    "return document.querySelector('.message.focused')?.textContent ?? '';",
                    vec![],
                )
                .await?
                .as_str()
                .is_some_and(|t| t.contains("кухня из дуба")))
        })
        .await?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    finish(app, result, "search-hub").await
}

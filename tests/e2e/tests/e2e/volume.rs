//! A supervisor's real desktop against a hub of 5 000 chats: the list paints from the
//! snapshot's first page while the rest is still to come (the relay holds the later pages back),
//! the DOM holds a bounded number of rows, a new message moves its chat to the top, and a
//! settings flip recolours every badge with the settings alone on the wire.

use anyhow::Result;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(60);
const CHATS: usize = 5_000;
const HISTORY: usize = 160;
const ANSWERED: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_chats_paint_from_the_first_page() -> Result<()> {
    let _recorder = Recorder::start().await?;
    let hub = Hub::start()?;
    let channel = hub.channel("whatsapp", "WA").await?;
    let (_, boss) = hub
        .employee(json!({"name": "Vera", "role": "supervisor"}))
        .await?;
    hub.seed_clients(&channel, CHATS).await?;
    // One client has written 160 more: a history longer than a snapshot or an open brings.
    let history: Vec<_> = (0..HISTORY)
        .map(|k| {
            json!({"messageId": format!("history-{k}"), "channelId": channel, "chatType": "whatsapp",
                "chatId": "79160000001", "dateTime": format!("2026-12-05T{:02}:{:02}:00.000Z", k / 60, k % 60),
                "type": "text", "status": "inbound", "text": format!("Вопрос {k}")})
        })
        .collect();
    assert_eq!(hub.webhook(json!({ "messages": history })).await?, 200);
    // The newest clients were answered (from the phone): they come after every waiting chat.
    let answers: Vec<_> = (CHATS - ANSWERED..CHATS)
        .map(|i| {
            json!({"messageId": format!("answer-{i}"), "channelId": channel, "chatType": "whatsapp",
                "chatId": format!("7916{i:07}"), "dateTime": "2026-12-05T23:00:00.000Z",
                "type": "text", "status": "sent", "isEcho": true, "text": "Добрый день!"})
        })
        .collect();
    assert_eq!(hub.webhook(json!({ "messages": answers })).await?, 200);
    let relay = SyncRelay::start(&hub.url).await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &hub, &relay, &channel, &boss).await;
    finish(app, result, "volume").await
}

async fn js(app: &fantoccini::Client, script: &str) -> Result<serde_json::Value> {
    Ok(app.execute(script, vec![]).await?)
}

async fn list_total(app: &fantoccini::Client) -> Result<String> {
    let v = js(
        app,
        "return document.querySelector('[data-testid=chat-list]')?.dataset.total ?? ''",
    )
    .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

async fn dom_rows(app: &fantoccini::Client) -> Result<u64> {
    let v = js(
        app,
        "return document.querySelectorAll('[data-testid=chat-row]').length",
    )
    .await?;
    Ok(v.as_u64().unwrap_or_default())
}

async fn scenario(
    app: &fantoccini::Client,
    hub: &Hub,
    relay: &SyncRelay,
    channel: &str,
    boss: &str,
) -> Result<()> {
    sign_in(app, &relay.url, boss, "Vera").await?;
    // The first page painted, the rest held back: the list shows it, and says how far it is.
    until("the first page's rows", WAIT, || async {
        Ok(!chat_rows(app).await?.is_empty())
    })
    .await?;
    assert_eq!(list_total(app).await?, "100", "only the first page is here");
    let progress = js(
        app,
        "const p = document.querySelector('[data-testid=sync-progress]'); \
         return p ? [p.dataset.chats, p.dataset.total] : null;",
    )
    .await?;
    assert_eq!(progress, json!(["100", CHATS.to_string()]));
    let _ = screenshot(app, "volume-first-page.png").await;

    relay.open_pages();
    until("the whole list", WAIT, || async {
        Ok(list_total(app).await? == CHATS.to_string())
    })
    .await?;
    until("the progress gone", WAIT, || async {
        Ok(js(
            app,
            "return !document.querySelector('[data-testid=sync-progress]')",
        )
        .await?
        .as_bool()
            == Some(true))
    })
    .await?;
    let rows = dom_rows(app).await?;
    assert!(
        (5..=60).contains(&rows),
        "the DOM holds the rows on screen and a margin, not {CHATS}: {rows}"
    );
    // Waiting chats first: the answered ones, though the newest, are at the very end.
    assert!(chat_rows(app)
        .await?
        .iter()
        .all(|(_, colour, _)| colour != "none"));
    let list = "document.querySelector('[data-testid=chat-list]')";
    js(app, &format!("{list}.scrollTop = {list}.scrollHeight")).await?;
    let last = format!("[data-testid=chat-row][aria-posinset], li[aria-posinset='{CHATS}']");
    until("the end of the list", WAIT, || async {
        Ok(js(
            app,
            &format!("return !!document.querySelector(\"{last}\".split(', ')[1])"),
        )
        .await?
        .as_bool()
            == Some(true))
    })
    .await?;
    let tail = js(
        app,
        &format!(
            "return [...document.querySelectorAll('li[aria-posinset]')] \
               .filter(li => +li.getAttribute('aria-posinset') > {}) \
               .map(li => li.querySelector('[data-testid=chat-row]').dataset.badgeColor)",
            CHATS - ANSWERED
        ),
    )
    .await?;
    assert_eq!(
        tail,
        json!(vec!["none"; ANSWERED]),
        "the answered chats close the list"
    );
    let _ = screenshot(app, "volume-list-end.png").await;
    js(app, &format!("{list}.scrollTop = 0")).await?;
    until("back at the top", WAIT, || async {
        Ok(js(
            app,
            "return !!document.querySelector(\"li[aria-posinset='1']\")",
        )
        .await?
        .as_bool()
            == Some(true))
    })
    .await?;

    // The oldest chat gets a message: it moves to the top.
    let status = hub
        .webhook(
            json!({"messages": [{"messageId": "late", "channelId": channel, "chatType": "whatsapp",
            "chatId": "79160000000", "dateTime": "2026-12-06T10:00:00.000Z", "type": "text",
            "status": "inbound", "text": "Ещё вопрос"}]}),
        )
        .await?;
    assert_eq!(status, 200);
    until("the chat on top", WAIT, || async {
        Ok(chat_rows(app)
            .await?
            .first()
            .is_some_and(|(title, _, count)| title == "Клиент 0" && count == "2"))
    })
    .await?;

    // Nobody answers for these clients: grey for the supervisor, until setting 3 is on.
    assert!(chat_rows(app)
        .await?
        .iter()
        .all(|(_, colour, _)| colour == "grey"));
    let before = relay.synced().len();
    hub.admin(
        reqwest::Method::PUT,
        "/api/v1/settings",
        json!({"notify_supervisors_all": true}),
    )
    .await?;
    until("every badge on screen red", WAIT, || async {
        let rows = chat_rows(app).await?;
        Ok(!rows.is_empty() && rows.iter().all(|(_, colour, _)| colour == "red"))
    })
    .await?;
    let after: Vec<Vec<String>> = relay.synced()[before..]
        .iter()
        .map(RelayedSync::kinds)
        .collect();
    assert!(
        !after.is_empty() && after.iter().flatten().all(|kind| kind == "settings"),
        "the flip sent the settings alone: {after:?}"
    );
    assert_eq!(list_total(app).await?, CHATS.to_string());
    let _ = screenshot(app, "volume-flipped.png").await;

    // The long conversation: opening brings its newest 100; scrolling up brings the rest,
    // then says where it begins.
    js(
        app,
        "[...document.querySelectorAll('[data-testid=chat-row]')].find(r => \
           r.querySelector('[data-testid=chat-title]').textContent === 'Клиент 1').click()",
    )
    .await?;
    let count = || async {
        let v = js(
            app,
            "return document.querySelectorAll('[data-testid=message]').length",
        )
        .await?;
        anyhow::Ok(v.as_u64().unwrap_or_default())
    };
    until("the newest 100 messages", WAIT, || async {
        Ok(count().await? == 100)
    })
    .await?;
    let scroll_up = "document.querySelector('[data-testid=conversation] .messages').scrollTop = 0; \
         document.querySelector('[data-testid=conversation] .messages').dispatchEvent(new Event('scroll'));";
    js(app, scroll_up).await?;
    until("the whole history", WAIT, || async {
        Ok(count().await? == HISTORY as u64 + 1)
    })
    .await?;
    until("the beginning of the conversation", WAIT, || async {
        js(app, scroll_up).await?;
        Ok(js(
            app,
            "return !!document.querySelector('[data-testid=history-start]')",
        )
        .await?
        .as_bool()
            == Some(true))
    })
    .await?;
    let first = js(
        app,
        "return document.querySelector('[data-testid=message] p').textContent",
    )
    .await?;
    assert_eq!(
        first,
        json!("Здравствуйте, заказ 1"),
        "the client's first message is on top"
    );
    Ok(())
}

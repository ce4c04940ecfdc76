//! A client writes to a real hub; the seller's real desktop window shows the chat with a red
//! badge, and the seller — only the seller — gets a native notification.

use anyhow::Result;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_message_reaches_the_sellers_window_with_a_red_badge() -> Result<()> {
    let recorder = Recorder::start().await?;
    let hub = Hub::start()?;
    let channel_id = hub.channel("whatsapp", "WhatsApp E2E").await?;
    let (_, seller_token) = hub
        .employee(json!({"name": "Selma Seller", "role": "seller", "receives_new_clients": true}))
        .await?;
    // A supervisor exists too: with the setting off they must not be notified.
    hub.employee(json!({"name": "Sam Supervisor", "role": "supervisor"}))
        .await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &hub, &recorder, &channel_id, &seller_token).await;
    finish(app, result, "chat-list").await
}

async fn scenario(
    app: &fantoccini::Client,
    hub: &Hub,
    recorder: &Recorder,
    channel_id: &str,
    seller_token: &str,
) -> Result<()> {
    // Sign in the way a person does: the Connect form.
    sign_in(app, &hub.url, seller_token, "Selma Seller").await?;

    // A new client writes on WhatsApp: nobody is responsible, the seller receives new clients.
    let status = hub
        .webhook(client_message(
            "e2e-msg-1",
            channel_id,
            "79164569812",
            "Ирина",
            "Здравствуйте! Есть доставка?",
        ))
        .await?;
    assert_eq!(status, 200);

    until(
        "the chat row «Ирина» with a red badge of 1",
        WAIT,
        || async {
            Ok(chat_rows(app).await?
                == vec![("Ирина".to_owned(), "red".to_owned(), "1".to_owned())])
        },
    )
    .await?;
    until("one Notify on the session bus", WAIT, || async {
        Ok(!recorder.calls().is_empty())
    })
    .await?;
    let shot = app.screenshot().await?;
    let path = artifact("chat-list-seller.png")?;
    std::fs::write(&path, shot)?;
    eprintln!("screenshot: {}", path.display());

    let calls = recorder.calls();
    assert_eq!(
        calls.len(),
        1,
        "exactly one notification, for the seller: {calls:?}"
    );
    assert_eq!(calls[0].app_name, "Switchboard");
    assert!(
        calls[0].summary.contains("Ирина"),
        "title names the client: {:?}",
        calls[0]
    );
    assert!(
        calls[0].body.contains("Есть доставка"),
        "body previews the text: {:?}",
        calls[0]
    );

    // The malformed webhook is refused and changes nothing in the window.
    assert_eq!(
        hub.webhook(json!({"messages": [{"messageId": "bad"}]}))
            .await?,
        400
    );
    assert_eq!(chat_rows(app).await?.len(), 1);

    // Two more clients write; Alt+↓ walks the chats waiting for the seller's answer in the
    // list's order (newest first), round from the end; Alt+↑ goes back.
    for (n, (phone, name)) in [("79165550001", "Олег"), ("79165550002", "Павел")]
        .iter()
        .enumerate()
    {
        let status = hub
            .webhook(client_message(
                &format!("e2e-walk-{n}"),
                channel_id,
                phone,
                name,
                "Добрый день",
            ))
            .await?;
        assert_eq!(status, 200);
        until(&format!("the chat row «{name}»"), WAIT, || async {
            Ok(chat_rows(app).await?.iter().any(|r| r.0 == *name))
        })
        .await?;
    }
    // WebDriver keys: Alt (U+E00A) held, then ↓ (U+E015) or ↑ (U+E013).
    let (down, up) = ("\u{E00A}\u{E015}", "\u{E00A}\u{E013}");
    let mut walked = Vec::new();
    for keys in [down, down, down, down, up] {
        let before = text_of(app, "conversation-title").await?;
        app.active_element().await?.send_keys(keys).await?;
        until("the next waiting chat opens", WAIT, || async {
            Ok(text_of(app, "conversation-title").await? != before)
        })
        .await?;
        walked.push(text_of(app, "conversation-title").await?);
    }
    // The list's own order (all three wait for the seller; same time here, so by chat).
    let order: Vec<String> = chat_rows(app).await?.into_iter().map(|r| r.0).collect();
    assert_eq!(order.len(), 3, "{order:?}");
    let expected = [&order[0], &order[1], &order[2], &order[0], &order[2]];
    assert_eq!(walked.iter().collect::<Vec<_>>(), expected);

    // Ctrl+K (U+E009 held, then k): a chat by its client's name typed loosely, and by their
    // number typed with 8 (read as +7 under setting 2); Enter opens it.
    let by_name = ("олег", "Олег");
    let by_number = ("8 916 555-00-02", "Павел");
    let current = text_of(app, "conversation-title").await?;
    let jumps = if current == by_name.1 {
        [by_number, by_name]
    } else {
        [by_name, by_number]
    };
    for (typed, title) in jumps {
        app.active_element()
            .await?
            .send_keys("\u{E009}k\u{E000}")
            .await?;
        let input = app
            .find(fantoccini::Locator::Css("[data-testid=jump-input]"))
            .await?;
        input.send_keys(typed).await?;
        until(&format!("«{typed}» finds {title}"), WAIT, || async {
            Ok(!app
                .find_all(fantoccini::Locator::Css("[data-testid=jump-chat]"))
                .await?
                .is_empty())
        })
        .await?;
        if title == by_number.1 {
            screenshot(app, "jump-by-number.png").await?;
        }
        input.send_keys("\u{E007}").await?; // Enter
        until(&format!("{title} opens"), WAIT, || async {
            Ok(text_of(app, "conversation-title").await? == title)
        })
        .await?;
        assert!(
            app.find_all(fantoccini::Locator::Css("[data-testid=jump]"))
                .await?
                .is_empty(),
            "the palette closed"
        );
    }
    Ok(())
}

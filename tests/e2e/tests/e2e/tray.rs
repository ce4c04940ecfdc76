//! The tray as a desktop panel sees it (a fake StatusNotifierWatcher on the private bus): its
//! icon and label follow the totals, a notification click opens the chat, and Do not disturb
//! clicked in the tray menu silences the next notification.

use anyhow::Result;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tray_follows_the_totals_and_do_not_disturb_silences() -> Result<()> {
    let watcher = TrayWatcher::start().await?;
    let recorder = Recorder::start().await?;
    let hub = Hub::start()?;
    let channel_id = hub.channel("whatsapp", "WA").await?;
    let (_, token) = hub
        .employee(json!({"name": "Tanya", "role": "seller", "receives_new_clients": true}))
        .await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &hub, &watcher, &recorder, &channel_id, &token).await;
    finish(app, result, "tray").await
}

async fn scenario(
    app: &fantoccini::Client,
    hub: &Hub,
    watcher: &TrayWatcher,
    recorder: &Recorder,
    channel_id: &str,
    token: &str,
) -> Result<()> {
    until("the tray item registered", WAIT, || async {
        Ok(watcher.item().is_some())
    })
    .await?;
    assert_eq!(watcher.property("Status").await?, "Active");
    let calm_icon = watcher.property("IconName").await?;
    sign_in(app, &hub.url, token, "Tanya").await?;

    // A client writes: one red chat → red icon, label "1 · 0".
    assert_eq!(
        hub.webhook(client_message(
            "t1",
            channel_id,
            "79160000001",
            "Oleg",
            "Hello"
        ))
        .await?,
        200
    );
    until("the tray label 1 · 0", WAIT, || async {
        Ok(watcher.property("XAyatanaLabel").await? == "1 · 0")
    })
    .await?;
    let red_icon = watcher.property("IconName").await?;
    assert_ne!(red_icon, calm_icon, "the icon changes with the state");

    // Clicking the notification opens that chat in the window.
    until("the notification", WAIT, || async {
        Ok(!recorder.calls().is_empty())
    })
    .await?;
    let first = recorder.calls()[0].clone();
    assert!(first.actions.contains(&"default".to_owned()), "{first:?}");
    // A misshapen signal first: ignored (the app still answers the click after it).
    recorder.click_misshapen(first.id).await?;
    recorder.click(first.id).await?;
    until("the conversation with Oleg open", WAIT, || async {
        let title = app
            .execute("const h = document.querySelector('[data-testid=conversation] h2'); return h ? h.textContent : '';", vec![])
            .await?;
        Ok(title == json!("Oleg"))
    })
    .await?;

    // The menu has Open, Do not disturb, Quit; Do not disturb silences the next notification.
    let labels: Vec<String> = watcher
        .menu_items()
        .await?
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert!(
        labels.contains(&"Open".into()) && labels.contains(&"Quit".into()),
        "{labels:?}"
    );
    toggle_do_not_disturb(watcher, 1).await?;
    assert_eq!(
        hub.webhook(client_message(
            "t2",
            channel_id,
            "79160000002",
            "Silent Sam",
            "shh"
        ))
        .await?,
        200
    );
    until("Sam's chat in the window", WAIT, || async {
        Ok(chat_rows(app)
            .await?
            .iter()
            .any(|(title, color, _)| title == "Silent Sam" && color == "red"))
    })
    .await?;
    toggle_do_not_disturb(watcher, 0).await?;
    assert_eq!(
        hub.webhook(client_message(
            "t3",
            channel_id,
            "79160000003",
            "Loud Lena",
            "hi!"
        ))
        .await?,
        200
    );
    until("Lena's notification", WAIT, || async {
        Ok(recorder
            .calls()
            .iter()
            .any(|n| n.summary.contains("Loud Lena")))
    })
    .await?;
    let summaries: Vec<String> = recorder.calls().into_iter().map(|n| n.summary).collect();
    assert!(
        !summaries.iter().any(|s| s.contains("Silent Sam")),
        "Do not disturb let one through: {summaries:?}"
    );
    until("the tray label 3 · 0", WAIT, || async {
        Ok(watcher.property("XAyatanaLabel").await? == "3 · 0")
    })
    .await?;
    screenshot(app, "tray-seller.png").await?;
    // With a panel hosting the icon, the settings offer starting hidden in it (and say nothing
    // of a missing tray).
    click(app, "[data-testid=open-settings]").await?;
    until("the start-hidden preference", WAIT, || async {
        Ok(!app
            .find_all(fantoccini::Locator::Css("[data-testid=pref-start-hidden]"))
            .await?
            .is_empty())
    })
    .await?;
    assert!(app
        .find_all(fantoccini::Locator::Css("[data-testid=no-tray]"))
        .await?
        .is_empty());
    // Closing the window hides it (the tray brings it back): no window left on the display,
    // until the tray menu's Open.
    close_app_window(false)?;
    until("the window hidden", WAIT, || async {
        Ok(!app_window_shown()?)
    })
    .await?;
    watcher.click("Open").await?;
    until("the window back from the tray", WAIT, || async {
        app_window_shown()
    })
    .await?;
    Ok(())
}

/// Clicks Do not disturb in the tray menu and waits until the menu shows `state` (1 on, 0 off).
async fn toggle_do_not_disturb(watcher: &TrayWatcher, state: i32) -> Result<()> {
    watcher.click("Do not disturb").await?;
    until(
        &format!("Do not disturb toggle-state {state}"),
        WAIT,
        || async {
            let items = watcher.menu_items().await?;
            Ok(items
                .iter()
                .any(|i| i.label == "Do not disturb" && i.toggle_state == Some(state)))
        },
    )
    .await
}

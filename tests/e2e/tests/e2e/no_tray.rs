//! A desktop whose panel shows no tray icons (stock GNOME: no StatusNotifierWatcher on the bus).
//! The chats waiting for my answer go to the window title and the launcher icon's badge (the
//! Unity LauncherEntry signal docks read), and the settings say why there is no tray icon.
//! `tray.rs` drives the other path, with a panel (the fake watcher).

use anyhow::Result;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tray_the_totals_go_to_the_title_and_the_launcher() -> Result<()> {
    let launcher = LauncherRecorder::start().await?;
    let hub = Hub::start()?;
    let channel_id = hub.channel("whatsapp", "WA").await?;
    let (_, token) = hub
        .employee(json!({"name": "Gleb", "role": "seller", "receives_new_clients": true}))
        .await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = async {
        sign_in(&app, &hub.url, &token, "Gleb").await?;
        let status = hub
            .webhook(client_message(
                "nt1",
                &channel_id,
                "79160000002",
                "Vera",
                "Добрый день!",
            ))
            .await?;
        anyhow::ensure!(status == 200, "webhook {status}");
        until(
            "the launcher badge counts one chat of mine",
            WAIT,
            || async {
                Ok(launcher
                    .last()
                    .is_some_and(|(_, count, shown)| count == 1 && shown))
            },
        )
        .await?;
        let (uri, ..) = launcher.last().unwrap_or_default();
        assert_eq!(
            uri, "application://Switchboard.desktop",
            "the packages' desktop entry"
        );
        until("the window title carries the totals", WAIT, || async {
            window_titled("Switchboard — Mine to answer: 1 · Waiting for others: 0")
        })
        .await?;
        click(&app, "[data-testid=open-settings]").await?;
        until(
            "the settings say why there is no tray icon",
            WAIT,
            || async {
                Ok(app
                    .find_all(fantoccini::Locator::Css("[data-testid=no-tray]"))
                    .await?
                    .len()
                    == 1)
            },
        )
        .await?;
        screenshot(&app, "no-tray-settings.png").await?;
        // Closing the window minimizes it (the app asks the window manager to; the test listens
        // as one would), never hides it: it stays where it can be found, and the app answers.
        close_app_window(true)?;
        anyhow::ensure!(
            app_window_shown()?,
            "the window was hidden with no tray to bring it back"
        );
        anyhow::ensure!(
            !chat_rows(&app).await?.is_empty(),
            "the app stopped answering"
        );
        Ok(())
    }
    .await;
    finish(app, result, "no-tray").await
}

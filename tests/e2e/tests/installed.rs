//! The installed packages (#16), driven as a user would use them: the hub the `switchboard-hub`
//! .deb installed, started as its unit would be where systemd does not run, and the desktop the
//! `switchboard` .deb installed (`SWITCHBOARD_APP=/usr/bin/switchboard`), under Xvfb with no
//! tray (as on stock GNOME). A client's message posted to the hub's webhook reaches the
//! desktop's window, its title and the launcher icon's badge of the installed desktop entry.
//!
//! Ignored in `make e2e`: `make package-test` builds both packages, installs them with apt, runs
//! this with `--ignored`, then removes them.

use anyhow::Result;
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives the installed packages: `make package-test` installs them first"]
async fn the_installed_hub_and_desktop_carry_a_client_message() -> Result<()> {
    assert_eq!(
        app_binary()?,
        std::path::PathBuf::from("/usr/bin/switchboard"),
        "SWITCHBOARD_APP names the installed desktop"
    );
    let launcher = LauncherRecorder::start().await?;
    let fake = ProviderFake::start(&["whatsapp:79990000001:active"])?;
    let channel = fake.first_channel().await?;
    let hub = Hub::installed((&fake.url, &fake.key))?;
    // The workspace's data and the tokens the hub wrote on its first start: its user's alone.
    let data = std::fs::metadata(INSTALLED_DATA)?;
    assert_eq!(data.permissions().mode() & 0o777, 0o700, "{INSTALLED_DATA}");
    for secret in ["admin-token", "ingress-secret", "hub.db"] {
        let m = std::fs::metadata(format!("{INSTALLED_DATA}/{secret}"))?;
        assert_eq!(m.permissions().mode() & 0o777, 0o600, "{secret}");
        assert_eq!(m.uid(), data.uid(), "{secret} belongs to the hub's user");
    }
    assert_ne!(data.uid(), 0, "the hub runs as its own user, not root");
    hub.until_channels_read().await?;
    // A supervisor sees every chat (a data directory kept from an earlier run may have sellers
    // who receive new clients), red with "notify supervisors about all messages".
    hub.admin(
        reqwest::Method::PUT,
        "/api/v1/settings",
        json!({"notify_supervisors_all": true}),
    )
    .await?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let (_, token) = hub
        .employee(json!({"name": "Ирина Руководитель", "role": "supervisor", "receives_new_clients": false}))
        .await?;
    let driver = Driver::start().await?;
    let home = tempfile::tempdir()?;
    let app = driver.launch(home.path()).await?;
    let result = async {
        sign_in(&app, &hub.url, &token, "Ирина Руководитель").await?;
        let client = format!("Клиент пакета {run}");
        let status = hub
            .webhook(json!({"messages": [{"messageId": format!("installed-{run}"),
                "channelId": channel, "chatType": "whatsapp", "chatId": format!("7916{:07}", run % 10_000_000),
                "dateTime": "2026-12-06T12:00:00.000Z", "type": "text", "status": "inbound",
                "text": "Здравствуйте! Пишу через установленный пакет", "contact": {"name": client}}]}))
            .await?;
        anyhow::ensure!(status == 200, "the webhook answered {status}");
        until("the client's message in the installed desktop's list", WAIT, || async {
            Ok(chat_rows(&app).await?.iter().any(|r| r.0 == client))
        })
        .await?;
        until("the launcher badge of the installed entry", WAIT, || async {
            Ok(launcher.last().is_some_and(|(uri, count, shown)| {
                uri == "application://Switchboard.desktop" && count >= 1 && shown
            }))
        })
        .await?;
        anyhow::ensure!(
            std::path::Path::new("/usr/share/applications/Switchboard.desktop").exists(),
            "the badge names the desktop entry the package installs"
        );
        screenshot(&app, "installed-app.png").await?;
        Ok(())
    }
    .await;
    finish(app, result, "installed").await
}

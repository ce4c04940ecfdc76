//! A supervisor hands a seller's chat to another seller (#15), from her own window: the chat
//! leaves the first seller's window, appears red in the second's, who is notified; the line in
//! the chat says who handed it to whom, and the built-in CRM's lead names the new responsible.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_hands_a_chat_from_one_sellers_window_to_anothers() -> Result<()> {
    let recorder = Recorder::start().await?;
    let hub = Hub::start()?;
    let channel = hub.channel("whatsapp", "WA").await?;
    let (anna, anna_token) = hub
        .employee(json!({"name": "Anna", "role": "seller"}))
        .await?;
    let (boris, boris_token) = hub
        .employee(json!({"name": "Boris", "role": "seller"}))
        .await?;
    let (_, sofia_token) = hub
        .employee(json!({"name": "Sofia", "role": "supervisor"}))
        .await?;
    let lead = hub
        .admin(
            Method::POST,
            "/api/v1/crm/leads",
            json!({"title": "Irina's order", "phones": ["8 (916) 456-98-12"], "responsible_id": anna}),
        )
        .await?["id"]
        .as_str()
        .context("lead id")?
        .to_owned();
    assert_eq!(
        hub.webhook(client_message(
            "t1",
            &channel,
            "79164569812",
            "Irina",
            "Is it ready?"
        ))
        .await?,
        200
    );
    let dirs = [
        tempfile::tempdir()?,
        tempfile::tempdir()?,
        tempfile::tempdir()?,
    ];
    let drivers = [
        Driver::start_on(4444, 4445).await?,
        Driver::start_on(4446, 4447).await?,
        Driver::start_on(4448, 4449).await?,
    ];
    let anna_app = drivers[0].launch(dirs[0].path()).await?;
    let boris_app = drivers[1].launch(dirs[1].path()).await?;
    let sofia_app = drivers[2].launch(dirs[2].path()).await?;
    let result = async {
        sign_in(&anna_app, &hub.url, &anna_token, "Anna").await?;
        sign_in(&boris_app, &hub.url, &boris_token, "Boris").await?;
        sign_in(&sofia_app, &hub.url, &sofia_token, "Sofia").await?;
        let boris_pid = pid_of_profile(dirs[1].path()).context("Boris's app")?;
        until("Anna's chat, red; nothing for Boris", WAIT, || async {
            Ok(
                chat_rows(&anna_app).await? == [("Irina".into(), "red".into(), "1".into())]
                    && chat_rows(&boris_app).await?.is_empty(),
            )
        })
        .await?;
        click(&sofia_app, "[data-testid=chat-row]").await?;
        click(&sofia_app, "[data-testid=hand-over]").await?;
        until("Boris offered", WAIT, || async {
            Ok(text_of(&sofia_app, "hand-over-list")
                .await?
                .contains("Boris"))
        })
        .await?;
        screenshot(&sofia_app, "hand-over-choose.png").await?;
        let people = sofia_app
            .find_all(fantoccini::Locator::Css("[data-testid=hand-over-to]"))
            .await?;
        let mut to_boris = None;
        for p in people {
            if p.text().await?.starts_with("Boris") {
                to_boris = Some(p);
            }
        }
        to_boris.context("a button for Boris")?.click().await?;
        until(
            "it leaves Anna's window and is red in Boris's",
            WAIT,
            || async {
                Ok(chat_rows(&anna_app).await?.is_empty()
                    && chat_rows(&boris_app).await? == [("Irina".into(), "red".into(), "1".into())])
            },
        )
        .await?;
        until("Boris notified", WAIT, || async {
            Ok(recorder
                .calls()
                .iter()
                .any(|n| n.pid == Some(boris_pid) && n.body.contains("Sofia: Anna → Boris")))
        })
        .await?;
        click(&boris_app, "[data-testid=chat-row]").await?;
        until("the line in Boris's conversation", WAIT, || async {
            Ok(text_of(&boris_app, "transfer-line").await?
                == "Chat handed over · Sofia: Anna → Boris")
        })
        .await?;
        screenshot(&boris_app, "hand-over-received.png").await?;
        let entity = hub
            .admin(
                Method::GET,
                &format!("/api/v1/crm/leads/{lead}"),
                serde_json::Value::Null,
            )
            .await?;
        assert_eq!(entity["responsible_id"], json!(boris), "the CRM agrees");
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        for (app, name) in [
            (&anna_app, "anna"),
            (&boris_app, "boris"),
            (&sofia_app, "sofia"),
        ] {
            let _ = screenshot(app, &format!("hand-over-failure-{name}.png")).await;
        }
    }
    for app in [anna_app, boris_app, sofia_app] {
        app.close().await?;
    }
    result
}

//! A seller's and a supervisor's desktops against one hub. A client writes in the seller's chat:
//! the seller is notified, the supervisor is not and sees it grey. The supervisor flips "Notify
//! supervisors about all messages": their list turns red without a restart, and the next client
//! message notifies them too.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seller_red_supervisor_grey_until_the_flip() -> Result<()> {
    let recorder = Recorder::start().await?;
    let hub = Hub::start()?;
    let channel_id = hub.channel("whatsapp", "WA").await?;
    let (seller_id, seller_token) = hub
        .employee(json!({"name": "Sergey", "role": "seller"}))
        .await?;
    let (_, boss_token) = hub
        .employee(json!({"name": "Vera", "role": "supervisor"}))
        .await?;
    hub.admin(
        Method::POST,
        "/api/v1/crm/contacts",
        json!({"title": "Irina", "phones": ["8 (916) 456-98-12"], "responsible_id": seller_id}),
    )
    .await?;

    let (seller_dir, boss_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (d1, d2) = (
        Driver::start_on(4444, 4445).await?,
        Driver::start_on(4446, 4447).await?,
    );
    let seller_app = d1.launch(seller_dir.path()).await?;
    let boss_app = d2.launch(boss_dir.path()).await?;
    let result = async {
        sign_in(&seller_app, &hub.url, &seller_token, "Sergey").await?;
        sign_in(&boss_app, &hub.url, &boss_token, "Vera").await?;
        let seller_pid = pid_of_profile(seller_dir.path()).context("seller app pid")?;
        let boss_pid = pid_of_profile(boss_dir.path()).context("supervisor app pid")?;
        let from = |pid: u32| {
            recorder
                .calls()
                .into_iter()
                .filter(move |n| n.pid == Some(pid))
                .collect::<Vec<_>>()
        };

        assert_eq!(
            hub.webhook(client_message(
                "w1",
                &channel_id,
                "79164569812",
                "Irina",
                "Is it in stock?"
            ))
            .await?,
            200
        );
        until(
            "red for the seller, grey for the supervisor",
            WAIT,
            || async {
                Ok(
                    chat_rows(&seller_app).await? == [("Irina".into(), "red".into(), "1".into())]
                        && chat_rows(&boss_app).await?
                            == [("Irina".into(), "grey".into(), "1".into())],
                )
            },
        )
        .await?;
        until("the seller's notification", WAIT, || async {
            Ok(!from(seller_pid).is_empty())
        })
        .await?;
        let seller_shot = screenshot(&seller_app, "both-seller-red.png").await?;
        let boss_shot = screenshot(&boss_app, "both-supervisor-grey.png").await?;
        let both = artifact("both-desktops.png")?;
        // Side by side, when ImageMagick is there (a convenience for people, not a check).
        let _ = std::process::Command::new("convert")
            .arg(&seller_shot)
            .arg(&boss_shot)
            .arg("+append")
            .arg(&both)
            .status();

        click(&boss_app, "[data-testid=open-settings]").await?;
        click(&boss_app, "[data-testid=setting-notify-supervisors-all]").await?;
        until("red for the supervisor after the flip", WAIT, || async {
            Ok(chat_rows(&boss_app).await? == [("Irina".into(), "red".into(), "1".into())])
        })
        .await?;
        assert_eq!(
            hub.webhook(client_message(
                "w2",
                &channel_id,
                "79164569812",
                "Irina",
                "Hello?"
            ))
            .await?,
            200
        );
        until("the supervisor's notification", WAIT, || async {
            Ok(!from(boss_pid).is_empty())
        })
        .await?;
        let boss_calls = from(boss_pid);
        assert_eq!(
            boss_calls.len(),
            1,
            "only the message after the flip: {boss_calls:?}"
        );
        assert!(boss_calls[0].body.contains("Hello?"), "{boss_calls:?}");
        let seller_first = &from(seller_pid)[0];
        assert!(
            seller_first.body.contains("Is it in stock?"),
            "{seller_first:?}"
        );
        assert!(
            seller_first.body.contains("Contact: Irina"),
            "names the CRM entity: {seller_first:?}"
        );
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = screenshot(&seller_app, "both-failure-seller.png").await;
        let _ = screenshot(&boss_app, "both-failure-supervisor.png").await;
    }
    seller_app.close().await?;
    boss_app.close().await?;
    result
}

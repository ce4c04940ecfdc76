//! Access taken back, as a supervisor does it: on the Employees screen Vera switches Sergey's
//! "Active" off and confirms. Sergey's open window goes to the sign-in screen at once and says
//! his access ended; his token no longer works anywhere.

use anyhow::Result;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_sellers_window_is_signed_out_at_once() -> Result<()> {
    let hub = Hub::start()?;
    let channel_id = hub.channel("whatsapp", "WA").await?;
    let (seller_id, seller_token) = hub
        .employee(json!({"name": "Sergey", "role": "seller", "receives_new_clients": true}))
        .await?;
    let (_, boss_token) = hub
        .employee(json!({"name": "Vera", "role": "supervisor"}))
        .await?;
    assert_eq!(
        hub.webhook(client_message(
            "a1",
            &channel_id,
            "79164569812",
            "Irina",
            "Hello"
        ))
        .await?,
        200
    );
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
        until("Sergey sees the new client's chat", WAIT, || async {
            Ok(chat_rows(&seller_app).await?.len() == 1)
        })
        .await?;

        click(&boss_app, "[data-testid=open-employees]").await?;
        let sergey = "[data-testid=employee-row][data-name=Sergey]";
        until("the Employees screen lists Sergey", WAIT, || async {
            Ok(boss_app
                .find(fantoccini::Locator::Css(sergey))
                .await
                .is_ok())
        })
        .await?;
        click(
            &boss_app,
            &format!("{sergey} [data-testid=employee-active]"),
        )
        .await?;
        // Nothing happens before the confirmation.
        let me = hub
            .admin(Method::GET, "/api/v1/employees", json!(null))
            .await?;
        let active = |v: &serde_json::Value| {
            v.as_array()
                .and_then(|a| a.iter().find(|e| e["id"] == seller_id.as_str()))
                .map(|e| e["active"].clone())
        };
        assert_eq!(active(&me), Some(json!(true)), "{me}");
        screenshot(&boss_app, "access-confirm.png").await?;
        click(&boss_app, "[data-testid=deactivate-yes]").await?;

        until("Sergey's window says his access ended", WAIT, || async {
            Ok(seller_app
                .find(fantoccini::Locator::Css("[data-testid=access-ended]"))
                .await
                .is_ok())
        })
        .await?;
        screenshot(&seller_app, "access-ended.png").await?;
        until("Vera's list shows Sergey deactivated", WAIT, || async {
            Ok(boss_app
                .find(fantoccini::Locator::Css(&format!(
                    "{sergey} [data-testid=employee-deactivated]"
                )))
                .await
                .is_ok())
        })
        .await?;
        screenshot(&boss_app, "access-employees.png").await?;
        let status = reqwest::Client::new()
            .get(format!("{}/api/v1/me", hub.url))
            .bearer_auth(&seller_token)
            .send()
            .await?
            .status();
        assert_eq!(status, 401);
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = screenshot(&seller_app, "access-failure-seller.png").await;
        let _ = screenshot(&boss_app, "access-failure-supervisor.png").await;
    }
    seller_app.close().await?;
    boss_app.close().await?;
    result
}

//! The newcomer's path: Open demo workspace, sign in as the supervisor, see every chat grey,
//! flip "Notify supervisors about all messages" — the same window turns red, no restart — and
//! the demo's clients keep writing into it.

use anyhow::Result;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_workspace_supervisor_sees_grey_then_red_after_the_flip() -> Result<()> {
    let _recorder = Recorder::start().await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app).await;
    finish(app, result, "demo").await
}

async fn scenario(app: &fantoccini::Client) -> Result<()> {
    click(app, "[data-testid=open-demo]").await?;
    click(app, "[data-testid=demo-employee][data-role=supervisor]").await?;
    // The seeded chats of the demo: unanswered, someone else's or unassigned → grey for a supervisor.
    until("the demo's chats, all grey", WAIT, || async {
        let rows = chat_rows(app).await?;
        Ok(rows.len() >= 5 && rows.iter().all(|(_, color, _)| color == "grey"))
    })
    .await?;
    screenshot(app, "demo-supervisor-grey.png").await?;

    click(app, "[data-testid=open-settings]").await?;
    click(app, "[data-testid=setting-notify-supervisors-all]").await?;
    until("every unanswered chat red after the flip", WAIT, || async {
        let rows = chat_rows(app).await?;
        Ok(rows.len() >= 5 && rows.iter().all(|(_, color, _)| color == "red"))
    })
    .await?;
    screenshot(app, "demo-supervisor-red.png").await?;

    // The demo's clients keep writing (every 6–20 s, through the real webhook): it shows live.
    let waiting = |rows: &[(String, String, String)]| {
        rows.iter()
            .filter_map(|r| r.2.parse::<u32>().ok())
            .sum::<u32>()
    };
    let before = waiting(&chat_rows(app).await?);
    until(
        "a demo client's new message in the list",
        Duration::from_secs(45),
        || async { Ok(waiting(&chat_rows(app).await?) > before) },
    )
    .await?;
    Ok(())
}

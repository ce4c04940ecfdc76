//! `bitrix24-fake --listen 127.0.0.1:0 --webhook USER_ID/CODE`
//! Prints `listening on http://127.0.0.1:<port>` when ready; the incoming webhook's base is
//! then `http://127.0.0.1:<port>/rest/USER_ID/CODE/`.

use bitrix24_fake::FakeConfig;
use clap::Parser;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "A contract fake of Bitrix24's REST API over an incoming webhook")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// USER_ID/CODE of the incoming webhook, e.g. 1/q1w2e3r4t5y6u7i8
    #[arg(long, value_parser = FakeConfig::parse_webhook)]
    webhook: (u64, String),
    /// The leaky bucket's capacity (standard plan: 50).
    #[arg(long, default_value_t = 50.0)]
    burst: f64,
    /// The leaky bucket's drain per second (standard plan: 2).
    #[arg(long, default_value_t = 2.0)]
    drain_per_sec: f64,
    /// Seconds a hanging fault holds its request.
    #[arg(long, default_value_t = 30)]
    hang_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "bitrix24_fake=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = FakeConfig::new(args.webhook.0, &args.webhook.1);
    config.burst = args.burst;
    config.drain_per_sec = args.drain_per_sec;
    config.hang = Duration::from_secs(args.hang_secs);
    let running = bitrix24_fake::start(args.listen, config).await?;
    println!("listening on {}", running.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}

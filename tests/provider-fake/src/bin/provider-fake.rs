//! `provider-fake --listen 127.0.0.1:0 --api-key KEY [--channel TRANSPORT:PLAIN_ID:STATE]...`
//! Prints `listening on http://127.0.0.1:<port>` when ready; channel ids are new UUIDs,
//! listed by `GET /v3/channels`.

use clap::Parser;
use provider_fake::{FakeChannel, FakeConfig};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "A contract fake of the messenger provider's API v3")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    api_key: String,
    /// TRANSPORT:PLAIN_ID:STATE, e.g. whatsapp:79990001122:active
    #[arg(long = "channel", value_parser = FakeChannel::parse)]
    channels: Vec<FakeChannel>,
    /// Milliseconds between the `sent`, `delivered` and `read` statuses of a send.
    #[arg(long, default_value_t = 200)]
    status_step_ms: u64,
    /// Seconds a hanging fault holds its request.
    #[arg(long, default_value_t = 30)]
    hang_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "provider_fake=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = FakeConfig::new(&args.api_key, args.channels);
    config.status_step = Duration::from_millis(args.status_step_ms);
    config.hang = Duration::from_secs(args.hang_secs);
    let running = provider_fake::start(args.listen, config).await?;
    println!("listening on {}", running.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}

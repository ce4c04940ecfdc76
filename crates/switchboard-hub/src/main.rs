//! `switchboard-hub`: serve a workspace, or read phone numbers as setting 2 does.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "switchboard-hub",
    version,
    about = "The Switchboard workspace server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a workspace from a data directory.
    Serve {
        /// The directory of the workspace's database (created when missing).
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Seed the demo workspace and run the client simulator (on an in-process provider
        /// fake unless --provider-url is given).
        #[arg(long)]
        demo: bool,
        /// The messenger provider's API, e.g. https://api.wazzup24.com. Its API key comes from
        /// SWITCHBOARD_PROVIDER_KEY or <data>/provider-key (never from the command line).
        #[arg(long)]
        provider_url: Option<String>,
        /// Seconds before a provider request counts as timed out.
        #[arg(long, default_value_t = 10)]
        provider_timeout: u64,
        /// The hub's address as the provider and the CRM reach it (default: the listening address).
        #[arg(long)]
        public_url: Option<String>,
        /// Seconds before a CRM request counts as timed out.
        #[arg(long, default_value_t = 30)]
        crm_timeout: u64,
        /// Milliseconds before the CRM queue's first retry (doubling up to 60 times it).
        #[arg(long, default_value_t = 1000)]
        crm_backoff_ms: u64,
        /// Open connections at once; more wait (every desktop holds one for its live events).
        #[arg(long, default_value_t = 1024)]
        max_connections: usize,
        /// Seconds a client has to send a request's headers (idle keep-alive ends after it too).
        #[arg(long, default_value_t = 30)]
        header_timeout: u64,
    },
    /// Read CRM phone values (one per line on stdin) as setting 2 does; print E.164 or error:<kind>.
    NormalizePhone {
        #[arg(long, value_enum)]
        eight_as_plus7: OnOff,
    },
    /// Print the OpenAPI description of the HTTP surface.
    Openapi,
}

#[derive(Clone, Copy, ValueEnum)]
enum OnOff {
    On,
    Off,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::NormalizePhone { eight_as_plus7 } => {
            normalize(matches!(eight_as_plus7, OnOff::On))
        }
        Command::Openapi => {
            println!("{}", switchboard_hub::api::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Serve {
            data,
            listen,
            demo,
            provider_url,
            provider_timeout,
            public_url,
            crm_timeout,
            crm_backoff_ms,
            max_connections,
            header_timeout,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .with_writer(std::io::stderr)
                .init();
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let provider = match provider_url {
                    Some(base_url) => Some(switchboard_hub::provider::ProviderConfig::new(
                        &base_url,
                        &switchboard_hub::provider_key(&data)?,
                        std::time::Duration::from_secs(provider_timeout),
                    )),
                    None => None,
                };
                let hub = switchboard_hub::start(switchboard_hub::ServeConfig {
                    provider,
                    public_url,
                    crm_timeout: std::time::Duration::from_secs(crm_timeout),
                    crm_backoff: std::time::Duration::from_millis(crm_backoff_ms),
                    limits: switchboard_hub::serve::Limits {
                        max_connections,
                        header_timeout: std::time::Duration::from_secs(header_timeout.max(1)),
                        ..Default::default()
                    },
                    ..switchboard_hub::ServeConfig::new(data, listen, demo)
                })
                .await?;
                println!("listening on {}", hub.url);
                std::io::stdout().flush()?;
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => hub.stop().await,
                    _ = terminate() => hub.stop().await,
                }
                Ok(())
            })
        }
    }
}

async fn terminate() {
    #[cfg(unix)]
    {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

fn normalize(on: bool) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line.context("reading stdin")?;
        match switchboard_core::read_crm_phone(&line, on) {
            Ok(n) => writeln!(out, "{n}")?,
            Err(e) => writeln!(out, "error:{}", e.kind.as_str())?,
        }
    }
    Ok(())
}

//! The Switchboard hub: the one server of a workspace.
//!
//! Desktops talk only to the hub; the hub alone talks to the messenger provider and the
//! CRM, so each message is received, stored and mirrored exactly once however many
//! desktops are open. State lives in one SQLite database (WAL) in the data directory.
//! Every write appends to a change log; `GET /api/v1/sync` replays that log for one
//! viewer (filtered and coloured by switchboard-core's rules) and `GET /api/v1/events`
//! tells subscribers when there is more to sync and whom to notify.
//!
//! Design decision: a single writer connection behind a mutex, used from blocking
//! threads — simple and crash-safe (every write is one transaction; writes serialise, which
//! SQLite does anyway) — beside a few read-only connections, so reads (a supervisor's first
//! sync, chat lists) never wait behind writes (webhooks) and writes never wait behind them (WAL).

pub mod api;
pub mod bitrix;
pub mod clock;
pub mod crm;
pub mod crm_sync;
pub mod db;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod hub;
pub mod media;
pub mod mirror;
pub mod outbox;
pub mod provider;
pub mod serve;
pub mod store;
pub mod webhook;
pub mod worker;
pub mod workspace;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The wire types of hub-api.md (their own crate: the desktop reads them without the server).
pub use switchboard_wire as json;
pub use switchboard_wire::encode_component;

pub use hub::{Hub, HubEvent, EVENT_RING};

/// How to start a hub.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Seed the demo workspace and run the client simulator. Without a provider, the demo
    /// runs its own provider fake in-process.
    pub demo: bool,
    /// The messenger provider; `None`: sandbox channels only (or the demo's fake).
    pub provider: Option<provider::ProviderConfig>,
    /// The address the provider and the CRM post webhooks to (default: the listening URL).
    pub public_url: Option<String>,
    /// How long a CRM request may take before it counts as timed out.
    pub crm_timeout: std::time::Duration,
    /// The CRM queue's first retry pause (doubling to 60 times it); tests shrink time with it.
    pub crm_backoff: std::time::Duration,
    /// Connections, header and request deadlines.
    pub limits: serve::Limits,
}

impl ServeConfig {
    pub fn new(data_dir: PathBuf, listen: SocketAddr, demo: bool) -> ServeConfig {
        ServeConfig {
            data_dir,
            listen,
            demo,
            provider: None,
            public_url: None,
            crm_timeout: std::time::Duration::from_secs(30),
            crm_backoff: mirror::BASE_BACKOFF,
            limits: serve::Limits::default(),
        }
    }
}

/// How long `stop()` waits for one of the hub's loops to end by itself.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A hub serving on a socket.
pub struct RunningHub {
    pub url: String,
    /// The administrator's token (from the environment or `<dir>/admin-token`).
    pub admin_token: String,
    pub hub: Hub,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// The hub's own loops (escalation, mirror, CRM sync, provider sync, outbox, simulator).
    workers: Vec<tokio::task::JoinHandle<()>>,
    /// How long `stop` waits for each loop: [`STOP_WAIT`], or a send's whole timeout.
    stop_wait: std::time::Duration,
    /// The demo's provider fake, when it runs in-process.
    #[cfg(feature = "demo")]
    pub demo_provider: Option<provider_fake::RunningFake>,
    _lock: db::DirLock,
}

impl RunningHub {
    /// Stops serving, waits for open requests to finish and for the hub's loops to end (each
    /// ends at its next step; one still busy after [`STOP_WAIT`] — a CRM request in flight — is
    /// cut off), so nothing writes after the directory's lock is released.
    pub async fn stop(mut self) {
        self.hub.close();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        for mut worker in std::mem::take(&mut self.workers) {
            if tokio::time::timeout(self.stop_wait, &mut worker)
                .await
                .is_err()
            {
                worker.abort();
                let _ = worker.await;
            }
        }
        self.hub.shut().await;
    }

    /// Waits until the server ends (never, unless it fails).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Fills the search index from the messages it does not hold yet (migration 019): a batch at a
/// time, on at once while there is more, else every second.
fn spawn_search_index(hub: Hub) -> tokio::task::JoinHandle<()> {
    worker::spawn(hub, None, SearchIndex)
}

struct SearchIndex;

impl worker::Worker for SearchIndex {
    async fn round(&mut self, hub: &Hub, _: worker::Woke) -> std::time::Duration {
        let batch = store::search::INDEX_BATCH;
        // Nothing new: no write at all.
        match hub
            .store_read(|c| Ok(store::search::index_waiting(c)?))
            .await
        {
            Ok(false) => return std::time::Duration::from_secs(1),
            Ok(true) => {}
            Err(e) => tracing::warn!(error = %e, "could not read what waits for the search index"),
        }
        match hub
            .store_write(move |c| Ok(store::search::index_pending(c, batch)?))
            .await
        {
            // A full batch, or one cut short by its size: more may wait.
            Ok(n) if n > 0 => std::time::Duration::ZERO,
            Ok(_) => std::time::Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(error = %e, "the search index could not take new messages");
                std::time::Duration::from_secs(5)
            }
        }
    }
}

/// Every few seconds: escalate the chats that waited too long, and notify supervisors once.
fn spawn_escalation(hub: Hub) -> tokio::task::JoinHandle<()> {
    worker::spawn(hub, None, Escalation)
}

struct Escalation;

impl worker::Worker for Escalation {
    async fn round(&mut self, hub: &Hub, _: worker::Woke) -> std::time::Duration {
        if let Err(e) = hub
            .store_write_notify(|c| Ok(((), store::escalation_tick(c, clock::now_ms())?)))
            .await
        {
            tracing::warn!(error = %e, "escalation check failed");
        }
        store::ESCALATION_TICK
    }
}

/// Subscribes our webhook and reads the provider's channels.
async fn connect_provider(
    hub: &Hub,
    client: &provider::ProviderClient,
    webhook: &str,
) -> anyhow::Result<()> {
    client.subscribe(webhook).await?;
    let channels = client.channels().await?;
    hub.store_write(move |c| Ok(store::upsert_provider_channels(c, &channels)?))
        .await?;
    Ok(())
}

/// Keeps the webhook subscribed and the channel list fresh: at start (retrying until the
/// provider answers), then every minute.
fn spawn_provider_sync(
    hub: Hub,
    client: provider::ProviderClient,
    webhook: String,
) -> tokio::task::JoinHandle<()> {
    worker::spawn(
        hub,
        None,
        ProviderSync {
            client,
            webhook,
            subscribed: false,
            pause: std::time::Duration::from_secs(1),
        },
    )
}

struct ProviderSync {
    client: provider::ProviderClient,
    webhook: String,
    subscribed: bool,
    /// Doubles while the provider cannot be reached (up to 30 s).
    pause: std::time::Duration,
}

impl worker::Worker for ProviderSync {
    async fn round(&mut self, hub: &Hub, _: worker::Woke) -> std::time::Duration {
        let done = if self.subscribed {
            match self.client.channels().await {
                Ok(list) => hub
                    .store_write(move |c| Ok(store::upsert_provider_channels(c, &list)?))
                    .await
                    .map_err(|e| anyhow::anyhow!(e)),
                Err(e) => Err(e.into()),
            }
        } else {
            connect_provider(hub, &self.client, &self.webhook).await
        };
        match done {
            Ok(()) => {
                self.subscribed = true;
                self.pause = PROVIDER_REFRESH;
            }
            Err(e) => {
                tracing::warn!(error = %e, "provider not reachable; will retry");
                self.pause = (self.pause * 2).min(std::time::Duration::from_secs(30));
            }
        }
        self.pause
    }
}

/// How often the provider's channel list is read again (webhooks tell of changes meanwhile).
const PROVIDER_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// The provider's API key: `SWITCHBOARD_PROVIDER_KEY`, else `<dir>/provider-key`.
pub fn provider_key(dir: &Path) -> anyhow::Result<String> {
    if let Ok(v) = std::env::var("SWITCHBOARD_PROVIDER_KEY") {
        if !v.trim().is_empty() {
            return Ok(v.trim().to_owned());
        }
    }
    let path = dir.join("provider-key");
    std::fs::read_to_string(&path)
        .map(|v| v.trim().to_owned())
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--provider-url needs an API key in SWITCHBOARD_PROVIDER_KEY or {}",
                path.display()
            )
        })
}

/// Reads a secret from the environment, else from `<dir>/<file>`, else makes one and writes it there (0600).
fn secret(dir: &Path, env: &str, file: &str) -> anyhow::Result<String> {
    if let Ok(v) = std::env::var(env) {
        if !v.trim().is_empty() {
            return Ok(v.trim().to_owned());
        }
    }
    let path = dir.join(file);
    if let Ok(v) = std::fs::read_to_string(&path) {
        if !v.trim().is_empty() {
            // An older install's file may be wider: only the hub's user reads it (a file the
            // hub cannot narrow — a read-only mount — is said, not fatal).
            if let Err(e) = db::private(&path, 0o600) {
                tracing::warn!(file = %path.display(), error = %e, "cannot make the secret file owner-only");
            }
            return Ok(v.trim().to_owned());
        }
    }
    let v = store::new_token();
    write_private(&path, &v)?;
    Ok(v)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

/// Opens the data directory (locked: a second hub refuses) and starts serving.
pub async fn start(config: ServeConfig) -> anyhow::Result<RunningHub> {
    #[cfg(not(feature = "demo"))]
    if config.demo {
        anyhow::bail!("this hub was built without the demo workspace (the `demo` feature)");
    }
    let lock = db::lock_dir(&config.data_dir)?;
    // libphonenumber reads its metadata on first use (0.13 s release, 0.87 s debug): here, not
    // in the first client's webhook.
    tokio::task::spawn_blocking(|| switchboard_core::read_crm_phone("+7 916 456-98-12", true))
        .await?
        .ok();
    let conn = db::open_hub(&config.data_dir.join("hub.db"))?;
    let admin_token = secret(&config.data_dir, "SWITCHBOARD_ADMIN_TOKEN", "admin-token")?;
    let ingress = secret(
        &config.data_dir,
        "SWITCHBOARD_INGRESS_SECRET",
        "ingress-secret",
    )?;
    store::ensure_workspace(&conn)?;
    // The administrator's token now replaces any stored before (a rotated one stops working).
    store::replace_admin_token(&conn, &admin_token, &clock::now())?;
    let hub = Hub::new(conn, ingress);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let public = config
        .public_url
        .clone()
        .unwrap_or_else(|| url.clone())
        .trim_end_matches('/')
        .to_owned();
    hub.set_public_url(public.clone());
    if config.provider.is_some() && !config.demo && !reachable_from_outside(&public) {
        tracing::warn!(
            public_url = %public,
            "the provider downloads the files employees send from --public-url, and people \
             open CRM timeline links to files there: this address is not reachable from the \
             internet, so file sends will fail; set --public-url to the hub's public address"
        );
    }
    let mut workers = vec![
        spawn_escalation(hub.clone()),
        spawn_search_index(hub.clone()),
    ];
    // The built-in CRM is the embedded default; a connected Bitrix24 portal replaces it.
    let workspace_crm = Arc::new(crm_sync::WorkspaceCrm::new(
        hub.clone(),
        bitrix::Rate::STANDARD,
        config.crm_timeout,
    ));
    workers.push(mirror::spawn_with(
        hub.clone(),
        workspace_crm.clone(),
        config.crm_backoff,
    ));
    workers.push(crm_sync::spawn(hub.clone(), workspace_crm));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = api::router(hub.clone());
    let limits = config.limits;
    let task = tokio::spawn(serve::serve(listener, app, limits, async {
        let _ = rx.await;
    }));
    #[cfg_attr(not(feature = "demo"), allow(unused_mut))]
    let mut provider = config.provider.clone();
    #[cfg(feature = "demo")]
    let mut demo_provider = None;
    #[cfg(feature = "demo")]
    if config.demo && provider.is_none() {
        let fake = demo::start_provider().await?;
        provider = Some(provider::ProviderConfig::new(
            &fake.url,
            demo::PROVIDER_KEY,
            std::time::Duration::from_secs(10),
        ));
        demo_provider = Some(fake);
    }
    if provider.is_none() {
        // Nothing is lost, but nothing goes either: say so where the operator looks.
        let waiting: i64 = hub.store_read(|c| Ok(store::outbox_queue::len(c)?)).await?;
        if waiting > 0 {
            tracing::warn!(
                waiting,
                "messages wait for the messenger provider: start with --provider-url to send them"
            );
        }
    }
    // Clients' files come from the provider's store: links to its own host are trusted even
    // on a private network (the demo's fake, a test's); any other must be a public address.
    let provider_host = provider
        .as_ref()
        .and_then(|p| reqwest::Url::parse(&p.base_url).ok())
        .and_then(|u| u.host_str().map(str::to_owned));
    workers.push(media::spawn(
        hub.clone(),
        config.data_dir.join("media"),
        provider_host,
    )?);
    if let Some(p) = provider {
        let client = provider::ProviderClient::new(p)?;
        let webhook = format!("{public}/webhooks/provider/{}", hub.ingress_secret());
        #[cfg(feature = "demo")]
        if demo_provider.is_some() {
            // The demo's channels must exist before it seeds conversations on them.
            connect_provider(&hub, &client, &webhook).await?;
        }
        workers.push(spawn_provider_sync(hub.clone(), client.clone(), webhook));
        workers.push(outbox::spawn(hub.clone(), client));
    }
    #[cfg(feature = "demo")]
    if config.demo {
        demo::seed(&hub).await?;
        if let Some(fake) = &demo_provider {
            workers.push(demo::spawn_simulator(hub.clone(), fake.fake.clone()));
        }
    }
    tracing::info!(%url, data_dir = %config.data_dir.display(), demo = config.demo, "hub serving");
    // A send in flight may finish (and its outcome be stored) rather than be cut off and
    // left for a repeat that is only safe within the provider's 60 s.
    let stop_wait = config.provider.as_ref().map_or(STOP_WAIT, |p| {
        STOP_WAIT.max(p.timeout + std::time::Duration::from_secs(2))
    });
    Ok(RunningHub {
        url,
        admin_token,
        hub,
        shutdown: Some(tx),
        task,
        workers,
        stop_wait,
        #[cfg(feature = "demo")]
        demo_provider,
        _lock: lock,
    })
}

/// Whether `url`'s host could be reached from the internet (a name, or a public address).
fn reachable_from_outside(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    match u.host() {
        Some(url::Host::Domain(d)) => d != "localhost" && !d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => media::public(ip.into()),
        Some(url::Host::Ipv6(ip)) => media::public(ip.into()),
        None => false,
    }
}

#[cfg(test)]
mod public_url_tests {
    #[test]
    fn only_names_and_public_addresses_are_reachable_from_outside() {
        for ok in ["https://hub.example.com", "http://93.184.216.34:8080/"] {
            assert!(super::reachable_from_outside(ok), "{ok}");
        }
        for not in [
            "http://127.0.0.1:8080",
            "http://0.0.0.0:8080",
            "http://192.168.1.5",
            "http://[::1]:80",
            "http://localhost:8080",
            "http://hub.localhost",
            "not a url",
        ] {
            assert!(!super::reachable_from_outside(not), "{not}");
        }
    }
}

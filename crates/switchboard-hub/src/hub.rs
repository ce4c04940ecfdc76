//! The running hub's shared state: the one writer and the readers of its database, the event
//! ring desktops listen to, and the workers' doorbells. Every write goes through
//! [`Hub::write_as`] (one transaction; a moved change log publishes one `change` after commit).

use crate::db;
use crate::json;
use crate::store::{self, StoreError, StoreResult};
use rusqlite::Connection;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Something subscribers of `GET /api/v1/events` should hear.
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// The change log advanced to this cursor.
    Change(i64),
    /// These employees must get an OS notification now: everything one write decided, in one
    /// event, so a burst of thousands of messages takes one slot of the ring, not thousands.
    Notify(Arc<Vec<(String, json::NotifyEvent)>>),
    /// Tokens were revoked, an employee deactivated or their role changed: every open stream
    /// checks its token again and ends when it no longer may listen.
    AccessChanged,
}

/// Read-only connections beside the writer (reads at once; more wait for a free one).
const READERS: usize = 4;

/// How many events the ring holds for a slow stream before it lags (and is told to resync).
pub const EVENT_RING: usize = 4096;

/// The shared state of a running hub.
#[derive(Clone)]
pub struct Hub {
    conn: Arc<Mutex<Connection>>,
    /// Read-only connections to the same file (none for an in-memory database).
    readers: Arc<db::Readers>,
    events: broadcast::Sender<HubEvent>,
    ingress_secret: Arc<str>,
    /// Flips to true when the hub shuts down: live event streams end then.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Set (under the writer's lock) once the hub has stopped: no write after that.
    stopped: Arc<std::sync::atomic::AtomicBool>,
    /// Rings when the outbox has something new to send.
    outbox: Arc<tokio::sync::Notify>,
    /// Rings when something was written (the mirror queue may have new rows).
    mirror: Arc<tokio::sync::Notify>,
    /// Rings when the CRM should be asked about new numbers (or was just connected).
    crm: Arc<tokio::sync::Notify>,
    /// The hub's address as outside services reach it (webhooks), once serving.
    public_url: Arc<std::sync::OnceLock<String>>,
    /// The newest log entries as read, shared by every desktop's sync.
    log_cache: Arc<store::LogCache>,
    /// Where clients' files are kept (`<data dir>/media`), once serving.
    media_dir: Arc<std::sync::OnceLock<std::path::PathBuf>>,
    /// Rings when a client's file waits to be fetched.
    media: Arc<tokio::sync::Notify>,
    /// Checkpoints the database beside the writer (none in memory).
    checkpointer: Option<Arc<db::Checkpointer>>,
}

impl Hub {
    pub fn new(conn: Connection, ingress_secret: String) -> Hub {
        Hub::with_readers(conn, ingress_secret, READERS)
    }

    /// The newest log entries as read, shared by every desktop's sync.
    pub fn log_cache(&self) -> Arc<store::LogCache> {
        self.log_cache.clone()
    }

    /// A hub with `readers` read-only connections (0: reads share the writer, as before there
    /// were readers — the bench's floor).
    pub fn with_readers(conn: Connection, ingress_secret: String, readers: usize) -> Hub {
        let readers = db::Readers::beside(&conn, readers);
        let checkpointer = db::Checkpointer::beside(&conn)
            .inspect_err(
                |e| tracing::warn!(error = %e, "no checkpoint thread; the writer checkpoints"),
            )
            .ok()
            .flatten()
            .map(Arc::new);
        Hub {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(readers),
            events: broadcast::channel(EVENT_RING).0,
            ingress_secret: ingress_secret.into(),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
            stopped: Arc::default(),
            outbox: Arc::new(tokio::sync::Notify::new()),
            mirror: Arc::new(tokio::sync::Notify::new()),
            crm: Arc::new(tokio::sync::Notify::new()),
            public_url: Arc::new(std::sync::OnceLock::new()),
            log_cache: Arc::default(),
            media_dir: Arc::default(),
            media: Arc::new(tokio::sync::Notify::new()),
            checkpointer,
        }
    }

    /// Sets the hub's address as outside services reach it (once, when it starts serving).
    pub(crate) fn set_public_url(&self, url: String) {
        let _ = self.public_url.set(url);
    }

    /// The hub's address as outside services reach it (empty before it serves).
    pub fn public_url(&self) -> &str {
        self.public_url.get().map_or("", String::as_str)
    }

    /// Where clients' files are kept (set once, when the hub starts serving).
    pub fn set_media_dir(&self, dir: std::path::PathBuf) {
        let _ = self.media_dir.set(dir);
    }

    /// Where clients' files are kept (none before the hub serves: nothing is fetched then).
    pub fn media_dir(&self) -> Option<&std::path::Path> {
        self.media_dir.get().map(std::path::PathBuf::as_path)
    }

    /// The media fetcher's doorbell.
    pub fn media_wake(&self) -> Arc<tokio::sync::Notify> {
        self.media.clone()
    }

    /// The CRM sync's doorbell.
    pub fn crm_wake(&self) -> Arc<tokio::sync::Notify> {
        self.crm.clone()
    }

    /// The mirror worker's doorbell.
    pub fn mirror_wake(&self) -> Arc<tokio::sync::Notify> {
        self.mirror.clone()
    }

    /// The outbox worker's doorbell.
    pub fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.outbox.clone()
    }

    /// Ends every live event stream (they would otherwise keep a graceful shutdown waiting).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// The last step of stopping: waits for a write still running (a worker's round cut off
    /// mid-write leaves its blocking task to finish) and refuses every later one, so nothing
    /// writes after the data directory's lock is released.
    pub async fn shut(&self) {
        let (conn, stopped) = (self.conn.clone(), self.stopped.clone());
        let done = tokio::task::spawn_blocking(move || {
            let _writer = conn.lock().unwrap_or_else(|p| p.into_inner());
            stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        if let Err(e) = done.await {
            tracing::warn!(error = %e, "the writer could not be shut");
        }
    }

    /// Whether the hub is shutting down (workers start nothing new).
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// Resolves when the hub shuts down.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.closing.subscribe();
        async move {
            let _ = rx.wait_for(|closing| *closing).await;
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.events.subscribe()
    }

    /// How many live streams listen now.
    pub fn subscribers(&self) -> usize {
        self.events.receiver_count()
    }

    pub fn publish(&self, event: HubEvent) {
        // No subscribers is fine: nobody is listening.
        let _ = self.events.send(event);
    }

    /// Publishes what one write decided about notifications (nothing when it decided none).
    pub fn notify(&self, notifications: Vec<(String, json::NotifyEvent)>) {
        if !notifications.is_empty() {
            self.publish(HubEvent::Notify(Arc::new(notifications)));
        }
    }

    pub fn ingress_secret(&self) -> &str {
        &self.ingress_secret
    }

    /// Runs `f` on a read-only connection off the async threads: it never waits for a write
    /// (nor a write for it), and sees everything committed before it began.
    pub async fn read_as<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (conn, readers) = (self.conn.clone(), self.readers.clone());
        tokio::task::spawn_blocking(move || {
            let mut f = Some(f);
            let run = |c: &Connection| f.take().map(|f| f(c));
            if let Some(Some(answer)) = readers.with(run) {
                return answer;
            }
            let f = f.ok_or_else(|| StoreError::Unavailable("read ran twice".into()))?;
            let conn = conn.lock().map_err(|_| StoreError::poisoned())?;
            f(&conn)
        })
        .await
        .map_err(StoreError::from)?
    }

    /// Runs `f` in one transaction; on commit, tells subscribers when the change log moved.
    pub async fn write_as<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        self.write_notify_as(move |c| f(c).map(|v| (v, Vec::new())))
            .await
    }

    /// Like [`Hub::write_as`], and publishes the notifications `f` decided. Both are published by
    /// the task that commits, so a request given up on (a deadline, a closed connection) never
    /// leaves a committed write unannounced.
    pub async fn write_notify_as<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<(String, json::NotifyEvent)>), E> + Send + 'static,
    {
        self.write_events(f, false).await
    }

    /// Like [`Hub::write_as`] for a write that may narrow someone's access (a revoked token, a
    /// deactivation, a role change): every open stream checks its token again, rung by the
    /// task that commits.
    pub async fn write_access_as<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        self.write_events(move |c| f(c).map(|v| (v, Vec::new())), true)
            .await
    }

    async fn write_events<T, E, F>(&self, f: F, access_changed: bool) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<(String, json::NotifyEvent)>), E> + Send + 'static,
    {
        let conn = self.conn.clone();
        let hub = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| StoreError::poisoned())?;
            if hub.stopped.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(StoreError::Unavailable("the hub has stopped".into()).into());
            }
            let tx = conn.transaction().map_err(StoreError::from)?;
            let before = store::last_seq(&tx).map_err(StoreError::from)?;
            let (value, notifications) = f(&tx)?;
            let after = store::last_seq(&tx).map_err(StoreError::from)?;
            tx.commit().map_err(StoreError::from)?;
            drop(conn);
            if let Some(c) = &hub.checkpointer {
                c.wrote();
            }
            if after != before {
                hub.publish(HubEvent::Change(after));
                hub.mirror.notify_one();
                hub.media.notify_one();
            }
            hub.notify(notifications);
            if access_changed {
                hub.publish(HubEvent::AccessChanged);
            }
            Ok::<_, E>(value)
        })
        .await
        .map_err(StoreError::from)?
    }

    /// [`Hub::read_as`] for the layers below HTTP (workers): a [`StoreError`] on failure.
    pub async fn store_read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.read_as(f).await
    }

    /// [`Hub::write_as`] for the layers below HTTP (workers).
    pub async fn store_write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.write_as(f).await
    }

    /// [`Hub::write_notify_as`] for the layers below HTTP (workers).
    pub async fn store_write_notify<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<(T, Vec<(String, json::NotifyEvent)>)>
            + Send
            + 'static,
    {
        self.write_notify_as(f).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_is_written_once_the_hub_is_shut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = db::open_hub(&dir.path().join("hub.db")).expect("open");
        let hub = Hub::new(conn, "secret".into());
        hub.store_write(|c| Ok(store::ensure_workspace(c)?))
            .await
            .expect("a write before");
        hub.shut().await;
        let late = hub
            .store_write(|c| Ok(store::record_change(c, store::ChangeKind::Settings, "")?))
            .await;
        assert!(matches!(late, Err(StoreError::Unavailable(_))), "{late:?}");
        let read = hub.store_read(|c| Ok(store::last_seq(c)?)).await;
        assert_eq!(read.ok(), Some(0), "reads still answer");
    }
}

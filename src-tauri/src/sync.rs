//! The sync client: one live `events` stream to the hub; each `change` (or `resync`) pulls
//! `sync` into the local store, each `notify` raises a native notification. Reconnects with
//! back-off — except when the hub refuses the token (401: revoked, the employee deactivated):
//! then it stops for good, holds back the unsent outbox and tells the observer it is signed out.

use crate::local::LocalStore;
use crate::vm::StoreChange;
use eventsource_stream::Eventsource;
use futures_util::{FutureExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use switchboard_client::{ClientError, HubClient};
use switchboard_wire::{MessageView, NotifyEvent};

/// A hub that sends no byte for this long (keep-alives come every 15 s) is taken as gone.
pub const SILENCE: Duration = Duration::from_secs(45);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// What the sync loop tells the app about.
pub trait SyncObserver: Send + Sync + 'static {
    /// The local store changed, as `what` says.
    fn changed(&self, what: &StoreChange);
    /// The live link went up or down.
    fn online(&self, online: bool);
    /// The hub says: notify this employee now.
    fn notify(&self, event: NotifyEvent);
    /// The hub refused this client's token (revoked, or the employee deactivated). The sync
    /// loop has stopped; the unsent outbox is kept (held back). May come more than once.
    fn signed_out(&self);
    /// A file of the outbox (`key`) is on its way to the hub: `sent` of `total` bytes.
    fn uploading(&self, _key: &str, _sent: u64, _total: u64) {}
}

/// Failed uploads of one file before it is held as refused.
pub const FILE_ATTEMPTS: u32 = 5;

/// The hub cannot be reached at all (no connection): nothing counts against the file.
fn stuck(e: &ClientError) -> bool {
    matches!(e, ClientError::Unreachable(r) if r.is_connect())
}

/// How often an upload's progress is told (at most).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct SyncClient {
    /// The hub, as this employee.
    pub hub: HubClient,
    pub store: Arc<LocalStore>,
    /// One outbox flush at a time (a second would only resend the same keys).
    pub flushing: Arc<tokio::sync::Mutex<()>>,
    /// One sync or snapshot page at a time: answers are applied in the order they were read.
    syncing: Arc<tokio::sync::Mutex<()>>,
    /// How long the live stream may bring no byte at all (not even a keep-alive comment)
    /// before the hub is taken as gone.
    pub silence: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Hub(ClientError),
    #[error("the hub refused our token; sign in again")]
    Unauthorized,
    #[error("the hub sent something unreadable: {0}")]
    Protocol(String),
    #[error("the hub went silent")]
    Silent,
    #[error(transparent)]
    Local(#[from] crate::local::LocalError),
}

impl From<ClientError> for SyncError {
    fn from(e: ClientError) -> Self {
        SyncError::Hub(e)
    }
}

impl SyncClient {
    pub fn new(hub: HubClient, store: Arc<LocalStore>) -> SyncClient {
        SyncClient {
            hub,
            store,
            flushing: Default::default(),
            syncing: Default::default(),
            silence: SILENCE,
        }
    }

    /// A hub answer, with a refused token taken as the end of this session.
    fn checked<T>(
        &self,
        answer: Result<T, ClientError>,
        observer: &dyn SyncObserver,
    ) -> Result<T, SyncError> {
        match answer {
            Err(e) if e.is_unauthorized() => Err(self.access_ended(observer)),
            other => Ok(other?),
        }
    }

    /// The hub refused our token: hold back what waits in the outbox (it must not go by itself
    /// after a later sign-in, perhaps as someone else; Retry or Discard then), tell the observer.
    fn access_ended(&self, observer: &dyn SyncObserver) -> SyncError {
        match self.store.outbox_hold(
            crate::local::ACCESS_ENDED,
            "not sent: access to the workspace ended before the hub took it",
        ) {
            Ok(0) => {}
            Ok(held) => tracing::info!(held, "unsent messages kept for after the next sign-in"),
            Err(e) => tracing::error!(error = %e, "could not hold back the outbox"),
        }
        observer.signed_out();
        SyncError::Unauthorized
    }

    /// Gives up this client's token on the hub, as signing out does.
    pub async fn revoke_own_token(&self) -> Result<(), SyncError> {
        Ok(self.hub.revoke_own_token().await?)
    }

    /// Pulls every change after the stored cursor into the local store. A snapshot's later
    /// pages are left for [`next_page`](Self::next_page), so that live changes are synced
    /// between them.
    pub async fn sync_now(&self, observer: &dyn SyncObserver) -> Result<(), SyncError> {
        let _one = self.syncing.lock().await;
        self.sync_locked(observer).await
    }

    /// [`sync_now`](Self::sync_now), with the sync lock held.
    async fn sync_locked(&self, observer: &dyn SyncObserver) -> Result<(), SyncError> {
        loop {
            let cursor = self.store.cursor()?;
            let paging = self.store.snapshot_page()?.is_some();
            let answer = self.checked(self.hub.sync(cursor).await, observer)?;
            // A new snapshot (this employee's own edit) while one is still coming in pages:
            // the one coming may be a first sync, whose history the new one would not carry.
            // It starts again from the beginning instead (rare; what is here stays meanwhile).
            if paging && answer.progress.is_some() && cursor > 0 {
                tracing::info!("a new snapshot began during a paged one; syncing from the start");
                self.store.restart_snapshot()?;
                continue;
            }
            let more = answer.has_more && answer.page.is_none();
            self.apply(answer, observer).await?;
            if !more {
                return Ok(());
            }
        }
    }

    /// Fetches the next page of the snapshot being synced, if one waits; `false` when none
    /// did.
    pub async fn next_page(&self, observer: &dyn SyncObserver) -> Result<bool, SyncError> {
        let _one = self.syncing.lock().await;
        let Some(page) = self.store.snapshot_page()? else {
            return Ok(false);
        };
        let cursor = self.store.cursor()?;
        let answer = match self.hub.sync_page(cursor, Some(&page)).await {
            // A page this hub does not take (it was upgraded, or its data replaced): the
            // snapshot starts again at once; what is here stays until its last page says what
            // goes.
            Err(ClientError::Refused(e)) if e.status == 400 => {
                tracing::warn!(code = %e.code, "the hub refused the snapshot's page; syncing again from the start");
                self.store.restart_snapshot()?;
                observer.changed(&StoreChange {
                    session: true,
                    ..StoreChange::default()
                });
                self.sync_locked(observer).await?;
                return Ok(true);
            }
            other => self.checked(other, observer)?,
        };
        // A hub that answers a page as no page (it knows none): nothing more to ask for.
        let unpaged = answer.progress.is_none();
        self.apply(answer, observer).await?;
        if unpaged {
            tracing::warn!("the hub answered a page without one; the snapshot ends here");
            self.store.end_snapshot()?;
        }
        Ok(true)
    }

    /// [`sync_now`](Self::sync_now), then every page of a snapshot it started.
    pub async fn sync_fully(&self, observer: &dyn SyncObserver) -> Result<(), SyncError> {
        self.sync_now(observer).await?;
        while self.next_page(observer).await? {
            self.sync_now(observer).await?;
        }
        Ok(())
    }

    /// Applies an answer off the async threads and tells the observer what it changed.
    async fn apply(
        &self,
        answer: switchboard_wire::SyncResponse,
        observer: &dyn SyncObserver,
    ) -> Result<(), SyncError> {
        let store = self.store.clone();
        let what = tokio::task::spawn_blocking(move || store.apply(&answer))
            .await
            .map_err(|e| SyncError::Protocol(e.to_string()))??;
        if !what.is_empty() {
            observer.changed(&what);
        }
        Ok(())
    }

    /// Hands the outbox to the hub, oldest first. Stops at the first message the hub cannot
    /// take now (unreachable, 5xx): it stays and goes on the next flush. A refusal (4xx)
    /// keeps the message with the reason and its code. A refused token (401) stops it and
    /// holds back the rest. Returns what the hub took: (key, chat).
    pub async fn flush_outbox(
        &self,
        observer: &dyn SyncObserver,
    ) -> Result<Vec<(String, String)>, SyncError> {
        let _one = self.flushing.lock().await;
        let mut taken = Vec::new();
        let result = async {
            // Chats whose earlier message is still waiting: theirs wait too (order per chat).
            let mut waiting = std::collections::HashSet::new();
            for item in self.store.outbox()? {
                if item.chat.as_ref().is_some_and(|c| waiting.contains(c)) {
                    continue;
                }
                let sent = match &item.file {
                    Some(file) => self.upload(&item, file, observer).await,
                    None => self.hub.send_message(&item.body()).await,
                };
                let accepted = match sent {
                    Ok(a) => a,
                    Err(e) if e.is_unauthorized() => return Err(self.access_ended(observer)),
                    // A file that broke off on the way: tried again a few times, then held
                    // (Retry, Discard); meanwhile its chat waits and other chats go on.
                    Err(e) if e.is_transient() && item.file.is_some() && !stuck(&e) => {
                        let attempts = self.store.upload_failed(&item.key)?;
                        tracing::info!(attempts, error = %e, "a file did not reach the hub");
                        if attempts >= FILE_ATTEMPTS {
                            self.store.outbox_refused(
                                &item.key,
                                "upload_failed",
                                &format!("the file did not reach the hub after {attempts} attempts: {e}"),
                                None,
                            )?;
                            observer.changed(&StoreChange::chat(item.chat.as_deref().unwrap_or_default()));
                        }
                        waiting.extend(item.chat.clone());
                        continue;
                    }
                    // Out of reach or failing: it goes on the next flush.
                    Err(e) if e.is_transient() => return Err(e.into()),
                    Err(ClientError::Refused(e)) => {
                        tracing::warn!(status = e.status, code = %e.code, message = %e.message, "the hub refused a message");
                        self.store.outbox_refused(
                            &item.key,
                            &e.code,
                            &e.message,
                            e.owner.as_deref(),
                        )?;
                        observer.changed(&match &item.chat {
                            Some(chat) => StoreChange::chat(chat),
                            // Written to a number: its chat is not known here yet.
                            None => StoreChange::everything(),
                        });
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                let view = MessageView {
                    id: accepted.message_id.clone(),
                    chat: accepted.chat.clone(),
                    direction: switchboard_core::Direction::Out,
                    text: item.text.clone(),
                    content_uri: None,
                    at: item.created_at.clone(),
                    author_id: None,
                    status: accepted.status,
                    error: None,
                    mirror: Default::default(),
                    kind: item.file.as_ref().map_or(switchboard_core::MessageKind::Text, |f| {
                        switchboard_core::sendable_kind(&f.mime)
                            .unwrap_or(switchboard_core::MessageKind::Document)
                    }),
                    media: item.file.as_ref().map(|f| switchboard_wire::MediaView {
                        state: switchboard_core::MediaState::Stored,
                        name: Some(f.name.clone()),
                        mime: Some(f.mime.clone()),
                        size: Some(f.size),
                        error: None,
                        duration_ms: None,
                        contact: None,
                    }),
                    place: None,
                };
                self.store.outbox_taken(&item.key, &view)?;
                if let Some(file) = &item.file {
                    // The hub has it: this desktop's copy becomes the cached file of the message.
                    crate::media::adopt_sent(&self.store, &item.key, &view.id, &file.mime);
                }
                observer.changed(&StoreChange::chat(&accepted.chat));
                taken.push((item.key.clone(), accepted.chat));
            }
            Ok(())
        }
        .await;
        result.map(|()| taken)
    }

    /// Hands the hub one file of the outbox, streamed from disk, telling its progress.
    async fn upload(
        &self,
        item: &crate::local::OutboxItem,
        file: &crate::local::OutboxFile,
        observer: &dyn SyncObserver,
    ) -> Result<switchboard_wire::SendAccepted, ClientError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        let missing = |why: String| {
            ClientError::Refused(switchboard_client::HubError {
                status: 0,
                code: "file_missing".into(),
                message: why,
                owner: None,
            })
        };
        let (Some(chat), Some(path)) = (&item.chat, self.store.outbox_file_path(&item.key)) else {
            return Err(missing("a file goes only to an existing chat".into()));
        };
        let bytes = tokio::fs::File::open(&path)
            .await
            .map_err(|e| missing(format!("the file is no longer on this computer ({e})")))?;
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let stream =
            tokio_util::io::ReaderStream::with_capacity(bytes, 64 * 1024).inspect(move |chunk| {
                if let Ok(c) = chunk {
                    counter.fetch_add(c.len() as u64, Ordering::Relaxed);
                }
            });
        let send = self.hub.send_file(
            chat,
            &item.key,
            &file.name,
            &file.mime,
            file.size,
            reqwest::Body::wrap_stream(stream),
        );
        tokio::pin!(send);
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        let answer = loop {
            tokio::select! {
                answer = &mut send => break answer,
                _ = tick.tick() => observer.uploading(&item.key, sent.load(Ordering::Relaxed), file.size),
            }
        };
        observer.uploading(&item.key, sent.load(Ordering::Relaxed), file.size);
        answer
    }

    /// One connection of the events stream, until it ends or fails.
    async fn listen(&self, observer: &dyn SyncObserver) -> Result<(), SyncError> {
        let resp = self.checked(self.hub.events().await, observer)?;
        // Keep-alives are comments, which yield no event: silence is judged on bytes.
        let heard = Arc::new(std::sync::Mutex::new(tokio::time::Instant::now()));
        let last = heard.clone();
        let mut events = resp
            .bytes_stream()
            .inspect(move |_| {
                if let Ok(mut at) = last.lock() {
                    *at = tokio::time::Instant::now();
                }
            })
            .eventsource();
        observer.online(true);
        // Back online: what was written meanwhile goes now — beside the live events, so a
        // large file on its way never holds back what arrives meanwhile. Only a refused token
        // ends the link; the outbox waits out anything else (and goes on the next flush).
        let flush = async {
            match self.flush_outbox(observer).await {
                Err(SyncError::Unauthorized) => Err(SyncError::Unauthorized),
                Err(e) => {
                    tracing::info!(error = %e, "the outbox waits for the hub");
                    std::future::pending().await
                }
                Ok(_) => std::future::pending().await,
            }
        };
        let live = async {
            loop {
                // While a snapshot comes in pages, the next is fetched whenever no event waits
                // (a new message shows between two pages, not after the last).
                let next = match events.next().now_or_never() {
                    Some(next) => next,
                    None if self.next_page(observer).await? => continue,
                    None => loop {
                        let check = self.silence / 3;
                        match tokio::time::timeout(check, events.next()).await {
                            Ok(next) => break next,
                            Err(_) => {
                                let quiet = heard.lock().map_or(self.silence, |at| at.elapsed());
                                if quiet >= self.silence {
                                    return Err(SyncError::Silent);
                                }
                            }
                        }
                    },
                };
                let Some(event) = next else {
                    return Ok(());
                };
                let event = event.map_err(|e| SyncError::Protocol(e.to_string()))?;
                match event.event.as_str() {
                    // One sync answers every change that has already arrived: a burst of 500
                    // events is read first, then synced once (notifications that came with them
                    // are raised after it, when the store has their messages).
                    "change" | "resync" => {
                        let mut notify = Vec::new();
                        let mut ended = false;
                        let mut resync = event.event == "resync";
                        loop {
                            match events.next().now_or_never() {
                                Some(Some(Ok(more))) => match more.event.as_str() {
                                    "notify" => notify.push(more),
                                    "resync" => resync = true,
                                    _ => {}
                                },
                                Some(Some(Err(e))) => {
                                    return Err(SyncError::Protocol(e.to_string()))
                                }
                                Some(None) => {
                                    ended = true;
                                    break;
                                }
                                None => break,
                            }
                        }
                        // The hub dropped events of this stream (it lagged): sync from where we
                        // are. The notifications it dropped are not raised late; the sync sets the
                        // badges and the tray right.
                        if resync {
                            tracing::info!("the hub dropped events for this desktop; syncing");
                        }
                        self.sync_now(observer).await?;
                        // And one page of a snapshot being synced: events coming faster than
                        // syncs must not hold its pages back for good.
                        self.next_page(observer).await?;
                        for n in &notify {
                            self.raise(observer, n);
                        }
                        if ended {
                            return Ok(());
                        }
                    }
                    "notify" => self.raise(observer, &event),
                    _ => {}
                }
            }
        };
        tokio::select! {
            ended = live => ended,
            refused = flush => refused,
        }
    }

    /// A `notify` event: the hub says this employee must get an OS notification now.
    fn raise(&self, observer: &dyn SyncObserver, event: &eventsource_stream::Event) {
        match serde_json::from_str::<NotifyEvent>(&event.data) {
            Ok(n) => observer.notify(n),
            Err(e) => tracing::warn!(error = %e, "unreadable notify event skipped"),
        }
    }

    /// Stays connected for as long as the task lives, or until the hub refuses the token.
    pub async fn run(self, observer: Arc<dyn SyncObserver>) {
        let mut backoff = Duration::from_millis(500);
        loop {
            match self.listen(observer.as_ref()).await {
                Ok(()) => backoff = Duration::from_millis(500),
                Err(SyncError::Unauthorized) => {
                    // Retrying cannot help: only a new sign-in can.
                    tracing::warn!("the hub refused this desktop's token; signed out");
                    observer.online(false);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "live link to the hub lost"),
            }
            observer.online(false);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

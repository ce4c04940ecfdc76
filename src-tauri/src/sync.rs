//! The sync client: one live `events` stream to the hub; each `change` pulls `sync` into
//! the local store, each `notify` raises a native notification. Reconnects with back-off.

use crate::local::LocalStore;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use switchboard_hub::json::{NotifyEvent, SyncResponse};

/// A hub that sends no byte for this long (keep-alives come every 15 s) is taken as gone.
const SILENCE: Duration = Duration::from_secs(45);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the sync loop tells the app about.
pub trait SyncObserver: Send + Sync + 'static {
    /// The local store changed.
    fn changed(&self);
    /// The live link went up or down.
    fn online(&self, online: bool);
    /// The hub says: notify this employee now.
    fn notify(&self, event: NotifyEvent);
}

#[derive(Clone)]
pub struct SyncClient {
    pub http: reqwest::Client,
    pub hub_url: String,
    pub token: String,
    pub store: Arc<LocalStore>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the hub cannot be reached: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the hub refused our token; sign in again")]
    Unauthorized,
    #[error("the hub sent something unreadable: {0}")]
    Protocol(String),
    #[error("the hub went silent")]
    Silent,
    #[error(transparent)]
    Local(#[from] crate::local::LocalError),
}

impl SyncClient {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub_url.trim_end_matches('/'))
    }

    /// A request to the hub as this employee.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    /// Pulls every change after the stored cursor into the local store.
    pub async fn sync_now(&self, observer: &dyn SyncObserver) -> Result<(), SyncError> {
        loop {
            let cursor = self.store.cursor()?;
            let resp = self
                .request(reqwest::Method::GET, "/api/v1/sync")
                .query(&[("cursor", cursor)])
                .send()
                .await?;
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
                return Err(SyncError::Unauthorized);
            }
            let answer: SyncResponse = resp.error_for_status()?.json().await?;
            let store = self.store.clone();
            let more = answer.has_more;
            let moved = !answer.changes.is_empty() || answer.cursor != cursor;
            tokio::task::spawn_blocking(move || store.apply(&answer))
                .await
                .map_err(|e| SyncError::Protocol(e.to_string()))??;
            if moved {
                observer.changed();
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// One connection of the events stream, until it ends or fails.
    async fn listen(&self, observer: &dyn SyncObserver) -> Result<(), SyncError> {
        let resp = self
            .request(reqwest::Method::GET, "/api/v1/events")
            .send()
            .await?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SyncError::Unauthorized);
        }
        let mut events = resp.error_for_status()?.bytes_stream().eventsource();
        observer.online(true);
        loop {
            let next = tokio::time::timeout(SILENCE, events.next())
                .await
                .map_err(|_| SyncError::Silent)?;
            let Some(event) = next else {
                return Ok(());
            };
            let event = event.map_err(|e| SyncError::Protocol(e.to_string()))?;
            match event.event.as_str() {
                "change" => self.sync_now(observer).await?,
                "notify" => match serde_json::from_str::<NotifyEvent>(&event.data) {
                    Ok(n) => observer.notify(n),
                    Err(e) => tracing::warn!(error = %e, "unreadable notify event skipped"),
                },
                _ => {}
            }
        }
    }

    /// Stays connected for as long as the task lives.
    pub async fn run(self, observer: Arc<dyn SyncObserver>) {
        let mut backoff = Duration::from_millis(500);
        loop {
            match self.listen(observer.as_ref()).await {
                Ok(()) => backoff = Duration::from_millis(500),
                Err(e) => tracing::warn!(error = %e, "live link to the hub lost"),
            }
            observer.online(false);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

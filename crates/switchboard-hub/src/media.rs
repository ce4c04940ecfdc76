//! Clients' files: fetched from the provider's links as soon as a message names one (links may
//! not last), checked (size, type read from the bytes), kept in the data directory's `media/`
//! (owner-only), and served by `GET /api/v1/messages/{id}/media` to whoever may see the chat.
//! Desktops never fetch the provider's links themselves.

use crate::clock::now_ms;
use crate::store::media_queue::{self, Fetched, MediaJob};
use crate::Hub;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchboard_core::MEDIA_MAX_BYTES;
use tokio::io::AsyncWriteExt;

/// Files fetched at once.
pub const CONCURRENCY: usize = 4;

/// Runs the fetcher until the hub closes: wakes on new messages and when a retry falls due.
pub fn spawn(hub: Hub, dir: PathBuf) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    std::fs::create_dir_all(&dir)?;
    switchboard_db::private(&dir, 0o700)?;
    hub.set_media_dir(dir.clone());
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(media_queue::ATTEMPT - Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()?;
    let bell = hub.media_wake();
    Ok(crate::worker::spawn(
        hub,
        Some(bell),
        Fetcher {
            http,
            dir,
            in_flight: tokio::task::JoinSet::new(),
        },
    ))
}

struct Fetcher {
    http: reqwest::Client,
    dir: PathBuf,
    in_flight: tokio::task::JoinSet<()>,
}

impl crate::worker::Worker for Fetcher {
    async fn round(&mut self, hub: &Hub, _: crate::worker::Woke) -> Duration {
        while self.in_flight.try_join_next().is_some() {}
        let room = CONCURRENCY.saturating_sub(self.in_flight.len());
        if room > 0 {
            let jobs = hub
                .store_write(move |c| Ok(media_queue::claim(c, now_ms(), room)?))
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "media queue read failed");
                    Vec::new()
                });
            for job in jobs {
                let (hub, http, dir) = (hub.clone(), self.http.clone(), self.dir.clone());
                self.in_flight.spawn(async move {
                    let outcome = fetch(&http, &job, &dir).await;
                    if let Fetched::Retry(reason) | Fetched::Refused(reason) = &outcome {
                        tracing::info!(message = %job.message_id, attempt = job.attempts + 1, %reason, "a client's file was not fetched");
                    }
                    let done = job.clone();
                    if let Err(e) = hub
                        .store_write(move |c| {
                            Ok(media_queue::finish(c, &done, &outcome, now_ms())?)
                        })
                        .await
                    {
                        tracing::warn!(error = %e, "a fetched file's outcome was not stored; fetched again after the lease");
                    }
                });
            }
        }
        let next = hub
            .store_read(|c| Ok(media_queue::next_due(c)?))
            .await
            .ok()
            .flatten();
        crate::worker::until_due(next, now_ms())
    }

    async fn stopped(&mut self) {
        // A fetch cut off is fetched again after its lease.
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
    }
}

/// The file kept for message `id`.
pub fn path(dir: &Path, id: &str) -> Option<PathBuf> {
    // Ids are the hub's own (UUIDs); anything else never names a file.
    id.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
        .then(|| dir.join(id))
        .filter(|_| !id.is_empty())
}

/// One attempt: the bytes streamed to `<id>.part` (never more than the limit), then renamed.
async fn fetch(http: &reqwest::Client, job: &MediaJob, dir: &Path) -> Fetched {
    let Some(target) = path(dir, &job.message_id) else {
        return Fetched::Refused("not a message id".into());
    };
    match reqwest::Url::parse(&job.uri) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => {}
        _ => return Fetched::Refused("the provider's link is not an http(s) URL".into()),
    }
    let resp = match http.get(&job.uri).send().await {
        Ok(r) => r,
        Err(e) => return Fetched::Retry(format!("cannot fetch: {e}")),
    };
    let status = resp.status();
    if !status.is_success() {
        let reason = format!("the provider answered {status}");
        return if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Fetched::Retry(reason)
        } else {
            Fetched::Refused(reason)
        };
    }
    if let Some(len) = resp.content_length().filter(|n| *n > MEDIA_MAX_BYTES) {
        return Fetched::TooBig { size: Some(len) };
    }
    let served = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty());
    let part = target.with_extension("part");
    let outcome = stream_to(resp, &part).await;
    match outcome {
        Ok(Some((size, head))) => {
            let mime = infer::get(&head)
                .map(|t| t.mime_type().to_owned())
                .or(served)
                .unwrap_or_else(|| "application/octet-stream".into());
            if let Err(e) = tokio::fs::rename(&part, &target).await {
                return Fetched::Retry(format!("cannot keep the file: {e}"));
            }
            Fetched::Stored {
                name: None,
                mime,
                size,
            }
        }
        Ok(None) => {
            let _ = tokio::fs::remove_file(&part).await;
            Fetched::TooBig { size: None }
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            Fetched::Retry(e)
        }
    }
}

/// Streams a body into `part` (0600); its size and first bytes, or `None` past the limit.
async fn stream_to(resp: reqwest::Response, part: &Path) -> Result<Option<(u64, Vec<u8>)>, String> {
    let mut opts = tokio::fs::OpenOptions::new();
    opts.create(true).write(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut file = opts
        .open(part)
        .await
        .map_err(|e| format!("cannot write the file: {e}"))?;
    let (mut size, mut head) = (0u64, Vec::new());
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("the download broke off: {e}"))?;
        size += chunk.len() as u64;
        if size > MEDIA_MAX_BYTES {
            return Ok(None);
        }
        if head.len() < 512 {
            head.extend_from_slice(&chunk[..chunk.len().min(512 - head.len())]);
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| format!("cannot write the file: {e}"))?;
    }
    file.sync_all()
        .await
        .map_err(|e| format!("cannot write the file: {e}"))?;
    Ok(Some((size, head)))
}

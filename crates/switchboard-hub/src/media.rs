//! Clients' files: fetched from the provider's links as soon as a message names one (links may
//! not last), checked (size, type read from the bytes), kept in the data directory's `media/`
//! (owner-only), and served by `GET /api/v1/messages/{id}/media` to whoever may see the chat.
//! Desktops never fetch the provider's links themselves.
//!
//! A link is not trusted to point where the provider keeps files: it must be http(s), and its
//! host (each redirect's too, at most 3) a public address — never this machine, a private
//! network or a cloud's metadata service — unless it is the provider's own API host (the
//! demo's and the tests' fakes run on this machine).

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
/// `trusted_host`: the provider's API host, whose links may name a private address.
pub fn spawn(
    hub: Hub,
    dir: PathBuf,
    trusted_host: Option<String>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    std::fs::create_dir_all(&dir)?;
    switchboard_db::private(&dir, 0o700)?;
    // What a fetch cut off by a crash left behind.
    for entry in std::fs::read_dir(&dir)?.filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|e| e == "part") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    hub.set_media_dir(dir.clone());
    let for_jobs = trusted_host.clone();
    let trusted = std::sync::Arc::new(trusted_host);
    let hops = trusted.clone();
    let http = reqwest::Client::builder()
        // Straight to the file's host, never through HTTP(S)_PROXY: through a proxy the name
        // would be resolved there, past the private-address guard (`PublicOnly`).
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(media_queue::ATTEMPT - Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 3 {
                attempt.error("more than 3 redirects")
            } else if allowed(attempt.url(), hops.as_deref()) {
                attempt.follow()
            } else {
                attempt.error("a redirect to a private address or another scheme")
            }
        }))
        .dns_resolver(std::sync::Arc::new(PublicOnly(trusted)))
        .build()?;
    let bell = hub.media_wake();
    Ok(crate::worker::spawn(
        hub,
        Some(bell),
        Fetcher {
            http,
            dir,
            trusted: for_jobs,
            in_flight: tokio::task::JoinSet::new(),
        },
    ))
}

struct Fetcher {
    http: reqwest::Client,
    dir: PathBuf,
    trusted: Option<String>,
    in_flight: tokio::task::JoinSet<()>,
}

impl crate::worker::Worker for Fetcher {
    async fn round(&mut self, hub: &Hub, _: crate::worker::Woke) -> Duration {
        while self.in_flight.try_join_next().is_some() {}
        let room = CONCURRENCY.saturating_sub(self.in_flight.len());
        // Every commit rings this worker: it looks on a read-only connection first, and takes
        // the writer only when a file is due (not once more per webhook).
        let due = hub
            .store_read(|c| Ok(media_queue::next_due(c)?))
            .await
            .ok()
            .flatten()
            .is_some_and(|at| at <= now_ms());
        if room > 0 && due {
            let jobs = hub
                .store_write(move |c| Ok(media_queue::claim(c, now_ms(), room)?))
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "media queue read failed");
                    Vec::new()
                });
            for job in jobs {
                let (hub, http, dir) = (hub.clone(), self.http.clone(), self.dir.clone());
                let trusted = self.trusted.clone();
                self.in_flight.spawn(async move {
                    let outcome = fetch(&http, &job, &dir, trusted.as_deref()).await;
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
        if self.in_flight.len() >= CONCURRENCY {
            // Full: the next round when one of them may have finished.
            return Duration::from_millis(250);
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

/// Whether a link (or a redirect) may be fetched: http(s), to the trusted host or an address
/// that is not this machine's or a private network's. A host name is checked once resolved
/// ([`PublicOnly`]).
pub fn allowed(url: &reqwest::Url, trusted: Option<&str>) -> bool {
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => !d.is_empty(),
        Some(url::Host::Ipv4(ip)) => {
            trusted == Some(ip.to_string().as_str()) || public(std::net::IpAddr::V4(ip))
        }
        Some(url::Host::Ipv6(ip)) => {
            trusted.is_some_and(|t| t.trim_matches(['[', ']']) == ip.to_string())
                || public(std::net::IpAddr::V6(ip))
        }
        None => false,
    }
}

/// An address on the public internet: not loopback, private, link-local (cloud metadata),
/// shared (CGNAT), unspecified, broadcast, documentation or multicast.
pub fn public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Resolves a link's host name to its public addresses only (the trusted host to all): a name
/// that points at this machine or a private network is not fetched.
struct PublicOnly(std::sync::Arc<Option<String>>);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let trusted = self.0.as_deref() == Some(name.as_str());
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept: Vec<std::net::SocketAddr> =
                all.filter(|a| trusted || public(a.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{host} {PRIVATE}").into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

const PRIVATE: &str = "is not a public address";

/// Whether a fetch failed because the link's name resolved to private addresses only.
fn names_private(e: &reqwest::Error) -> bool {
    chain(e).contains(PRIVATE)
}

/// An error and its causes, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
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
async fn fetch(
    http: &reqwest::Client,
    job: &MediaJob,
    dir: &Path,
    trusted: Option<&str>,
) -> Fetched {
    let Some(target) = path(dir, &job.message_id) else {
        return Fetched::Refused("not a message id".into());
    };
    match reqwest::Url::parse(&job.uri) {
        Ok(u) if allowed(&u, trusted) => {}
        Ok(u) if matches!(u.scheme(), "https" | "http") => {
            return Fetched::Refused("the link names a private address".into())
        }
        _ => return Fetched::Refused("the provider's link is not an http(s) URL".into()),
    }
    let resp = match http.get(&job.uri).send().await {
        Ok(r) => r,
        // Refused by the link's own terms: trying again changes nothing.
        Err(e) if e.is_redirect() || names_private(&e) => {
            return Fetched::Refused(format!("cannot fetch: {}", chain(&e)))
        }
        Err(e) => return Fetched::Retry(format!("cannot fetch: {}", chain(&e))),
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
    // Its own name: two attempts at one file never write into each other.
    let part = dir.join(format!(
        "{}.{}.part",
        job.message_id,
        crate::store::new_id()
    ));
    let outcome = stream_to(resp, &part).await;
    match outcome {
        Ok(Some((size, head))) => {
            let mime = if switchboard_core::is_vcard(&head) {
                "text/vcard".to_owned()
            } else {
                infer::get(&head)
                    .map(|t| t.mime_type().to_owned())
                    .or(served)
                    .unwrap_or_else(|| "application/octet-stream".into())
            };
            if let Err(e) = tokio::fs::rename(&part, &target).await {
                return Fetched::Retry(format!("cannot keep the file: {e}"));
            }
            let (kept, kind) = (target.clone(), mime.clone());
            // Bounded: a file that takes longer to read is kept and served without them.
            let (duration_ms, contact) = tokio::time::timeout(
                DETAILS_TIME,
                tokio::task::spawn_blocking(move || details(&kept, &kind)),
            )
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
            Fetched::Stored {
                name: None,
                mime,
                size,
                duration_ms,
                contact,
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

/// How long reading a kept file's details may take before it goes without them.
const DETAILS_TIME: Duration = Duration::from_secs(10);

/// Longest a voice note or video is believed to play; a header claiming more is wrong.
const LONGEST_PLAY: Duration = Duration::from_secs(24 * 3600);

/// What a kept file says beyond its type: how long audio plays (read from its header by
/// `lofty`: Ogg Opus/Vorbis, MP3, M4A/AAC, WAV, FLAC — its properties only, never its tags or
/// pictures, whose reading a crafted file can make slow), and a vCard's contact. Nothing when
/// it cannot be read: the file is still kept and served.
pub fn details(path: &Path, mime: &str) -> (Option<u64>, Option<switchboard_core::ContactCard>) {
    if mime == "text/vcard" {
        let text = std::fs::File::open(path).and_then(|f| {
            use std::io::Read;
            let mut buf = Vec::new();
            f.take(switchboard_core::cards::VCARD_MAX_BYTES as u64)
                .read_to_end(&mut buf)?;
            Ok(buf)
        });
        return match text {
            Ok(bytes) => (
                None,
                switchboard_core::read_vcard(&String::from_utf8_lossy(&bytes)),
            ),
            Err(_) => (None, None),
        };
    }
    if !(mime.starts_with("audio/") || mime == "video/mp4") {
        return (None, None);
    }
    use lofty::file::AudioFile;
    // Named by message id, without an extension: the type is guessed from the bytes.
    let read = || -> Option<std::time::Duration> {
        let options = lofty::config::ParseOptions::new()
            .read_tags(false)
            .read_cover_art(false);
        let probe = lofty::probe::Probe::open(path)
            .ok()?
            .options(options)
            .guess_file_type()
            .ok()?;
        Some(probe.read().ok()?.properties().duration())
    };
    let duration = read()
        .filter(|d| !d.is_zero() && *d <= LONGEST_PLAY)
        .map(|d| d.as_millis().min(u64::MAX as u128) as u64);
    (duration, None)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_voice_notes_length_is_read_from_its_header_in_every_common_format() {
        let dir = tempfile::tempdir().expect("dir");
        let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/provider-fake/media");
        // Named like kept files: no extension, the type comes from the bytes.
        for (file, mime, want) in [
            ("voice-note.ogg", "audio/ogg", Some(3000u64)),
            ("voice-note.wav", "audio/x-wav", Some(3000)),
            ("invoice-42.pdf", "application/pdf", None),
        ] {
            let kept = dir.path().join(file.replace('.', "-"));
            std::fs::copy(media.join(file), &kept).expect("copy");
            let (ms, card) = details(&kept, mime);
            assert_eq!(card, None);
            match want {
                // Opus's pre-skip and the last page's granule: within a frame of the truth.
                Some(w) => assert!(ms.is_some_and(|m| m.abs_diff(w) <= 40), "{file}: {ms:?}"),
                None => assert_eq!(ms, None, "{file}"),
            }
        }
        // An MP3 whose ID3 tag holds thousands of distinct entries (reading them all takes
        // time growing with their square): its tags are never read, so it is quick.
        let mut frames = Vec::new();
        for i in 0..20_000u32 {
            let body = format!("\0k{i}\0v");
            frames.extend_from_slice(b"TXXX");
            frames.extend_from_slice(&(body.len() as u32).to_be_bytes());
            frames.extend_from_slice(&[0, 0]);
            frames.extend_from_slice(body.as_bytes());
        }
        let size = frames.len() as u32;
        let syncsafe = [
            (size >> 21 & 0x7f) as u8,
            (size >> 14 & 0x7f) as u8,
            (size >> 7 & 0x7f) as u8,
            (size & 0x7f) as u8,
        ];
        let mut tagged = b"ID3\x03\x00\x00".to_vec();
        tagged.extend_from_slice(&syncsafe);
        tagged.extend_from_slice(&frames);
        let crafted = dir.path().join("crafted");
        std::fs::write(&crafted, &tagged).expect("write");
        assert_eq!(details(&crafted, "audio/mpeg"), (None, None));
        // A file that claims to be audio but is not: no length, no failure.
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"OggS but not really").expect("write");
        assert_eq!(details(&junk, "audio/ogg"), (None, None));
        let card = dir.path().join("card");
        std::fs::copy(media.join("contact.vcf"), &card).expect("copy");
        let (ms, card) = details(&card, "text/vcard");
        assert_eq!(ms, None);
        assert_eq!(card.and_then(|c| c.name).as_deref(), Some("Мария Соколова"));
    }

    #[test]
    fn only_public_addresses_and_the_providers_host_are_fetched() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            let ip: std::net::IpAddr = private.parse().expect("ip");
            assert!(!public(ip), "{private}");
        }
        for open in ["8.8.8.8", "2a00:1450:4001:80b::200e"] {
            assert!(public(open.parse().expect("ip")), "{open}");
        }
        let url = |s: &str| reqwest::Url::parse(s).expect("url");
        assert!(allowed(
            &url("https://store.wazzup24.com/f?filename=a.png"),
            None
        ));
        assert!(!allowed(
            &url("http://169.254.169.254/latest/meta-data"),
            None
        ));
        assert!(!allowed(&url("http://[::1]:8080/"), None));
        assert!(!allowed(&url("file:///etc/passwd"), None));
        assert!(!allowed(&url("ftp://8.8.8.8/x"), None));
        assert!(allowed(&url("http://127.0.0.1:9/x"), Some("127.0.0.1")));
        assert!(!allowed(&url("http://127.0.0.2:9/x"), Some("127.0.0.1")));
    }
}

/// Why a file sent to the hub was not received.
#[derive(Debug)]
pub enum Received {
    /// More bytes than the limit (counted so far).
    TooBig(u64),
    /// The body broke off.
    Broken(String),
    Io(std::io::Error),
}

/// A file received from a desktop, in a `.part` file of the media directory until
/// [`Upload::keep`] names it; removed if it is dropped before (a refused or broken upload,
/// a client gone mid-way).
#[derive(Debug)]
pub struct Upload {
    part: PathBuf,
    size: u64,
    head: Vec<u8>,
}

/// Bytes kept from a file's start to read its type from.
const HEAD: usize = 8192;

/// The longest pause in an upload's body before it is given up.
pub const UPLOAD_IDLE: Duration = Duration::from_secs(30);

impl Upload {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file's first bytes (its type is read from them).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Puts the file in place under `target` (on the same disk: a rename), durably: the
    /// directory is flushed too, so a power cut after the message commits cannot lose the name.
    pub fn keep(&self, target: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.part, target)?;
        if let Some(dir) = target.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Gone already once kept.
        let _ = std::fs::remove_file(&self.part);
    }
}

/// Streams a request body into a new `.part` file of `dir` (owner-only), at most `limit`
/// bytes, flushed to disk before it is handed back.
pub async fn receive(dir: &Path, body: axum::body::Body, limit: u64) -> Result<Upload, Received> {
    let part = dir.join(format!("{}.part", crate::store::new_id()));
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut out = opts.open(&part).await.map_err(Received::Io)?;
    let mut upload = Upload {
        part,
        size: 0,
        head: Vec::new(),
    };
    let mut stream = body.into_data_stream();
    loop {
        // A sender that stops sending is let go (the upload's own deadline is long).
        let next = tokio::time::timeout(UPLOAD_IDLE, stream.next())
            .await
            .map_err(|_| {
                Received::Broken(format!(
                    "the upload stalled for {} s",
                    UPLOAD_IDLE.as_secs()
                ))
            })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| Received::Broken(format!("the upload broke off: {e}")))?;
        upload.size += chunk.len() as u64;
        if upload.size > limit {
            return Err(Received::TooBig(upload.size));
        }
        if upload.head.len() < HEAD {
            let take = (HEAD - upload.head.len()).min(chunk.len());
            upload.head.extend_from_slice(&chunk[..take]);
        }
        out.write_all(&chunk).await.map_err(Received::Io)?;
    }
    out.sync_all().await.map_err(Received::Io)?;
    Ok(upload)
}

/// Reads and drops a request body the hub answers without keeping (a refusal, a repeat), so
/// the sender, still writing it, reads the answer instead of a broken connection. One past
/// `limit` (said or counted) is not read on: that sender gets the connection closed.
pub async fn drain(body: axum::body::Body, limit: u64, declared: Option<u64>) {
    if declared.is_some_and(|n| n > limit) {
        return;
    }
    let mut stream = body.into_data_stream();
    let mut read = 0u64;
    // A sender that pauses longer than an upload may is let go here too.
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout(UPLOAD_IDLE, stream.next()).await {
        read += chunk.len() as u64;
        if read > limit {
            return;
        }
    }
}

//! The page's `media:` scheme (`media://localhost/<message id>`): a client's file, from this
//! desktop's cache or fetched through the hub, which serves it only to whoever may see the
//! chat. The webview never loads a remote URL (its CSP allows `media:` for images, audio and
//! video only). Only a message this desktop holds is served (it holds only what its employee
//! may see). The cache (`<data dir>/media`, owner-only) keeps the newest [`CACHE_MAX_BYTES`];
//! offline, what is cached shows and the rest answers 503 (the page says so).

use crate::app::App;
use std::path::{Path, PathBuf};
use switchboard_core::{inline_media_type, MEDIA_MAX_BYTES};
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager, UriSchemeResponder};

pub const SCHEME: &str = "media";
/// How much of clients' files one desktop keeps (oldest read first out).
pub const CACHE_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Answers one request of the page, off the main thread.
pub fn handle(app: &AppHandle, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let app = app.clone();
    let path = request.uri().path().to_owned();
    tauri::async_runtime::spawn(async move {
        responder.respond(serve(&app, &path).await);
    });
}

fn answer(status: StatusCode, mime: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CACHE_CONTROL, "no-store")
        // The page (`tauri://localhost`) reads voice notes with `fetch` (see ui/src/lib/media.ts):
        // another origin to WebKit. Only this app's own webviews reach this scheme.
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(body)
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

fn refuse(status: StatusCode, why: &str) -> Response<Vec<u8>> {
    answer(status, "text/plain; charset=utf-8", why.as_bytes().to_vec())
}

/// The cache's file for message `id` (ids are the hub's UUIDs; nothing else names a file).
fn cached(dir: &Path, id: &str) -> Option<PathBuf> {
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then(|| dir.join(id))
}

async fn serve(app: &AppHandle, path: &str) -> Response<Vec<u8>> {
    let id = path.trim_start_matches('/');
    match ensure(app, id).await {
        Ok((file, mime)) => match tokio::fs::read(&file).await {
            Ok(bytes) => shown(&mime, bytes),
            Err(_) => refuse(StatusCode::NOT_FOUND, "no such file"),
        },
        Err((status, why)) => refuse(status, why),
    }
}

/// Message `id`'s file in this desktop's cache (fetched through the hub when it is not there
/// yet) and its type; or why not.
pub async fn ensure(
    app: &AppHandle,
    id: &str,
) -> Result<(PathBuf, String), (StatusCode, &'static str)> {
    let state = app.state::<App>();
    let dir = state.data_dir.join("media");
    let Some(file) = cached(&dir, id) else {
        return Err((StatusCode::NOT_FOUND, "no such file"));
    };
    // A file written here and not yet taken by the hub: this desktop's own copy.
    if let Ok(Some((path, f))) = state
        .store()
        .and_then(|s| s.outbox_file(id).map_err(Into::into))
    {
        return Ok((path, f.mime));
    }
    let held = state
        .store()
        .and_then(|s| s.has_message(id).map_err(Into::into));
    if !matches!(held, Ok(true)) {
        return Err((StatusCode::NOT_FOUND, "no such file"));
    }
    let type_file = file.with_extension("type");
    if let (true, Ok(mime)) = (file.exists(), tokio::fs::read_to_string(&type_file).await) {
        // Touched: eviction goes by last use.
        let _ = filetime_now(&file);
        return Ok((file, mime.trim().to_owned()));
    }
    let hub = state
        .hub()
        .await
        .map_err(|_| (StatusCode::SERVICE_UNAVAILABLE, "signed out"))?;
    let resp = match hub.message_media(id).await {
        Ok(r) => r,
        Err(switchboard_client::ClientError::Refused(e)) if e.status == 404 => {
            return Err((StatusCode::NOT_FOUND, "no such file"))
        }
        Err(e) => {
            tracing::info!(message = %id, error = %e, "a file could not be fetched (offline?)");
            return Err((StatusCode::SERVICE_UNAVAILABLE, "the hub cannot be reached"));
        }
    };
    if resp.content_length().is_some_and(|n| n > MEDIA_MAX_BYTES) {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "too large"));
    }
    let mime = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let bytes = match resp.bytes().await {
        Ok(b) if b.len() as u64 <= MEDIA_MAX_BYTES => b,
        Ok(_) => return Err((StatusCode::PAYLOAD_TOO_LARGE, "too large")),
        Err(e) => {
            tracing::info!(message = %id, error = %e, "a file broke off");
            return Err((StatusCode::SERVICE_UNAVAILABLE, "the download broke off"));
        }
    };
    keep(&dir, &file, &type_file, &mime, &bytes)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "a file was not cached");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the file could not be kept",
            )
        })?;
    Ok((file, mime))
}

/// The page gets media types as themselves and anything else as bytes to save.
fn shown(mime: &str, bytes: Vec<u8>) -> Response<Vec<u8>> {
    let mime = if inline_media_type(mime) {
        mime
    } else {
        "application/octet-stream"
    };
    answer(StatusCode::OK, mime, bytes)
}

fn filetime_now(file: &Path) -> std::io::Result<()> {
    std::fs::File::options()
        .append(true)
        .open(file)?
        .set_modified(std::time::SystemTime::now())
}

/// Writes the file (0600) and its type, then evicts the least recently used past the bound.
async fn keep(
    dir: &Path,
    file: &Path,
    type_file: &Path,
    mime: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    crate::local::private_dir(dir).map_err(std::io::Error::other)?;
    for (path, data) in [(file, bytes), (type_file, mime.as_bytes())] {
        // Its own name: two requests for one file never write into each other.
        let part = path.with_extension(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let mut opts = tokio::fs::OpenOptions::new();
        opts.create(true).write(true).truncate(true);
        #[cfg(unix)]
        opts.mode(0o600);
        let mut f = opts.open(&part).await?;
        tokio::io::AsyncWriteExt::write_all(&mut f, data).await?;
        tokio::fs::rename(&part, path).await?;
    }
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || evict(&dir, CACHE_MAX_BYTES))
        .await
        .map_err(std::io::Error::other)?
}

/// A file this desktop sent, once the hub took it as message `id`: its copy in the outbox
/// becomes the cached file of the message (shown at once, never downloaded back).
pub fn adopt_sent(store: &crate::local::LocalStore, key: &str, id: &str, mime: &str) {
    let dir = store.media_cache_dir();
    let (Some(from), Some(to)) = (store.outbox_file_path(key), cached(&dir, id)) else {
        return;
    };
    let moved = crate::local::private_dir(&dir)
        .and_then(|()| std::fs::rename(&from, &to))
        .and_then(|()| write_private(&to.with_extension("type"), mime.as_bytes()));
    if let Err(e) = moved {
        tracing::info!(error = %e, "a sent file stays to be fetched from the hub");
        let _ = std::fs::remove_file(&from);
        let _ = std::fs::remove_file(&to);
    }
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).write(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    std::io::Write::write_all(&mut opts.open(path)?, data)
}

/// Drops every kept file (signing out).
pub fn forget(data_dir: &Path) {
    let dir = data_dir.join("media");
    if dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(error = %e, "clients' files were not all removed");
        }
    }
}

/// A copy of message `id`'s file for the system's app to open: under its shown name (cleaned)
/// with the extension of its type as read from its bytes, in `<data dir>/media/open/<id>/`
/// (owner-only). Only documents, pictures, sound and video are opened
/// (`core::openable_type`): a page, a script or a program is not, whatever its name says.
pub async fn copy_to_open(app: &AppHandle, id: &str) -> Result<PathBuf, String> {
    let (file, mime) = ensure(app, id).await.map_err(|(_, why)| why.to_owned())?;
    // What the hub says of it: its type as read from its bytes (the download's is what the hub
    // served it as) and its shown name.
    let kept = app
        .state::<App>()
        .store()
        .ok()
        .and_then(|s| s.media_of(id).ok().flatten());
    let shown = kept.as_ref().and_then(|m| m.name.clone());
    let mime = kept.and_then(|m| m.mime).unwrap_or(mime);
    let Some(ext) = switchboard_core::openable_type(&mime) else {
        return Err(format!(
            "a file of type {mime} is not opened from Switchboard"
        ));
    };
    let name = open_name(shown.as_deref(), ext);
    let dir = file
        .parent()
        .map(|d| d.join("open").join(id))
        .ok_or("no cache folder")?;
    // Copies opened a day ago or more are not needed any more.
    if let Some(open) = dir.parent() {
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(24 * 3600);
        for entry in std::fs::read_dir(open)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            if entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < old)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    crate::local::private_dir(&dir).map_err(|e| e.to_string())?;
    let target = dir.join(&name);
    tokio::fs::copy(&file, &target)
        .await
        .map_err(|e| format!("cannot copy the file: {e}"))?;
    Ok(target)
}

/// The name a file is opened under: its shown name, cleaned, ending in the extension of its
/// type (added when the name says otherwise: `invoice.pdf` that is a picture opens as one).
fn open_name(shown: Option<&str>, ext: &str) -> String {
    let name = shown
        .and_then(switchboard_core::clean_file_name)
        .unwrap_or_else(|| "file".to_owned());
    match Path::new(&name).extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case(ext) => name,
        _ => format!("{name}.{ext}"),
    }
}

/// Removes what a download cut off (a crash, the app closed) left in the cache: `.part` files
/// untouched for 10 minutes (a second copy of the app on the same profile may be writing one).
pub fn sweep_parts(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let stale = |e: &std::fs::DirEntry| {
        e.metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(600))
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "part") && stale(e))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Removes the least recently used files until the cache holds at most `max` bytes.
pub fn evict(dir: &Path, max: u64) -> std::io::Result<()> {
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_none())
        .filter_map(|e| {
            let m = e.metadata().ok().filter(std::fs::Metadata::is_file)?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= max {
            break;
        }
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(path.with_extension("type"));
        total = total.saturating_sub(len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_downloads_are_swept_and_kept_files_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for name in [
            "m1",
            "m1.type",
            "m2.0a1b.part",
            "m3.ff00.part",
            "m4.beef.part",
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").expect("write");
            if name != "m4.beef.part" {
                std::fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(old))
                    .expect("age");
            }
        }
        // The fresh one may be another copy's download under way: left.
        assert_eq!(sweep_parts(dir.path()), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["m1", "m1.type", "m4.beef.part"]);
        assert_eq!(sweep_parts(&dir.path().join("none")), 0);
    }

    #[test]
    fn the_cache_keeps_the_newest_files_within_its_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = std::time::SystemTime::now();
        for (i, name) in ["old", "mid", "new"].iter().enumerate() {
            let f = dir.path().join(name);
            std::fs::write(&f, vec![0u8; 1000]).expect("write");
            std::fs::write(f.with_extension("type"), "image/png").expect("type");
            std::fs::File::options()
                .append(true)
                .open(&f)
                .and_then(|h| h.set_modified(now - std::time::Duration::from_secs(100 - i as u64)))
                .expect("time");
        }
        evict(dir.path(), 2000).expect("evict");
        assert!(!dir.path().join("old").exists() && !dir.path().join("old.type").exists());
        assert!(dir.path().join("mid").exists() && dir.path().join("new").exists());
    }

    #[test]
    fn a_file_opens_under_its_name_with_its_types_extension() {
        assert_eq!(open_name(Some("invoice-42.pdf"), "pdf"), "invoice-42.pdf");
        assert_eq!(open_name(Some("Invoice.PDF"), "pdf"), "Invoice.PDF");
        assert_eq!(
            open_name(Some("invoice\u{202e}fdp.exe"), "pdf"),
            "invoicefdp.exe.pdf"
        );
        assert_eq!(open_name(Some("../../.profile"), "txt"), "profile.txt");
        assert_eq!(open_name(None, "png"), "file.png");
    }

    #[test]
    fn only_the_hubs_ids_name_a_file() {
        let dir = Path::new("/x");
        assert!(cached(dir, "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").is_some());
        for bad in ["", "../hub.db", "a/b", "a.type", "%2e%2e"] {
            assert!(cached(dir, bad).is_none(), "{bad}");
        }
    }
}

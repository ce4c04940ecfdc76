//! Files to send: checked against the chat's channel by core's rules, kept in the outbox (the
//! bytes in `<data dir>/outbox/<key>`, owner-only) until the hub has them, then sent by the
//! sync client with their progress told. A caption is sent by the page as a reply after them.

use crate::app::{flush_soon, App};
use crate::error::{CmdError, CmdResult};
use crate::local;
use crate::ui_events::{emit, StoreChanged};
use crate::vm::{FileRefusalVm, StoreChange};
use switchboard_core::{self as core, Transport};
use tauri::{AppHandle, Manager};

/// The messenger a chat this desktop holds is on.
fn transport(app: &AppHandle, chat: &str) -> CmdResult<Transport> {
    app.state::<App>()
        .store()?
        .chat_row(chat)?
        .and_then(|row| row.transport)
        .ok_or_else(|| CmdError::new("not_found", "no such chat"))
}

/// Before the bytes are read: the size, and the type as the page knows it (a hint; the bytes
/// decide when the file is attached).
pub async fn check_file(
    app: &AppHandle,
    chat: String,
    mime: String,
    size: f64,
) -> CmdResult<Option<FileRefusalVm>> {
    let transport = transport(app, &chat)?;
    let size = if size.is_finite() && size > 0.0 {
        size as u64
    } else {
        0
    };
    let judged = match mime.trim() {
        "" => core::sendable_size(transport, size),
        m => core::sendable_file(transport, m, size).map(|_| ()),
    };
    Ok(judged.err().as_ref().map(FileRefusalVm::from))
}

/// Keeps the file to send in the outbox (refused with the reason when its channel cannot
/// take it) and starts sending it.
pub async fn attach_file(
    app: &AppHandle,
    chat: String,
    name: String,
    bytes: &[u8],
) -> CmdResult<Option<FileRefusalVm>> {
    let transport = transport(app, &chat)?;
    let head = &bytes[..bytes.len().min(8192)];
    let mime = core::file_type(head, &guess_text(&name));
    if let Err(refusal) = core::sendable_file(transport, &mime, bytes.len() as u64) {
        return Ok(Some(FileRefusalVm::from(&refusal)));
    }
    let name = core::clean_file_name(&name)
        .unwrap_or_else(|| format!("file.{}", core::openable_type(&mime).unwrap_or("bin")));
    let c = app.state::<App>().client().await?;
    let key = uuid::Uuid::new_v4().to_string();
    let path = c
        .store
        .outbox_dir()
        .map_err(|e| CmdError::new("local_store", e))
        .map(|dir| dir.join(&key))?;
    write_private(&path, bytes)
        .await
        .map_err(|e| CmdError::new("local_store", format!("the file could not be kept: {e}")))?;
    let kept = c.store.enqueue(&local::OutboxItem {
        key,
        chat: Some(chat.clone()),
        channel_id: None,
        phone: None,
        display: None,
        text: String::new(),
        created_at: super::chats::now_rfc3339(),
        error: None,
        error_code: None,
        error_owner: None,
        file: Some(local::OutboxFile {
            name,
            mime,
            size: bytes.len() as u64,
        }),
    });
    if let Err(e) = kept {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e.into());
    }
    emit(app, StoreChanged(StoreChange::chat(&chat)));
    flush_soon(app, c);
    Ok(None)
}

/// Text files have no signature: their name says whether they may be read as text (the
/// bytes must then be text, `core::file_type`).
fn guess_text(name: &str) -> String {
    let lower = name.to_lowercase();
    if lower.ends_with(".csv") {
        "text/csv".into()
    } else if lower.ends_with(".txt") {
        "text/plain".into()
    } else {
        String::new()
    }
}

/// Writes `bytes` to a new owner-only file, flushed to disk before the outbox names it.
async fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut opts = tokio::fs::OpenOptions::new();
    opts.create_new(true).write(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).await?;
    let written = async {
        f.write_all(bytes).await?;
        f.sync_all().await
    }
    .await;
    if written.is_err() {
        // A disk that filled up: nothing half-written stays behind.
        let _ = tokio::fs::remove_file(path).await;
    }
    written
}

//! The chat list and a conversation: reading from the local store, replying through the
//! outbox, marking answered, retrying or discarding what failed.

use crate::app::{flush_soon, App};
use crate::error::{CmdError, CmdResult};
use crate::local;
use crate::ui_events::{emit, StoreChanged};
use crate::vm::StoreChange;
use crate::vm::*;
use tauri::{AppHandle, Manager};

pub async fn chat_list(
    app: &AppHandle,
    filter: ChatFilter,
    offset: u32,
    limit: u32,
) -> CmdResult<ChatListVm> {
    Ok(app
        .state::<App>()
        .store()?
        .chat_list(filter, offset, limit.min(local::MAX_PAGE))?)
}

pub async fn chat_row(app: &AppHandle, id: String) -> CmdResult<Option<ChatRowVm>> {
    Ok(app.state::<App>().store()?.chat_row(&id)?)
}

/// A chat's messages from the local store; the first time a chat is opened while online, its
/// history is fetched in the background (afterwards sync keeps it fresh: the window asks on
/// every redraw, and must not ask the hub each time).
pub async fn chat_messages(app: &AppHandle, chat: String) -> CmdResult<Vec<MessageVm>> {
    let state = app.state::<App>();
    let store = state.store()?;
    let client = {
        let mut session = state.session.lock().await;
        match session.client.clone() {
            Some(c) if session.history.insert(chat.clone()) => Some(c),
            _ => None,
        }
    };
    if let Some(client) = client {
        let chat = chat.clone();
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            match client.hub.chat_messages(&chat, None, Some(100)).await {
                // Only news redraws the window.
                Ok(messages) => {
                    if client.store.put_messages(&messages).unwrap_or(false) {
                        let changed = StoreChange {
                            messages: vec![chat],
                            ..StoreChange::default()
                        };
                        emit(&app, StoreChanged(changed));
                    }
                }
                // Not this time (offline, or the chat went away): a later redraw asks again.
                Err(_) => {
                    let state = app.state::<App>();
                    state.session.lock().await.history.remove(&chat);
                }
            }
        });
    }
    Ok(store.messages(&chat)?)
}

/// How many older messages one scroll to the top fetches.
const OLDER_PAGE: u32 = 100;

pub async fn older_messages(app: &AppHandle, chat: String, before: String) -> CmdResult<u32> {
    let client = app.state::<App>().client().await?;
    let messages = client
        .hub
        .chat_messages(&chat, Some(&before), Some(OLDER_PAGE))
        .await?;
    let came = messages.len() as u32;
    if client.store.put_messages(&messages)? {
        let changed = StoreChange {
            messages: vec![chat],
            ..StoreChange::default()
        };
        emit(app, StoreChanged(changed));
    }
    Ok(came)
}

pub async fn open_media(app: &AppHandle, id: String) -> CmdResult<()> {
    let file = crate::media::copy_to_open(app, &id)
        .await
        .map_err(|why| CmdError::new("media", why))?;
    open::that_detached(&file).map_err(|e| CmdError::new("media", e))
}

pub async fn mark_answered(app: &AppHandle, chat: String) -> CmdResult<()> {
    app.state::<App>().hub().await?.mark_answered(&chat).await?;
    Ok(())
}

/// Marks the chat as unanswered (answered too early): red again for whoever owes the reply.
pub async fn mark_unanswered(app: &AppHandle, chat: String) -> CmdResult<()> {
    app.state::<App>()
        .hub()
        .await?
        .mark_unanswered(&chat)
        .await?;
    Ok(())
}

/// Whether this employee may hand the chat over (core's rule on this desktop's copy).
pub async fn may_hand_over(app: &AppHandle, chat: String) -> CmdResult<bool> {
    Ok(app.state::<App>().store()?.may_hand_over(&chat)?)
}

/// Whom the chat may be handed to (the hub knows the employees).
pub async fn hand_over_candidates(app: &AppHandle, chat: String) -> CmdResult<Vec<HandOverVm>> {
    let hub = app.state::<App>().hub().await?;
    Ok(hub
        .transfer_candidates(&chat)
        .await?
        .into_iter()
        .map(|c| HandOverVm {
            id: c.id,
            name: c.name,
            role: c.role,
        })
        .collect())
}

/// Hands the chat to employee `to`; this desktop's copy follows at once (the chat leaves a
/// seller who handed their own).
pub async fn hand_over(app: &AppHandle, chat: String, to: String) -> CmdResult<()> {
    let client = app.state::<App>().client().await?;
    let observer = crate::app::StoreOnly::of(app, &client);
    // What was just written to the client goes first: after the hand-over this employee may
    // no longer send to the chat.
    if let Err(e) = client.flush_outbox(&observer).await {
        tracing::info!(error = %e, "the outbox waits; handing over anyway");
    }
    client.hub.transfer(&chat, &to).await?;
    if let Err(e) = client.sync_now(&observer).await {
        tracing::info!(error = %e, "the hand-over syncs with the next change");
    }
    Ok(())
}

/// The chat the window shows (no notifications for it while the window is focused).
pub async fn set_open_chat(app: &AppHandle, chat: Option<String>) -> CmdResult<()> {
    app.state::<App>().notifier.set_open_chat(chat);
    Ok(())
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A reply in a chat: into the outbox at once (shown as pending), then to the hub.
pub async fn send_reply(app: &AppHandle, chat: String, text: String) -> CmdResult<()> {
    if text.trim().is_empty() {
        return Err(CmdError::new("empty", "nothing to send"));
    }
    super::replies::no_holes(&text)?;
    let c = app.state::<App>().client().await?;
    let changed = StoreChange::chat(&chat);
    c.store.enqueue(&local::OutboxItem {
        key: uuid::Uuid::new_v4().to_string(),
        chat: Some(chat.clone()),
        channel_id: None,
        phone: None,
        display: None,
        text: text.clone(),
        created_at: now_rfc3339(),
        error: None,
        error_code: None,
        error_owner: None,
        file: None,
    })?;
    // Sent: the chat's draft goes — if it is what was sent (more typed since stays).
    c.store.drop_draft_if(&chat, &text)?;
    emit(app, StoreChanged(changed));
    flush_soon(app, c);
    Ok(())
}

/// First messages still waiting on this desktop.
pub async fn pending_first(app: &AppHandle) -> CmdResult<Vec<PendingFirstVm>> {
    Ok(app.state::<App>().store()?.pending_first()?)
}

/// Retry a failed message: one the hub holds (`local` false) or one this desktop holds.
pub async fn retry_message(app: &AppHandle, id: String, local: bool) -> CmdResult<()> {
    let c = app.state::<App>().client().await?;
    if local {
        c.store.outbox_resolve(&id, true)?;
        emit(app, StoreChanged(StoreChange::everything()));
        flush_soon(app, c);
        return Ok(());
    }
    c.hub.retry_message(&id).await?;
    Ok(())
}

/// Drops a message the hub refused (it never left this desktop).
pub async fn discard_message(app: &AppHandle, id: String) -> CmdResult<()> {
    app.state::<App>().store()?.outbox_resolve(&id, false)?;
    emit(app, StoreChanged(StoreChange::everything()));
    Ok(())
}

/// How long Ctrl+K waits for the CRM's titles (past it, the chats found here are the answer).
const CRM_JUMP_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Ctrl+K by a CRM title: the hub's CRM search (only entities this employee may see), and the
/// chats this desktop holds that each found entity is linked to.
pub async fn jump_crm(app: &AppHandle, query: String) -> CmdResult<Vec<CrmJumpVm>> {
    let query: String = query.chars().take(100).collect();
    if query.trim().chars().count() < 2 {
        return Ok(Vec::new());
    }
    let state = app.state::<App>();
    let store = state.store()?;
    let hub = state.hub().await?;
    let found = tokio::time::timeout(CRM_JUMP_WAIT, hub.crm_search(&query))
        .await
        .map_err(|_| CmdError::new("hub_unreachable", "the CRM did not answer in time"))??;
    let mut out: Vec<CrmJumpVm> = Vec::new();
    for e in found {
        for chat in store.chats_of_entity(e.kind, &e.id)? {
            if out.len() >= 20 || out.iter().any(|j| j.chat.id == chat) {
                continue;
            }
            if let Some(row) = store.chat_row(&chat)? {
                out.push(CrmJumpVm {
                    chat: row,
                    kind: e.kind,
                    entity: e.title.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Keeps what is being written in a chat (blank forgets it): the list shows it, and it is
/// there again after switching chats or restarting.
pub async fn set_draft(app: &AppHandle, chat: String, text: String) -> CmdResult<()> {
    // At most a long letter: a draft is what a person types.
    let text: String = text.chars().take(20_000).collect();
    let store = app.state::<App>().store()?;
    if store.set_draft(&chat, &text, &now_rfc3339())? {
        // The list's preview changed; the open conversation (which holds the text) did not.
        emit(
            app,
            StoreChanged(StoreChange {
                list: true,
                ..StoreChange::default()
            }),
        );
    }
    Ok(())
}

/// The next (or previous) chat waiting for my answer after `current`, in the list's order.
pub async fn next_waiting(
    app: &AppHandle,
    current: Option<String>,
    forward: bool,
) -> CmdResult<Option<String>> {
    Ok(app
        .state::<App>()
        .store()?
        .next_waiting(current.as_deref(), forward)?)
}

/// Ctrl+K: the chats whose client's name (fuzzy), number or address matches `query`, best
/// first (offline too).
pub async fn jump(app: &AppHandle, query: String) -> CmdResult<Vec<ChatRowVm>> {
    let query: String = query.chars().take(100).collect();
    let store = app.state::<App>().store()?;
    // A pass over every chat: off the async workers.
    Ok(
        tauri::async_runtime::spawn_blocking(move || store.jump(&query, 20))
            .await
            .map_err(|e| CmdError::new("jump", e.to_string()))??,
    )
}

/// Messages this desktop holds matching every word of `query`, newest first (offline too),
/// kept to `filter`.
pub async fn search_messages(
    app: &AppHandle,
    query: String,
    filter: SearchFilterVm,
) -> CmdResult<SearchVm> {
    // A search is what a person types: a line, not a document.
    let query: String = query.chars().take(200).collect();
    let within = local::Within {
        channel: filter.channel,
        mine: filter.mine,
        since: filter.period.since(chrono::Utc::now()),
    };
    let store = app.state::<App>().store()?;
    // Asked at every keystroke: off the async workers (a beginning of more than 512 words is
    // merged by FTS5 in full).
    Ok(
        tauri::async_runtime::spawn_blocking(move || store.search_in(&query, 100, &within))
            .await
            .map_err(|e| CmdError::new("search", e.to_string()))??,
    )
}

/// How long the hub's answer to a search is waited for: past it, what this desktop holds is
/// the whole answer.
const HUB_SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The hub's search over all history: the messages it found that this desktop does not hold
/// (its first sync brought each chat's recent history), newest first, marked `remote`.
pub async fn search_history(
    app: &AppHandle,
    query: String,
    filter: SearchFilterVm,
    before: Option<String>,
) -> CmdResult<Vec<SearchHitVm>> {
    let query: String = query.chars().take(200).collect();
    let state = app.state::<App>();
    let store = state.store()?;
    let hub = state.hub().await?;
    let since = filter.period.since(chrono::Utc::now());
    let ask = hub.search(
        &query,
        100,
        filter.channel.as_deref(),
        filter.mine,
        since.as_deref(),
        before.as_deref(),
    );
    let found = tokio::time::timeout(HUB_SEARCH_WAIT, ask)
        .await
        .map_err(|_| {
            CmdError::new(
                "hub_unreachable",
                "the hub did not answer the search in time",
            )
        })??;
    let mut out = Vec::new();
    for h in found.hits {
        if store.has_message(&h.message_id)? {
            continue;
        }
        // A chat this desktop does not hold (still syncing): not shown until it is.
        let Some(row) = store.chat_row(&h.chat)? else {
            continue;
        };
        out.push(SearchHitVm {
            chat: h.chat,
            title: row.title,
            message_id: h.message_id,
            at: h.at,
            parts: h
                .parts
                .into_iter()
                .map(|p| TextPartVm {
                    text: p.text,
                    hit: p.hit,
                })
                .collect(),
            remote: true,
        });
    }
    Ok(out)
}

/// The most history pages fetched to reach a message a search found, and their size (the
/// hub's largest).
const HISTORY_PAGES: usize = 20;
const HISTORY_PAGE: u32 = 500;

/// Fetches `chat`'s history back to `message` (a hit of the hub's search), page by page from
/// the oldest held, at most [`HISTORY_PAGES`] pages; whether it is held now.
pub async fn history_to(app: &AppHandle, chat: String, message: String) -> CmdResult<bool> {
    let client = app.state::<App>().client().await?;
    let mut changed = false;
    let mut held = client.store.has_message(&message)?;
    // From the oldest held, then each page from the oldest of the one before (the hub's order).
    let mut before = client.store.oldest_message(&chat)?;
    for _ in 0..HISTORY_PAGES {
        if held {
            break;
        }
        let page = client
            .hub
            .chat_messages(&chat, before.as_deref(), Some(HISTORY_PAGE))
            .await?;
        // A chat that went meanwhile (handed away, hidden) keeps no history here.
        if page.is_empty() || client.store.chat(&chat)?.is_none() {
            break;
        }
        changed |= client.store.put_messages(&page)?;
        held = page.iter().any(|m| m.id == message);
        if page.len() < HISTORY_PAGE as usize {
            break;
        }
        before = page.first().map(|m| m.id.clone());
    }
    if changed {
        emit(
            app,
            StoreChanged(StoreChange {
                messages: vec![chat],
                ..StoreChange::default()
            }),
        );
    }
    Ok(held)
}

/// The channels this desktop holds (offline too), for the search's channel filter.
pub async fn search_channels(app: &AppHandle) -> CmdResult<Vec<ChannelVm>> {
    let store = app.state::<App>().store()?;
    Ok(store
        .channels()?
        .iter()
        .map(crate::compose::channel_vm)
        .collect())
}

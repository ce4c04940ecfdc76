//! Quick replies: picked in the composer with `/` (offline too, from the synced copy), written
//! for the chat with what is known of it, and kept through the hub.

use crate::app::{App, StoreOnly};
use crate::error::{CmdError, CmdResult};
use crate::vm::*;
use std::time::Duration;
use switchboard_core::replies::{self, Values};
use switchboard_core::{EntityKind, Role};
use switchboard_wire::{CompanyName, NewQuickReply, QuickRepliesView, QuickReplyPatch};
use tauri::{AppHandle, Manager};

/// How long writing a reply waits for the CRM's deal and contact: past it, `{deal}` is left
/// for the employee to fill, as offline.
const CRM_WAIT: Duration = Duration::from_millis(1500);

/// Whether this run of the app has asked the hub for quick replies it never synced.
static ASKED_FOR_REPLIES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The most replies the picker shows.
const PICKED: usize = 50;

/// Lower case, "ё" as "е": how a person matches words.
fn folded(s: &str) -> String {
    s.to_lowercase().replace('ё', "е")
}

/// Those of `all` whose title or text holds every word of `query`: titles that do first, the
/// workspace's before one's own, as listed.
pub(crate) fn matching(all: QuickRepliesView, query: &str, limit: usize) -> Vec<QuickReplyVm> {
    let words: Vec<String> = query.split_whitespace().map(folded).take(8).collect();
    let mut found: Vec<(bool, QuickReplyVm)> = all
        .replies
        .into_iter()
        .filter_map(|r| {
            let (title, text) = (folded(&r.title), folded(&r.text));
            let in_title = words.iter().all(|w| title.contains(w.as_str()));
            let anywhere = in_title
                || words
                    .iter()
                    .all(|w| title.contains(w.as_str()) || text.contains(w.as_str()));
            let vm = QuickReplyVm {
                id: r.id,
                title: r.title,
                text: r.text,
                personal: r.personal,
            };
            anywhere.then_some((in_title, vm))
        })
        .collect();
    // Stable: the hub's order within each group.
    found.sort_by_key(|(in_title, _)| !in_title);
    found.into_iter().take(limit).map(|(_, r)| r).collect()
}

/// The quick replies matching `query` (all for an empty one), offline too.
pub async fn quick_replies(app: &AppHandle, query: String) -> CmdResult<QuickRepliesVm> {
    let state = app.state::<App>();
    let store = state.store()?;
    let all = match store.held_quick_replies()? {
        Some(all) => all,
        // Synced before this version had them, its cursor is past their changes: the hub is
        // asked for them once per run of the app (not on every keystroke of the picker).
        None if !ASKED_FOR_REPLIES.swap(true, std::sync::atomic::Ordering::SeqCst) => {
            match state.hub().await {
                Ok(hub) => match tokio::time::timeout(CRM_WAIT, hub.quick_replies()).await {
                    Ok(Ok(all)) => {
                        store.set_quick_replies(&all)?;
                        all
                    }
                    _ => QuickRepliesView::default(),
                },
                Err(_) => QuickRepliesView::default(),
            }
        }
        None => QuickRepliesView::default(),
    };
    let company = all.company.clone();
    let can_manage = store.me()?.is_some_and(|me| me.role == Role::Supervisor);
    let query: String = query.chars().take(100).collect();
    let limit = if query.trim().is_empty() {
        usize::MAX
    } else {
        PICKED
    };
    Ok(QuickRepliesVm {
        replies: matching(all, &query, limit),
        company,
        can_manage,
    })
}

/// Quick reply `id` written for `chat`: `{client}` from the chat's title when it is a name
/// (else its CRM contact), `{manager}` the employee, `{company}` as the supervisors named it,
/// `{deal}` the chat's deal (an open one first). What is not known stays, as a hole.
pub async fn fill_quick_reply(app: &AppHandle, chat: String, id: String) -> CmdResult<FilledVm> {
    let state = app.state::<App>();
    let store = state.store()?;
    let all = store.quick_replies()?;
    let reply = all
        .replies
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| CmdError::new("not_found", "this quick reply is gone"))?;
    let view = store.chat(&chat)?;
    let mut values = Values {
        client: view
            .as_ref()
            .and_then(|v| replies::client_name(&v.title))
            .map(str::to_owned),
        manager: store.me()?.map(|me| me.name),
        company: all.company.clone(),
        deal: None,
    };
    let wants = |v| replies::holes(&reply.text).iter().any(|h| h.variable == v);
    let needs_crm = (values.client.is_none() && wants(replies::Variable::Client))
        || wants(replies::Variable::Deal);
    if let (Some(view), true) = (&view, needs_crm) {
        if let Ok(hub) = state.hub().await {
            // The CRM as the hub knows it now; slow or out of reach, the holes stay.
            let ask = async {
                let mut deals = Vec::new();
                for r in &view.crm {
                    let wanted = match r.kind {
                        EntityKind::Deal => true,
                        EntityKind::Contact => values.client.is_none(),
                        EntityKind::Lead => false,
                    };
                    if !wanted {
                        continue;
                    }
                    let Ok(e) = hub.crm_entity(r.kind, &r.id).await else {
                        continue;
                    };
                    match e.kind {
                        EntityKind::Contact if values.client.is_none() => {
                            values.client = Some(e.title);
                        }
                        EntityKind::Deal => {
                            let n: i64 = e.id.parse().unwrap_or(0);
                            deals.push((e.closed, std::cmp::Reverse(n), e.title));
                        }
                        _ => {}
                    }
                }
                // An open deal first, the newest of them (as the responsible rule reads deals).
                deals.sort_by_key(|d| (d.0, d.1));
                values.deal = deals.into_iter().next().map(|(_, _, title)| title);
            };
            if tokio::time::timeout(CRM_WAIT, ask).await.is_err() {
                tracing::info!("the CRM did not answer in time; {{deal}} is left to fill");
            }
        }
    }
    let text = replies::fill(&reply.text, &values);
    Ok(FilledVm {
        holes: replies::holes(&text),
        text,
    })
}

/// The variables left in what is being written: Send waits until each is filled or removed.
pub async fn text_holes(_app: &AppHandle, text: String) -> CmdResult<Vec<replies::Hole>> {
    Ok(replies::holes(&text))
}

/// Refuses a message that still holds a variable (`{deal}`): it would reach the client as
/// written.
pub(crate) fn no_holes(text: &str) -> CmdResult<()> {
    match replies::holes(text).first() {
        None => Ok(()),
        Some(h) => Err(CmdError::new(
            "unfilled_variable",
            format!("fill in or remove {{{}}} before sending", h.variable.name()),
        )),
    }
}

/// After a change through the hub: this desktop's copy is brought up to date at once (the
/// live stream would, a moment later).
async fn synced(app: &AppHandle) -> CmdResult<()> {
    let client = app.state::<App>().client().await?;
    let observer = StoreOnly::of(app, &client);
    if let Err(e) = client.sync_now(&observer).await {
        tracing::info!(error = %e, "quick replies sync with the next change");
    }
    Ok(())
}

/// A new quick reply (`id` none) or a change to one: the employee's own, or the workspace's
/// (supervisors).
pub async fn save_quick_reply(
    app: &AppHandle,
    id: Option<String>,
    title: String,
    text: String,
    personal: bool,
) -> CmdResult<()> {
    let hub = app.state::<App>().hub().await?;
    match id {
        None => {
            hub.create_quick_reply(&NewQuickReply {
                title,
                text,
                personal,
            })
            .await?;
        }
        Some(id) => {
            hub.patch_quick_reply(
                &id,
                &QuickReplyPatch {
                    title: Some(title),
                    text: Some(text),
                },
            )
            .await?;
        }
    }
    synced(app).await
}

pub async fn delete_quick_reply(app: &AppHandle, id: String) -> CmdResult<()> {
    app.state::<App>()
        .hub()
        .await?
        .delete_quick_reply(&id)
        .await?;
    synced(app).await
}

/// Names the company `{company}` reads as (supervisors; blank: not named).
pub async fn set_company_name(app: &AppHandle, name: String) -> CmdResult<()> {
    let company = (!name.trim().is_empty()).then_some(name);
    app.state::<App>()
        .hub()
        .await?
        .put_company_name(&CompanyName { company })
        .await?;
    synced(app).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_wire::QuickReplyView;

    fn reply(id: &str, title: &str, text: &str, personal: bool) -> QuickReplyView {
        QuickReplyView {
            id: id.into(),
            title: title.into(),
            text: text.into(),
            personal,
            updated_at: String::new(),
        }
    }

    #[test]
    fn the_picker_finds_by_every_word_titles_first_and_е_as_ё() {
        let all = QuickRepliesView {
            company: None,
            replies: vec![
                reply(
                    "1",
                    "Приветствие",
                    "Здравствуйте, {client}! Ваш счёт готов",
                    false,
                ),
                reply("2", "Счёт", "Высылаю счёт", false),
                reply("3", "Доставка", "Доставим завтра", true),
            ],
        };
        let ids = |q: &str| -> Vec<String> {
            matching(all.clone(), q, 10)
                .into_iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(ids("счет"), ["2", "1"], "the title's match first");
        assert_eq!(ids("ДОСТ"), ["3"]);
        assert_eq!(ids("счёт готов"), ["1"]);
        assert_eq!(ids(""), ["1", "2", "3"]);
        assert!(ids("нет такого").is_empty());
        assert_eq!(matching(all.clone(), "", 2).len(), 2);
    }

    #[test]
    fn a_message_holding_a_variable_is_not_sent() {
        let e = no_holes("Ваш заказ {deal} готов").expect_err("held");
        assert_eq!(e.code, "unfilled_variable");
        assert!(e.message.contains("{deal}"), "{}", e.message);
        assert!(no_holes("Ваш заказ {№5} готов").is_ok());
        assert!(no_holes("plain").is_ok());
    }
}

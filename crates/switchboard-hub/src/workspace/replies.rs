//! Quick replies: supervisors keep the workspace's, every employee their own.

use super::{manager, Refusal, WsResult};
use crate::json::*;
use crate::store::{self, Caller, QuickReply, Tx};
use switchboard_core::replies::{self, TemplateRefusal};

/// The most quick replies the workspace keeps…
pub const WORKSPACE_MAX: u64 = 500;
/// …and each employee of their own.
pub const PERSONAL_MAX: u64 = 200;
/// The longest company name `{company}` reads as, in characters.
pub const COMPANY_MAX_CHARS: usize = 200;

impl From<TemplateRefusal> for Refusal {
    fn from(r: TemplateRefusal) -> Refusal {
        Refusal::bad_field(r.field(), r.to_string())
    }
}

/// Whose replies the caller reads: an employee's own besides the workspace's.
fn owner_of(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Employee(e) => Some(e.id.as_str()),
        Caller::Admin => None,
    }
}

/// Every quick reply the caller may use.
pub fn list(c: &Tx, caller: &Caller) -> WsResult<QuickRepliesView> {
    Ok(store::quick_replies(c, owner_of(caller))?)
}

/// A new quick reply: the caller's own, or (supervisors, the administrator) the workspace's.
pub fn create(c: &Tx, caller: &Caller, new: &NewQuickReply, now: &str) -> WsResult<QuickReplyView> {
    let owner = if new.personal {
        Some(super::employee(caller.clone())?.id)
    } else {
        manager(caller, "manage the workspace's quick replies")?;
        None
    };
    let text = replies::normalize_text(&new.text);
    replies::check_template(&new.title, &text).map_err(Refusal::from)?;
    let max = if owner.is_some() {
        PERSONAL_MAX
    } else {
        WORKSPACE_MAX
    };
    if store::count_quick_replies(c, owner.as_deref())? >= max {
        return Err(
            Refusal::Limit(format!("at most {max} quick replies: remove one first")).into(),
        );
    }
    let reply =
        store::insert_quick_reply(c, owner.as_deref(), new.title.trim(), text.trim_end(), now)?;
    Ok(reply.view)
}

/// The reply `id` if the caller may change it: their own, or the workspace's for supervisors
/// and the administrator. Another employee's own is not found, as if it did not exist.
fn editable(c: &Tx, caller: &Caller, id: &str) -> WsResult<QuickReply> {
    let reply = store::quick_reply(c, id)?.ok_or(Refusal::NotFound("quick reply"))?;
    match &reply.owner_id {
        Some(owner) if Some(owner.as_str()) == owner_of(caller) => {}
        Some(_) => return Err(Refusal::NotFound("quick reply").into()),
        None => {
            manager(caller, "manage the workspace's quick replies")?;
        }
    }
    Ok(reply)
}

pub fn patch(
    c: &Tx,
    caller: &Caller,
    id: &str,
    p: &QuickReplyPatch,
    now: &str,
) -> WsResult<QuickReplyView> {
    let mut reply = editable(c, caller, id)?;
    let v = &mut reply.view;
    if let Some(title) = &p.title {
        v.title = title.trim().to_owned();
    }
    if let Some(text) = &p.text {
        v.text = replies::normalize_text(text).trim_end().to_owned();
    }
    replies::check_template(&v.title, &v.text).map_err(Refusal::from)?;
    v.updated_at = now.to_owned();
    store::update_quick_reply(c, &reply)?;
    Ok(reply.view)
}

pub fn delete(c: &Tx, caller: &Caller, id: &str) -> WsResult<()> {
    let reply = editable(c, caller, id)?;
    Ok(store::delete_quick_reply(c, &reply)?)
}

/// Names the company `{company}` reads as (empty or `null`: not named).
pub fn set_company(c: &Tx, name: &CompanyName) -> WsResult<CompanyName> {
    let name = name
        .company
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > COMPANY_MAX_CHARS) {
        return Err(Refusal::bad_field(
            "company",
            format!("at most {COMPANY_MAX_CHARS} characters"),
        )
        .into());
    }
    if name.is_some_and(|n| {
        n.chars().any(|c| {
            c.is_control() || matches!(c, '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
    }) {
        return Err(Refusal::bad_field("company", "must be one line of text").into());
    }
    store::set_company_name(c, name)?;
    Ok(CompanyName {
        company: store::company_name(c)?,
    })
}

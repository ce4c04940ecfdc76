//! Running the workspace: employees and their sign-ins, channels, settings.

use super::{non_empty, non_empty_if, Refusal, WorkspaceError, WsResult};
use crate::json::*;
use crate::store::{self, Tx};
use switchboard_core::Settings;

/// A new employee and their first sign-in.
pub fn create_employee(c: &Tx, e: &NewEmployee, now: &str) -> WsResult<CreatedEmployee> {
    non_empty("name", &e.name)?;
    let emp = store::insert_employee(c, e)?;
    let token = store::new_token();
    store::store_token(c, &token, Some(&emp.id), now)?;
    Ok(CreatedEmployee { id: emp.id, token })
}

/// Whether a patch may narrow someone's access (a deactivation or a role change): then the
/// write also ends the live streams that no longer may run.
pub fn narrows_access(p: &EmployeePatch) -> bool {
    p.active.is_some() || p.role.is_some()
}

/// An employee changed by `by` (who may not deactivate themselves).
pub fn patch_employee(c: &Tx, by: &str, id: &str, p: &EmployeePatch) -> WsResult<EmployeeView> {
    non_empty_if("name", p.name.as_deref())?;
    if p.active == Some(false) && by == id {
        return Err(Refusal::CannotDeactivateSelf.into());
    }
    store::patch_employee(c, id, p)?.ok_or(Refusal::NotFound("employee"))?;
    store::employee_list(c)?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(WorkspaceError::Vanished("employee"))
}

/// Another sign-in for an active employee.
pub fn issue_token(c: &Tx, id: &str, now: &str) -> WsResult<String> {
    if !store::is_active(c, id)?.ok_or(Refusal::NotFound("employee"))? {
        return Err(Refusal::EmployeeInactive.into());
    }
    let token = store::new_token();
    store::store_token(c, &token, Some(id), now)?;
    Ok(token)
}

/// An employee's sign-ins, without the secrets.
pub fn tokens(c: &Tx, id: &str) -> WsResult<Vec<TokenView>> {
    store::is_active(c, id)?.ok_or(Refusal::NotFound("employee"))?;
    Ok(store::tokens_of(c, id)?)
}

pub fn revoke_token(c: &Tx, id: &str) -> WsResult<()> {
    if !store::revoke_token(c, id)? {
        return Err(Refusal::NotFound("token").into());
    }
    Ok(())
}

pub fn create_channel(c: &Tx, ch: &NewChannel) -> WsResult<ChannelView> {
    non_empty("name", &ch.name)?;
    Ok(store::channel_view(&store::insert_channel(c, ch)?))
}

pub fn patch_channel(c: &Tx, id: &str, p: &ChannelPatch) -> WsResult<ChannelView> {
    non_empty_if("name", p.name.as_deref())?;
    let ch = store::patch_channel(c, id, p)?.ok_or(Refusal::NotFound("channel"))?;
    Ok(store::channel_view(&ch))
}

pub fn put_settings(c: &Tx, p: &SettingsPatch, by: &str, now: &str) -> WsResult<Settings> {
    if let Some(Some(m)) = p.escalate_after_minutes {
        if !(1..=1440).contains(&m) {
            return Err(Refusal::bad_field(
                "escalate_after_minutes",
                "must be 1 to 1440 minutes, or null for off",
            )
            .into());
        }
    }
    Ok(store::put_settings(c, p, by, now)?)
}

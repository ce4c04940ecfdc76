//! Supervisors' screens: the workspace settings, employees and their sign-ins.

use crate::app::App;
use crate::error::{CmdError, CmdResult};
use crate::vm::*;
use switchboard_wire::EmployeePatch;
use tauri::{AppHandle, Manager};

/// Changes one workspace setting on the hub; every desktop (this one too) gets it by sync.
pub async fn update_setting(app: &AppHandle, change: SettingChange) -> CmdResult<()> {
    let hub = app.state::<App>().hub().await?;
    match hub.put_settings(&change.to_patch()).await {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(403) => Err(CmdError::new(
            "forbidden",
            "only supervisors may change settings",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The Employees screen (supervisors): everyone, and the channels a priority may be.
pub async fn employees(app: &AppHandle) -> CmdResult<EmployeesVm> {
    let state = app.state::<App>();
    let all = state.hub().await?.employees().await?;
    Ok(EmployeesVm {
        employees: all
            .into_iter()
            .map(|e| EmployeeRowVm {
                id: e.id,
                name: e.name,
                role: e.role,
                receives_new_clients: e.receives_new_clients,
                priority_channel_id: e.priority_channel_id,
                crm_user_id: e.crm_user_id,
                active: e.active,
            })
            .collect(),
        channels: super::writing::workspace_channels(&state).await?,
    })
}

pub async fn update_employee(app: &AppHandle, id: String, change: EmployeeChange) -> CmdResult<()> {
    let hub = app.state::<App>().hub().await?;
    hub.patch_employee(&id, &change.to_patch()).await?;
    Ok(())
}

/// Deactivates an employee (every desktop of theirs is signed out at once) or reactivates one
/// (they sign in anew). Supervisors; not themselves.
pub async fn set_employee_active(app: &AppHandle, id: String, active: bool) -> CmdResult<()> {
    let hub = app.state::<App>().hub().await?;
    let patch = EmployeePatch {
        active: Some(active),
        ..Default::default()
    };
    hub.patch_employee(&id, &patch).await?;
    Ok(())
}

/// An employee's sign-ins: the tokens their desktops hold (supervisors).
pub async fn employee_tokens(app: &AppHandle, id: String) -> CmdResult<Vec<TokenVm>> {
    let all = app.state::<App>().hub().await?.employee_tokens(&id).await?;
    Ok(all
        .into_iter()
        .map(|t| TokenVm {
            id: t.id,
            created_at: t.created_at,
        })
        .collect())
}

/// Revokes one sign-in: that desktop is signed out at once (supervisors).
pub async fn revoke_token(app: &AppHandle, id: String) -> CmdResult<()> {
    Ok(app.state::<App>().hub().await?.revoke_token(&id).await?)
}

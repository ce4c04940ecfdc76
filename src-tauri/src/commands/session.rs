//! Signing in and out: the demo workspace, a hub by URL and token, the app's state.

use crate::app::{demo_hub, start_sync, App, ACCESS_ENDED_META};
use crate::error::{CmdError, CmdResult};
use crate::tray;
use crate::ui_events::{emit, SessionChanged};
use crate::vm::*;
use std::sync::atomic::Ordering;
use switchboard_client::HubClient;
use tauri::{AppHandle, Manager};

pub async fn app_state(app: &AppHandle) -> CmdResult<AppState> {
    let state = app.state::<App>();
    let store = state.store()?;
    let session = state.session.lock().await;
    let Some(client) = &session.client else {
        return Ok(AppState {
            session: None,
            access_ended: store.meta(ACCESS_ENDED_META)?.is_some(),
            demo_available: cfg!(feature = "demo"),
            russian: state.russian,
        });
    };
    let me = store.me()?;
    Ok(AppState {
        access_ended: false,
        demo_available: cfg!(feature = "demo"),
        russian: state.russian,
        session: Some(SessionVm {
            hub_url: client.hub.base().to_owned(),
            demo: session.demo,
            can_edit_settings: me
                .as_ref()
                .is_some_and(|e| e.role == switchboard_core::Role::Supervisor),
            me: me.map(|e| MeVm {
                id: e.id,
                name: e.name,
                role: e.role,
            }),
            online: state.online.load(Ordering::SeqCst),
            settings: store.settings()?,
            sync_progress: store.sync_progress()?,
        }),
    })
}

/// The demo workspace's employees one may sign in as (a deactivated one cannot).
pub async fn open_demo(app: &AppHandle) -> CmdResult<Vec<DemoEmployee>> {
    let state = app.state::<App>();
    let mut session = state.session.lock().await;
    let employees = demo_hub(&state, &mut session).await?.employees().await?;
    Ok(employees
        .into_iter()
        .filter(|e| e.active)
        .map(|e| DemoEmployee {
            id: e.id,
            name: e.name,
            role: e.role,
            receives_new_clients: e.receives_new_clients,
        })
        .collect())
}

pub async fn sign_in_demo(app: &AppHandle, employee_id: String) -> CmdResult<()> {
    let state = app.state::<App>();
    let mut session = state.session.lock().await;
    let admin = demo_hub(&state, &mut session).await?;
    let issued = admin.issue_token(&employee_id).await?;
    let store = state.store()?;
    store.clear()?;
    crate::media::forget(&state.data_dir);
    state.notifier.forget();
    store.set_meta(&[("mode", "demo"), ("token", &issued.token)])?;
    session.demo = true;
    let url = admin.base().to_owned();
    start_sync(app, &state, &mut session, url, issued.token).await
}

pub async fn connect_hub(app: &AppHandle, url: String, token: String) -> CmdResult<()> {
    let state = app.state::<App>();
    let url = url.trim().trim_end_matches('/').to_owned();
    let token = token.trim().to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CmdError::new(
            "invalid_url",
            format!("{url:?} is not an http(s) URL"),
        ));
    }
    match HubClient::new(state.http.clone(), &url, &token).me().await {
        Ok(_) => {}
        Err(e) if e.status() == Some(401) => {
            return Err(CmdError::new(
                "unauthorized",
                "the hub does not know this token",
            ))
        }
        Err(e) if e.status() == Some(403) => {
            return Err(CmdError::new(
                "not_an_employee",
                "this token is not an employee's",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let store = state.store()?;
    store.clear()?;
    crate::media::forget(&state.data_dir);
    state.notifier.forget();
    store.set_meta(&[("mode", "remote"), ("hub_url", &url), ("token", &token)])?;
    let mut session = state.session.lock().await;
    session.demo = false;
    start_sync(app, &state, &mut session, url, token).await
}

pub async fn sign_out(app: &AppHandle) -> CmdResult<()> {
    let state = app.state::<App>();
    let mut session = state.session.lock().await;
    let waiting = state.store()?.outbox_len()?;
    if waiting > 0 {
        // Signing out would drop them or send them as someone else: neither.
        return Err(CmdError::new(
            "outbox_not_empty",
            format!(
                "{waiting} message(s) are not sent yet; send or discard them before signing out"
            ),
        ));
    }
    if let Some(task) = session.task.take() {
        task.abort();
    }
    // The hub forgets this desktop's token; out of reach, it is signed out here all the same.
    if let Some(client) = session.client.take() {
        if let Err(e) = client.revoke_own_token().await {
            tracing::info!(error = %e, "the hub could not be told; signed out locally");
        }
    }
    session.history.clear();
    state.online.store(false, Ordering::SeqCst);
    state.store()?.clear()?;
    // Clients' files go with the store: the next employee on this desktop starts without them.
    crate::media::forget(&state.data_dir);
    state.notifier.forget();
    tray::update(app, switchboard_core::Counters::default(), state.russian);
    emit(app, SessionChanged);
    Ok(())
}

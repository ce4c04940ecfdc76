//! The Switchboard desktop app: Tauri commands over a local store that a sync client keeps
//! in step with the hub. Thin by design: the rules live in switchboard-core (the hub
//! applies them), the webview renders the view models of [`vm`] and nothing else.

pub mod compose;
pub mod local;
pub mod notify;
pub mod sync;
pub mod tray;
pub mod vm;

use local::LocalStore;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use switchboard_wire::{EmployeeView, IssuedToken, NotifyEvent};
use sync::{SyncClient, SyncObserver};
use tauri::{AppHandle, Emitter, Manager, State};
#[cfg(test)]
use ts_rs::TS;
use vm::*;

/// An error a command answers with; `code` is stable, `message` is for people.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct CmdError {
    pub code: String,
    pub message: String,
}

impl CmdError {
    pub(crate) fn new(code: &str, message: impl std::fmt::Display) -> Self {
        CmdError {
            code: code.into(),
            message: message.to_string(),
        }
    }
}

impl From<local::LocalError> for CmdError {
    fn from(e: local::LocalError) -> Self {
        CmdError::new("local_store", e)
    }
}

impl From<reqwest::Error> for CmdError {
    fn from(e: reqwest::Error) -> Self {
        CmdError::new("hub_unreachable", e.without_url())
    }
}

type CmdResult<T> = Result<T, CmdError>;

/// The app's state, shared by every command.
pub struct App {
    store: Result<Arc<LocalStore>, String>,
    notifier: Arc<notify::Notifier<AppWindow>>,
    russian: bool,
    #[cfg_attr(
        not(feature = "demo"),
        allow(dead_code, reason = "the demo hub's folder")
    )]
    data_dir: PathBuf,
    http: reqwest::Client,
    online: Arc<AtomicBool>,
    session: tokio::sync::Mutex<Session>,
}

/// The demo workspace's hub, in-process (a build without the `demo` feature has none).
#[cfg(feature = "demo")]
type DemoHub = switchboard_hub::RunningHub;
#[cfg(not(feature = "demo"))]
type DemoHub = std::convert::Infallible;

#[derive(Default)]
struct Session {
    #[cfg_attr(
        not(feature = "demo"),
        allow(dead_code, reason = "never set without the demo")
    )]
    demo_hub: Option<DemoHub>,
    client: Option<SyncClient>,
    demo: bool,
    task: Option<tauri::async_runtime::JoinHandle<()>>,
    /// Chats whose history was fetched from the hub since signing in (sync keeps them fresh).
    history: std::collections::HashSet<String>,
}

impl App {
    fn store(&self) -> CmdResult<Arc<LocalStore>> {
        self.store
            .clone()
            .map_err(|e| CmdError::new("local_store", e))
    }
}

/// The main window, as the notification presenter sees it.
struct AppWindow(AppHandle);

impl notify::Window for AppWindow {
    fn is_focused(&self) -> bool {
        self.0
            .get_webview_window("main")
            .and_then(|w| Some(w.is_focused().ok()? && w.is_visible().ok()?))
            .unwrap_or(false)
    }

    fn open_chat(&self, chat: &str) {
        tray::show_window(&self.0);
        let _ = self.0.emit("open-chat", chat);
    }
}

struct Observer {
    app: AppHandle,
    /// The token its sync client holds: news of its end is about this session only.
    token: String,
    online: Arc<AtomicBool>,
    store: Arc<LocalStore>,
    notifier: Arc<notify::Notifier<AppWindow>>,
    russian: bool,
}

impl SyncObserver for Observer {
    fn changed(&self) {
        if let Ok(list) = self.store.chat_list(ChatFilter::All) {
            tray::update(&self.app, list.counters, self.russian);
        }
        let _ = self.app.emit("store-changed", ());
    }

    fn online(&self, online: bool) {
        if self.online.swap(online, Ordering::SeqCst) != online {
            let _ = self.app.emit("session-changed", ());
        }
    }

    fn notify(&self, event: NotifyEvent) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.notifier.show(event, now_ms);
    }

    fn signed_out(&self) {
        tauri::async_runtime::spawn(access_ended(self.app.clone(), self.token.clone()));
    }
}

/// The hub refused the session's `token` (revoked, the employee deactivated): back to the
/// welcome screen, which says so calmly. The synced copy goes (this employee may no longer see
/// it); the outbox stays, held back by the sync client. News about an older session is ignored.
async fn access_ended(app: AppHandle, token: String) {
    let state = app.state::<App>();
    let mut session = state.session.lock().await;
    if session.client.as_ref().map(|c| c.token.as_str()) != Some(token.as_str()) {
        return;
    }
    tracing::warn!("access to the workspace ended; back to sign-in");
    if let Some(task) = session.task.take() {
        task.abort();
    }
    session.client = None;
    session.history.clear();
    state.online.store(false, Ordering::SeqCst);
    if let Ok(store) = state.store() {
        let forgotten = store
            .clear()
            .and_then(|()| store.set_meta(&[(ACCESS_ENDED_META, "1")]));
        if let Err(e) = forgotten {
            tracing::error!(error = %e, "could not forget the ended session");
        }
    }
    tray::update(&app, switchboard_core::Counters::default(), state.russian);
    let _ = app.emit("store-changed", ());
    let _ = app.emit("session-changed", ());
}

/// Set in the local store's meta when the hub ended the session; cleared by the next sign-in.
const ACCESS_ENDED_META: &str = "access_ended";

async fn start_sync(
    app: &AppHandle,
    state: &App,
    session: &mut Session,
    hub_url: String,
    token: String,
) -> CmdResult<()> {
    if let Some(task) = session.task.take() {
        task.abort();
    }
    let store = state.store()?;
    let client = SyncClient {
        http: state.http.clone(),
        hub_url,
        token,
        store: store.clone(),
        flushing: Default::default(),
    };
    let observer = Arc::new(Observer {
        app: app.clone(),
        token: client.token.clone(),
        online: state.online.clone(),
        store,
        notifier: state.notifier.clone(),
        russian: state.russian,
    });
    session.client = Some(client.clone());
    session.history.clear();
    session.task = Some(tauri::async_runtime::spawn(client.run(observer)));
    let _ = app.emit("session-changed", ());
    Ok(())
}

/// Starts the in-process demo hub (once) and returns its URL and admin token.
#[cfg(feature = "demo")]
async fn demo_hub(state: &App, session: &mut Session) -> CmdResult<(String, String)> {
    if session.demo_hub.is_none() {
        let hub = switchboard_hub::start(switchboard_hub::ServeConfig::new(
            state.data_dir.join("demo-hub"),
            ([127, 0, 0, 1], 0).into(),
            true,
        ))
        .await
        .map_err(|e| CmdError::new("demo_unavailable", format!("{e:#}")))?;
        session.demo_hub = Some(hub);
    }
    let hub = session
        .demo_hub
        .as_ref()
        .ok_or_else(|| CmdError::new("demo_unavailable", "demo hub missing"))?;
    Ok((hub.url.clone(), hub.admin_token.clone()))
}

/// This build connects to hubs only.
#[cfg(not(feature = "demo"))]
async fn demo_hub(_: &App, _: &mut Session) -> CmdResult<(String, String)> {
    Err(CmdError::new(
        "demo_unavailable",
        "this build has no demo workspace: connect to a hub",
    ))
}

#[tauri::command]
async fn app_state(state: State<'_, App>) -> CmdResult<AppState> {
    let store = state.store()?;
    let session = state.session.lock().await;
    let Some(client) = &session.client else {
        return Ok(AppState {
            session: None,
            access_ended: store.meta(ACCESS_ENDED_META)?.is_some(),
            demo_available: cfg!(feature = "demo"),
        });
    };
    Ok(AppState {
        access_ended: false,
        demo_available: cfg!(feature = "demo"),
        session: Some(SessionVm {
            hub_url: client.hub_url.clone(),
            demo: session.demo,
            can_edit_settings: store
                .me()?
                .is_some_and(|e| e.role == switchboard_core::Role::Supervisor),
            me: store.me()?.map(|e| MeVm {
                id: e.id,
                name: e.name,
                role: e.role,
            }),
            online: state.online.load(Ordering::SeqCst),
            settings: store.settings()?,
        }),
    })
}

/// A call to the in-process demo hub as its administrator; returns the hub's URL and the answer.
async fn demo_admin<T: serde::de::DeserializeOwned>(
    state: &App,
    session: &mut Session,
    method: reqwest::Method,
    path: &str,
) -> CmdResult<(String, T)> {
    let (url, admin) = demo_hub(state, session).await?;
    let resp = state
        .http
        .request(method, format!("{url}{path}"))
        .bearer_auth(admin)
        .send()
        .await?;
    Ok((url, resp.error_for_status()?.json().await?))
}

#[tauri::command]
async fn open_demo(state: State<'_, App>) -> CmdResult<Vec<DemoEmployee>> {
    let mut session = state.session.lock().await;
    let (_, employees): (_, Vec<EmployeeView>) = demo_admin(
        &state,
        &mut session,
        reqwest::Method::GET,
        "/api/v1/employees",
    )
    .await?;
    // A deactivated employee cannot sign in.
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

#[tauri::command]
async fn sign_in_demo(app: AppHandle, state: State<'_, App>, employee_id: String) -> CmdResult<()> {
    let mut session = state.session.lock().await;
    let path = format!("/api/v1/employees/{employee_id}/tokens");
    let (url, issued): (_, IssuedToken) =
        demo_admin(&state, &mut session, reqwest::Method::POST, &path).await?;
    let store = state.store()?;
    store.clear()?;
    store.set_meta(&[("mode", "demo"), ("token", &issued.token)])?;
    session.demo = true;
    start_sync(&app, &state, &mut session, url, issued.token).await
}

#[tauri::command]
async fn connect_hub(
    app: AppHandle,
    state: State<'_, App>,
    url: String,
    token: String,
) -> CmdResult<()> {
    let url = url.trim().trim_end_matches('/').to_owned();
    let token = token.trim().to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CmdError::new(
            "invalid_url",
            format!("{url:?} is not an http(s) URL"),
        ));
    }
    let resp = state
        .http
        .get(format!("{url}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await?;
    match resp.status() {
        s if s.is_success() => {}
        reqwest::StatusCode::UNAUTHORIZED => {
            return Err(CmdError::new(
                "unauthorized",
                "the hub does not know this token",
            ))
        }
        reqwest::StatusCode::FORBIDDEN => {
            return Err(CmdError::new(
                "not_an_employee",
                "this token is not an employee's",
            ))
        }
        s => return Err(CmdError::new("hub_error", format!("the hub answered {s}"))),
    }
    let store = state.store()?;
    store.clear()?;
    store.set_meta(&[("mode", "remote"), ("hub_url", &url), ("token", &token)])?;
    let mut session = state.session.lock().await;
    session.demo = false;
    start_sync(&app, &state, &mut session, url, token).await
}

#[tauri::command]
async fn sign_out(app: AppHandle, state: State<'_, App>) -> CmdResult<()> {
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
    tray::update(&app, switchboard_core::Counters::default(), state.russian);
    let _ = app.emit("session-changed", ());
    Ok(())
}

#[tauri::command]
async fn chat_list(state: State<'_, App>, filter: ChatFilter) -> CmdResult<ChatListVm> {
    Ok(state.store()?.chat_list(filter)?)
}

/// A chat's messages from the local store; the first time a chat is opened while online, its
/// history is fetched in the background (afterwards sync keeps it fresh: the window asks on
/// every redraw, and must not ask the hub each time).
#[tauri::command]
async fn chat_messages(
    app: AppHandle,
    state: State<'_, App>,
    chat: String,
) -> CmdResult<Vec<MessageVm>> {
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
        tauri::async_runtime::spawn(async move {
            let path = format!("/api/v1/chats/{chat}/messages?limit=100");
            let fetched = async {
                client
                    .request(reqwest::Method::GET, &path)
                    .send()
                    .await?
                    .error_for_status()?
                    .json::<Vec<switchboard_wire::MessageView>>()
                    .await
            };
            match fetched.await {
                // Only news redraws the window.
                Ok(messages) => {
                    if client.store.put_messages(&messages).unwrap_or(false) {
                        let _ = app.emit("store-changed", ());
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

/// The chat the window shows (no notifications for it while the window is focused).
#[tauri::command]
fn set_open_chat(state: State<'_, App>, chat: Option<String>) {
    state.notifier.set_open_chat(chat);
}

/// Changes one workspace setting on the hub; every desktop (this one too) gets it by sync.
#[tauri::command]
async fn update_setting(state: State<'_, App>, change: SettingChange) -> CmdResult<()> {
    let c = client(&state).await?;
    let resp = c
        .request(reqwest::Method::PUT, "/api/v1/settings")
        .json(&change.to_patch())
        .send()
        .await?;
    match resp.status() {
        s if s.is_success() => Ok(()),
        reqwest::StatusCode::FORBIDDEN => Err(CmdError::new(
            "forbidden",
            "only supervisors may change settings",
        )),
        s => Err(CmdError::new("hub_error", format!("the hub answered {s}"))),
    }
}

async fn client(state: &App) -> CmdResult<SyncClient> {
    state
        .session
        .lock()
        .await
        .client
        .clone()
        .ok_or_else(|| CmdError::new("signed_out", "not signed in"))
}

#[tauri::command]
async fn mark_answered(state: State<'_, App>, chat: String) -> CmdResult<()> {
    let c = client(&state).await?;
    c.request(
        reqwest::Method::POST,
        &format!("/api/v1/chats/{chat}/answered"),
    )
    .send()
    .await?
    .error_for_status()?;
    Ok(())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Hands the outbox to the hub in the background (if signed in); the sync loop does it too
/// whenever the link comes back.
fn flush_soon(app: &AppHandle, client: SyncClient) {
    let observer = StoreOnly::of(app, &client);
    tauri::async_runtime::spawn(async move {
        if let Err(e) = client.flush_outbox(&observer).await {
            tracing::info!(error = %e, "outbox waits for the hub");
        }
    });
}

/// An observer for one-off flushes: tells the window the store changed, and the app when the
/// hub refused the token.
struct StoreOnly {
    app: AppHandle,
    token: String,
}

impl StoreOnly {
    fn of(app: &AppHandle, client: &SyncClient) -> StoreOnly {
        StoreOnly {
            app: app.clone(),
            token: client.token.clone(),
        }
    }
}

impl SyncObserver for StoreOnly {
    fn changed(&self) {
        let _ = self.app.emit("store-changed", ());
    }
    fn online(&self, _: bool) {}
    fn notify(&self, _: NotifyEvent) {}
    fn signed_out(&self) {
        tauri::async_runtime::spawn(access_ended(self.app.clone(), self.token.clone()));
    }
}

/// A reply in a chat: into the outbox at once (shown as pending), then to the hub.
#[tauri::command]
async fn send_reply(
    app: AppHandle,
    state: State<'_, App>,
    chat: String,
    text: String,
) -> CmdResult<()> {
    if text.trim().is_empty() {
        return Err(CmdError::new("empty", "nothing to send"));
    }
    let c = client(&state).await?;
    c.store.enqueue(&local::OutboxItem {
        key: uuid::Uuid::new_v4().to_string(),
        chat: Some(chat),
        channel_id: None,
        phone: None,
        display: None,
        text,
        created_at: now_rfc3339(),
        error: None,
        error_code: None,
        error_owner: None,
    })?;
    let _ = app.emit("store-changed", ());
    flush_soon(&app, c);
    Ok(())
}

/// Writing first on a chosen channel to a number the composer read (E.164). The message is
/// kept here until the hub takes it; answers with its chat once the hub did.
#[tauri::command]
async fn send_first(
    app: AppHandle,
    state: State<'_, App>,
    channel_id: String,
    phone: String,
    display: String,
    text: String,
) -> CmdResult<SendResultVm> {
    if text.trim().is_empty() {
        return Err(CmdError::new("empty", "nothing to send"));
    }
    let c = client(&state).await?;
    let key = uuid::Uuid::new_v4().to_string();
    c.store.enqueue(&local::OutboxItem {
        key: key.clone(),
        chat: None,
        channel_id: Some(channel_id),
        phone: Some(phone),
        display: Some(display),
        text,
        created_at: now_rfc3339(),
        error: None,
        error_code: None,
        error_owner: None,
    })?;
    let _ = app.emit("store-changed", ());
    let taken = c
        .flush_outbox(&StoreOnly::of(&app, &c))
        .await
        .unwrap_or_default();
    let chat = taken.into_iter().find(|(k, _)| *k == key).map(|(_, c)| c);
    Ok(SendResultVm { key, chat })
}

/// First messages still waiting on this desktop.
#[tauri::command]
async fn pending_first(state: State<'_, App>) -> CmdResult<Vec<PendingFirstVm>> {
    Ok(state.store()?.pending_first()?)
}

/// Retry a failed message: one the hub holds (`local` false) or one this desktop holds.
#[tauri::command]
async fn retry_message(
    app: AppHandle,
    state: State<'_, App>,
    id: String,
    local: bool,
) -> CmdResult<()> {
    let c = client(&state).await?;
    if local {
        c.store.outbox_resolve(&id, true)?;
        let _ = app.emit("store-changed", ());
        flush_soon(&app, c);
        return Ok(());
    }
    let path = format!("/api/v1/messages/{id}/retry");
    hub_send::<serde_json::Value>(&state, reqwest::Method::POST, &path, None).await?;
    Ok(())
}

/// Drops a message the hub refused (it never left this desktop).
#[tauri::command]
async fn discard_message(app: AppHandle, state: State<'_, App>, id: String) -> CmdResult<()> {
    state.store()?.outbox_resolve(&id, false)?;
    let _ = app.emit("store-changed", ());
    Ok(())
}

/// A GET to the hub as this employee; the hub's error code and message on failure.
async fn hub_get<T: serde::de::DeserializeOwned>(state: &App, path: &str) -> CmdResult<T> {
    hub_send(state, reqwest::Method::GET, path, None).await
}

async fn workspace_channels(state: &App) -> CmdResult<Vec<ChannelVm>> {
    let all: Vec<switchboard_wire::ChannelView> = hub_get(state, "/api/v1/channels").await?;
    Ok(all.iter().map(compose::channel_vm).collect())
}

/// Writing first: reads the number (typed, pasted, or a CRM phone as typed) under setting 2
/// and preselects the priority channel (setting 4) — both decided by core's rules, on the hub,
/// or here from the synced store when the hub is out of reach.
#[tauri::command]
async fn compose(state: State<'_, App>, phone: String) -> CmdResult<ComposeVm> {
    let path = format!(
        "/api/v1/compose?phone={}",
        switchboard_wire::encode_component(&phone)
    );
    let v: switchboard_wire::ComposeView = match hub_get(&state, &path).await {
        Ok(v) => v,
        Err(e) if e.code == "hub_unreachable" => {
            return compose::compose_locally(state.store()?.as_ref(), &phone)
        }
        Err(e) => return Err(e),
    };
    let channels = workspace_channels(&state).await?;
    Ok(ComposeVm {
        channel_id: v.channel_id,
        reason: v.reason,
        address: v.address,
        display: v.display,
        // The hub's order and usability, with names for people.
        channels: v
            .channels
            .iter()
            .filter_map(|c| channels.iter().find(|ch| ch.id == c.id).cloned())
            .collect(),
    })
}

/// CRM leads, contacts and deals matching a title or a phone, each phone read under setting 2.
#[tauri::command]
async fn crm_search(state: State<'_, App>, query: String) -> CmdResult<Vec<CrmCardVm>> {
    let found: Vec<switchboard_wire::CrmEntityView> = hub_get(
        &state,
        &format!(
            "/api/v1/crm?q={}",
            switchboard_wire::encode_component(&query)
        ),
    )
    .await?;
    Ok(found
        .into_iter()
        .map(|e| CrmCardVm {
            kind: e.kind,
            id: e.id,
            title: e.title,
            closed: e.closed,
            phones: e.numbers.into_iter().map(PhoneVm::from).collect(),
        })
        .collect())
}

/// The CRM entities a chat belongs to, fresh from the hub.
#[tauri::command]
async fn chat_crm(state: State<'_, App>, chat: String) -> CmdResult<Vec<CrmPanelVm>> {
    let Some(view) = state.store()?.chat(&chat)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for r in view.crm {
        let path = format!(
            "/api/v1/crm/{}/{}",
            r.kind.plural(),
            switchboard_wire::encode_component(&r.id)
        );
        let e: switchboard_wire::CrmEntityView = hub_get(&state, &path).await?;
        out.push(CrmPanelVm {
            kind: e.kind,
            id: e.id,
            title: e.title,
            closed: e.closed,
            stage: e.stage,
            responsible: e.responsible_name,
            url: e.url,
            phones: e.numbers.into_iter().map(PhoneVm::from).collect(),
        });
    }
    Ok(out)
}

/// A call to the hub with a JSON body as this employee; the hub's error code and message on failure.
async fn hub_send<T: serde::de::DeserializeOwned>(
    state: &App,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> CmdResult<T> {
    Ok(hub_call(state, method, path, body).await?.json().await?)
}

/// The same for an answer without a body (204).
async fn hub_do(
    state: &App,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> CmdResult<()> {
    hub_call(state, method, path, body).await.map(drop)
}

async fn hub_call(
    state: &App,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> CmdResult<reqwest::Response> {
    let c = client(state).await?;
    let mut req = c.request(method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    if !resp.status().is_success() {
        let e = sync::hub_error(resp).await;
        return Err(CmdError::new(&e.code, e.message));
    }
    Ok(resp)
}

/// A call about the workspace's CRM connection.
async fn crm_call(
    state: &App,
    method: reqwest::Method,
    path: &str,
    webhook_url: Option<String>,
) -> CmdResult<CrmConnectionVm> {
    let body = webhook_url.map(|u| serde_json::json!({ "webhook_url": u }));
    let v: switchboard_wire::CrmConnectionView = hub_send(state, method, path, body).await?;
    Ok(v.into())
}

/// The workspace's CRM (supervisors).
#[tauri::command]
async fn crm_connection(state: State<'_, App>) -> CmdResult<CrmConnectionVm> {
    crm_call(&state, reqwest::Method::GET, "/api/v1/crm/connection", None).await
}

/// Check connection: the portal and user behind a webhook URL; nothing is saved.
#[tauri::command]
async fn check_crm(state: State<'_, App>, webhook_url: String) -> CmdResult<CrmConnectionVm> {
    let path = "/api/v1/crm/connection/check";
    crm_call(&state, reqwest::Method::POST, path, Some(webhook_url)).await
}

/// Connects Bitrix24 (the hub checks and stores the URL; it never comes back whole).
#[tauri::command]
async fn connect_crm(state: State<'_, App>, webhook_url: String) -> CmdResult<CrmConnectionVm> {
    let path = "/api/v1/crm/connection";
    crm_call(&state, reqwest::Method::PUT, path, Some(webhook_url)).await
}

/// Stores the application token of the portal's outgoing webhook (empty: stop taking events).
#[tauri::command]
async fn set_crm_events(
    state: State<'_, App>,
    application_token: String,
) -> CmdResult<CrmConnectionVm> {
    let body = serde_json::json!({ "application_token": application_token });
    let v: switchboard_wire::CrmConnectionView = hub_send(
        &state,
        reqwest::Method::PUT,
        "/api/v1/crm/connection/events",
        Some(body),
    )
    .await?;
    Ok(v.into())
}

/// Opens a CRM entity's card in the browser. The address comes from the hub, not the page, and
/// only an https portal address is opened.
#[tauri::command]
async fn open_in_crm(
    app: tauri::AppHandle,
    state: State<'_, App>,
    kind: switchboard_core::EntityKind,
    id: String,
) -> CmdResult<()> {
    use tauri_plugin_opener::OpenerExt;
    let path = format!(
        "/api/v1/crm/{}/{}",
        kind.plural(),
        switchboard_wire::encode_component(&id)
    );
    let e: switchboard_wire::CrmEntityView = hub_get(&state, &path).await?;
    let url = e
        .url
        .filter(|u| crm_card_url_ok(u))
        .ok_or_else(|| CmdError::new("no_crm_link", "this CRM has no page to open"))?;
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| CmdError::new("open_failed", e.to_string()))
}

/// A CRM card address the app may hand to the browser: https, a host, nothing else.
fn crm_card_url_ok(u: &str) -> bool {
    reqwest::Url::parse(u)
        .is_ok_and(|p| p.scheme() == "https" && p.host_str().is_some() && p.username().is_empty())
}

/// Back to the built-in CRM.
#[tauri::command]
async fn disconnect_crm(state: State<'_, App>) -> CmdResult<CrmConnectionVm> {
    crm_call(
        &state,
        reqwest::Method::DELETE,
        "/api/v1/crm/connection",
        None,
    )
    .await
}

/// Re-queues a message's failed CRM timeline entries.
#[tauri::command]
async fn retry_mirror(state: State<'_, App>, id: String) -> CmdResult<()> {
    let path = format!("/api/v1/messages/{id}/mirror/retry");
    hub_send::<serde_json::Value>(&state, reqwest::Method::POST, &path, None).await?;
    Ok(())
}

/// The Employees screen (supervisors): everyone, and the channels a priority may be.
#[tauri::command]
async fn employees(state: State<'_, App>) -> CmdResult<EmployeesVm> {
    let all: Vec<EmployeeView> = hub_get(&state, "/api/v1/employees").await?;
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
        channels: workspace_channels(&state).await?,
    })
}

#[tauri::command]
async fn update_employee(
    state: State<'_, App>,
    id: String,
    change: EmployeeChange,
) -> CmdResult<()> {
    let path = format!("/api/v1/employees/{id}");
    let body = Some(change.to_patch());
    hub_send::<serde_json::Value>(&state, reqwest::Method::PATCH, &path, body).await?;
    Ok(())
}

/// Deactivates an employee (every desktop of theirs is signed out at once) or reactivates one
/// (they sign in anew). Supervisors; not themselves.
#[tauri::command]
async fn set_employee_active(state: State<'_, App>, id: String, active: bool) -> CmdResult<()> {
    let path = format!(
        "/api/v1/employees/{}",
        switchboard_wire::encode_component(&id)
    );
    let body = Some(serde_json::json!({ "active": active }));
    hub_send::<serde_json::Value>(&state, reqwest::Method::PATCH, &path, body).await?;
    Ok(())
}

/// An employee's sign-ins: the tokens their desktops hold (supervisors).
#[tauri::command]
async fn employee_tokens(state: State<'_, App>, id: String) -> CmdResult<Vec<TokenVm>> {
    let path = format!(
        "/api/v1/employees/{}/tokens",
        switchboard_wire::encode_component(&id)
    );
    let all: Vec<switchboard_wire::TokenView> = hub_get(&state, &path).await?;
    Ok(all
        .into_iter()
        .map(|t| TokenVm {
            id: t.id,
            created_at: t.created_at,
        })
        .collect())
}

/// Revokes one sign-in: that desktop is signed out at once (supervisors).
#[tauri::command]
async fn revoke_token(state: State<'_, App>, id: String) -> CmdResult<()> {
    let path = format!("/api/v1/tokens/{}", switchboard_wire::encode_component(&id));
    hub_do(&state, reqwest::Method::DELETE, &path, None).await
}

/// A data directory chosen on the command line (`--data-dir DIR`) or by `SWITCHBOARD_DATA_DIR`:
/// a separate profile. Tests give each app its own.
fn profile_dir() -> Option<PathBuf> {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    args.windows(2)
        .find(|w| w[0] == "--data-dir")
        .map(|w| PathBuf::from(&w[1]))
        .or_else(|| std::env::var_os("SWITCHBOARD_DATA_DIR").map(PathBuf::from))
}

/// Where this desktop keeps its files: the profile's directory, else the OS app-data dir;
/// this user's alone (0700).
fn data_dir(app: &AppHandle) -> anyhow::Result<PathBuf> {
    let dir = match profile_dir() {
        Some(d) => d,
        None => app.path().app_data_dir()?,
    };
    local::private_dir(&dir)?;
    Ok(dir)
}

/// Whether the system speaks Russian (LC_ALL, LC_MESSAGES, LANG, LANGUAGE).
fn system_is_russian() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .is_some_and(|v| v.starts_with("ru"))
}

/// Resumes the saved session, if any, at start-up.
async fn resume(app: AppHandle) {
    let state = app.state::<App>();
    let Ok(store) = state.store() else { return };
    let (mode, token, url) = (
        store.meta("mode"),
        store.meta("token"),
        store.meta("hub_url"),
    );
    let (Ok(Some(mode)), Ok(Some(token))) = (mode, token) else {
        return;
    };
    let mut session = state.session.lock().await;
    let url = match (mode.as_str(), url) {
        ("demo", _) => match demo_hub(&state, &mut session).await {
            Ok((url, _)) => url,
            Err(e) => {
                tracing::error!(error = %e.message, "demo workspace could not start");
                return;
            }
        },
        (_, Ok(Some(url))) => url,
        _ => return,
    };
    session.demo = mode == "demo";
    if let Err(e) = start_sync(&app, &state, &mut session, url, token).await {
        tracing::error!(error = %e.message, "session not resumed");
    }
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut builder = tauri::Builder::default();
    if profile_dir().is_none() {
        // One app per user: a second launch brings the running window forward.
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show_window(app)
        }));
    }
    let result = builder
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let dir = data_dir(app.handle())?;
            let store = LocalStore::open(&dir.join("local.db"))
                .map(Arc::new)
                .map_err(|e| {
                    tracing::error!(error = %e, "local store unavailable");
                    e.to_string()
                });
            let russian = system_is_russian();
            let notifier = Arc::new(notify::Notifier::new(
                AppWindow(app.handle().clone()),
                russian,
            ));
            let dnd = notifier.clone();
            if let Err(e) = tray::build(app.handle(), russian, move |on| dnd.set_do_not_disturb(on))
            {
                tracing::warn!(error = %e, "no tray icon");
            }
            app.manage(App {
                notifier,
                russian,
                store,
                data_dir: dir,
                http: reqwest::Client::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .build()?,
                online: Arc::new(AtomicBool::new(false)),
                session: tokio::sync::Mutex::new(Session::default()),
            });
            tauri::async_runtime::spawn(resume(app.handle().clone()));
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window hides it: the app lives on in the tray (Quit is in its menu).
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let _ = window.hide();
                api.prevent_close();
            }
        })
        .invoke_handler(tauri::generate_handler![
            set_open_chat,
            update_setting,
            app_state,
            open_demo,
            sign_in_demo,
            connect_hub,
            sign_out,
            chat_list,
            chat_messages,
            mark_answered,
            send_reply,
            send_first,
            pending_first,
            retry_message,
            discard_message,
            compose,
            crm_search,
            employees,
            update_employee,
            set_employee_active,
            employee_tokens,
            revoke_token,
            chat_crm,
            retry_mirror,
            crm_connection,
            check_crm,
            connect_crm,
            disconnect_crm,
            set_crm_events,
            open_in_crm
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Switchboard could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_https_portal_addresses_are_opened() {
        assert!(super::crm_card_url_ok(
            "https://example.bitrix24.ru/crm/deal/details/5/"
        ));
        for bad in [
            "http://example.bitrix24.ru/crm/deal/details/5/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user@example.bitrix24.ru/",
            "not a url",
        ] {
            assert!(!super::crm_card_url_ok(bad), "{bad}");
        }
    }
}

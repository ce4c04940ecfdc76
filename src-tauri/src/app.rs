//! The app's state shared by every command, and the session's life: signing in starts a sync
//! client, the hub refusing its token ends it, start-up resumes the saved one.

use crate::error::{CmdError, CmdResult};
use crate::local::LocalStore;
use crate::sync::{SyncClient, SyncObserver};
use crate::ui_events::{emit, OpenChat, SessionChanged, StoreChanged};
use crate::vm::StoreChange;
use crate::{notify, tray};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use switchboard_client::HubClient;
use switchboard_wire::NotifyEvent;
use tauri::{AppHandle, Manager};

/// The app's state, shared by every command.
pub struct App {
    pub(crate) store: Result<Arc<LocalStore>, String>,
    pub(crate) notifier: Arc<notify::Notifier<AppWindow>>,
    pub(crate) russian: bool,
    #[cfg_attr(
        not(feature = "demo"),
        allow(dead_code, reason = "the demo hub's folder")
    )]
    pub(crate) data_dir: PathBuf,
    pub(crate) http: reqwest::Client,
    pub(crate) online: Arc<AtomicBool>,
    pub(crate) session: tokio::sync::Mutex<Session>,
}

/// The demo workspace's hub, in-process (a build without the `demo` feature has none).
#[cfg(feature = "demo")]
type DemoHub = switchboard_hub::RunningHub;
#[cfg(not(feature = "demo"))]
type DemoHub = std::convert::Infallible;

#[derive(Default)]
pub(crate) struct Session {
    #[cfg_attr(
        not(feature = "demo"),
        allow(dead_code, reason = "never set without the demo")
    )]
    demo_hub: Option<DemoHub>,
    pub(crate) client: Option<SyncClient>,
    pub(crate) demo: bool,
    pub(crate) task: Option<tauri::async_runtime::JoinHandle<()>>,
    /// Chats whose history was fetched from the hub since signing in (sync keeps them fresh).
    pub(crate) history: std::collections::HashSet<String>,
}

impl App {
    pub(crate) fn store(&self) -> CmdResult<Arc<LocalStore>> {
        self.store
            .clone()
            .map_err(|e| CmdError::new("local_store", e))
    }

    /// The signed-in session's sync client.
    pub(crate) async fn client(&self) -> CmdResult<SyncClient> {
        self.session
            .lock()
            .await
            .client
            .clone()
            .ok_or_else(|| CmdError::new("signed_out", "not signed in"))
    }

    /// The hub, as the signed-in employee.
    pub(crate) async fn hub(&self) -> CmdResult<HubClient> {
        Ok(self.client().await?.hub)
    }
}

/// The main window, as the notification presenter sees it.
pub(crate) struct AppWindow(AppHandle);

impl notify::Window for AppWindow {
    fn is_focused(&self) -> bool {
        self.0
            .get_webview_window("main")
            .and_then(|w| Some(w.is_focused().ok()? && w.is_visible().ok()?))
            .unwrap_or(false)
    }

    fn open_chat(&self, chat: &str) {
        tray::show_window(&self.0);
        emit(&self.0, OpenChat(chat.to_owned()));
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

/// Tells the page how far a file of the outbox has gone.
fn upload_progress(app: &AppHandle, key: &str, sent: u64, total: u64) {
    let progress = crate::vm::UploadProgressVm {
        key: key.to_owned(),
        sent,
        total,
    };
    emit(app, crate::ui_events::UploadProgress(progress));
}

impl SyncObserver for Observer {
    fn uploading(&self, key: &str, sent: u64, total: u64) {
        upload_progress(&self.app, key, sent, total);
    }

    fn changed(&self, what: &StoreChange) {
        if what.list || what.all {
            if let Ok(counters) = self.store.counters() {
                tray::update(&self.app, counters, self.russian);
            }
        }
        emit(&self.app, StoreChanged(what.clone()));
    }

    fn online(&self, online: bool) {
        if self.online.swap(online, Ordering::SeqCst) != online {
            emit(&self.app, SessionChanged);
            // Back online: the views ask again (a conversation whose history could not be
            // fetched offline fetches it now, even when the sync brings nothing new).
            if online {
                emit(&self.app, StoreChanged(StoreChange::everything()));
            }
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

/// An observer for one-off flushes: tells the window the store changed, and the app when the
/// hub refused the token.
pub(crate) struct StoreOnly {
    app: AppHandle,
    token: String,
}

impl StoreOnly {
    pub(crate) fn of(app: &AppHandle, client: &SyncClient) -> StoreOnly {
        StoreOnly {
            app: app.clone(),
            token: client.hub.token().to_owned(),
        }
    }
}

impl SyncObserver for StoreOnly {
    fn changed(&self, what: &StoreChange) {
        emit(&self.app, StoreChanged(what.clone()));
    }
    fn uploading(&self, key: &str, sent: u64, total: u64) {
        upload_progress(&self.app, key, sent, total);
    }
    fn online(&self, _: bool) {}
    fn notify(&self, _: NotifyEvent) {}
    fn signed_out(&self) {
        tauri::async_runtime::spawn(access_ended(self.app.clone(), self.token.clone()));
    }
}

/// Hands the outbox to the hub in the background (if signed in); the sync loop does it too
/// whenever the link comes back.
pub(crate) fn flush_soon(app: &AppHandle, client: SyncClient) {
    let observer = StoreOnly::of(app, &client);
    tauri::async_runtime::spawn(async move {
        if let Err(e) = client.flush_outbox(&observer).await {
            tracing::info!(error = %e, "outbox waits for the hub");
        }
    });
}

/// The hub refused the session's `token` (revoked, the employee deactivated): back to the
/// welcome screen, which says so calmly. The synced copy goes (this employee may no longer see
/// it); the outbox stays, held back by the sync client. News about an older session is ignored.
async fn access_ended(app: AppHandle, token: String) {
    let state = app.state::<App>();
    let mut session = state.session.lock().await;
    if session.client.as_ref().map(|c| c.hub.token()) != Some(token.as_str()) {
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
    // Clients' files kept for the window go with the synced copy, as at a sign-out, and so do
    // the notifications shown.
    crate::media::forget(&state.data_dir);
    state.notifier.forget();
    tray::update(&app, switchboard_core::Counters::default(), state.russian);
    emit(&app, StoreChanged(StoreChange::everything()));
    emit(&app, SessionChanged);
}

/// Set in the local store's meta when the hub ended the session; cleared by the next sign-in.
pub(crate) const ACCESS_ENDED_META: &str = "access_ended";

/// Starts syncing as `token` (stopping any earlier session's loop).
pub(crate) async fn start_sync(
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
    let client = SyncClient::new(
        HubClient::new(state.http.clone(), &hub_url, &token),
        store.clone(),
    );
    let observer = Arc::new(Observer {
        app: app.clone(),
        token,
        online: state.online.clone(),
        store,
        notifier: state.notifier.clone(),
        russian: state.russian,
    });
    session.client = Some(client.clone());
    session.history.clear();
    session.task = Some(tauri::async_runtime::spawn(client.run(observer)));
    emit(app, SessionChanged);
    Ok(())
}

/// Starts the in-process demo hub (once) and returns it as its administrator.
#[cfg(feature = "demo")]
pub(crate) async fn demo_hub(state: &App, session: &mut Session) -> CmdResult<HubClient> {
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
    Ok(HubClient::new(
        state.http.clone(),
        &hub.url,
        &hub.admin_token,
    ))
}

/// This build connects to hubs only.
#[cfg(not(feature = "demo"))]
pub(crate) async fn demo_hub(_: &App, _: &mut Session) -> CmdResult<HubClient> {
    Err(CmdError::new(
        "demo_unavailable",
        "this build has no demo workspace: connect to a hub",
    ))
}

/// A data directory chosen on the command line (`--data-dir DIR`) or by `SWITCHBOARD_DATA_DIR`:
/// a separate profile. Tests give each app its own.
pub(crate) fn profile_dir() -> Option<PathBuf> {
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
    crate::local::private_dir(&dir)?;
    Ok(dir)
}

/// Takes `<dir>/app.lock` for as long as the app runs (the lock goes with the process); `false`
/// only when another app holds it — a file system that cannot lock (some network ones) leaves
/// it to the session bus.
fn lock_data_dir(dir: &std::path::Path) -> bool {
    static HELD: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();
    match switchboard_db::lock_file(&dir.join("app.lock")) {
        Ok(Some(file)) => {
            let _ = HELD.set(file);
            true
        }
        Ok(None) => false,
        Err(error) => {
            tracing::warn!(%error, "the data directory cannot be locked: kept to one app by the session bus only");
            true
        }
    }
}

/// Whether the system speaks Russian (LANGUAGE, LC_ALL, LC_MESSAGES, LANG).
fn system_is_russian() -> bool {
    // As gettext and WebKitGTK read them: LANGUAGE (a list, first choice first) before the
    // locale variables.
    ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .is_some_and(|v| v.starts_with("ru"))
}

/// Builds the app's state at start-up: the local store, the notifier, the tray.
pub(crate) fn setup(app: &tauri::App) -> anyhow::Result<()> {
    let dir = data_dir(app.handle())?;
    crash_log(&dir);
    // Never two apps on one store: the session bus keeps to one app per user, this lock holds
    // where the bus cannot (none, another session's, a launch that could not ask in time).
    if !lock_data_dir(&dir) {
        tracing::warn!(dir = %dir.display(), "Switchboard already runs on this data: this launch ends");
        eprintln!(
            "Switchboard already runs on {}: this launch ends.",
            dir.display()
        );
        std::process::exit(0);
    }
    let store = LocalStore::open(&dir.join("local.db"))
        .map(Arc::new)
        .map_err(|e| {
            tracing::error!(error = %e, "local store unavailable");
            e.to_string()
        });
    if let Ok(store) = &store {
        // What a crash left: downloads cut off, and files written but never queued.
        let parts = crate::media::sweep_parts(&store.media_cache_dir());
        if parts > 0 {
            tracing::info!(
                files = parts,
                "unfinished downloads removed from the media cache"
            );
        }
        match store.sweep_outbox_files() {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "files no message names removed from the outbox"),
            Err(e) => tracing::warn!(error = %e, "the outbox's files could not be looked through"),
        }
    }
    let russian = system_is_russian();
    let notifier = Arc::new(notify::Notifier::new(
        AppWindow(app.handle().clone()),
        russian,
    ));
    let dnd = notifier.clone();
    if let Err(e) = tray::build(app.handle(), russian, move |on| dnd.set_do_not_disturb(on)) {
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
    // The window is created hidden (tauri.conf.json): shown now, unless this start stays in
    // the tray.
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move { crate::commands::show_unless_hidden(&handle).await });
    Ok(())
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
            Ok(admin) => admin.base().to_owned(),
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

/// A panic ends the app (the packages are built with `panic = "abort"`): what it said, and
/// where, is appended to `<data dir>/crash.log` (this user's alone) before the default report
/// on stderr, which nobody sees when the app was started from the menu.
fn crash_log(dir: &std::path::Path) {
    let path = dir.join("crash.log");
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        use std::io::Write;
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // One write: panics on two threads do not mix their lines.
        let line = format!("{at} Switchboard {}: {info}\n", env!("CARGO_PKG_VERSION"));
        if let Ok(mut f) = options.open(&path) {
            let _ = f.write_all(line.as_bytes());
        }
        report(info);
    }));
}

#[cfg(test)]
mod tests {
    /// A second app on the same data directory is told so; another directory is free.
    #[test]
    fn one_app_per_data_directory() {
        let (one, other) = (
            tempfile::tempdir().expect("tempdir"),
            tempfile::tempdir().expect("tempdir"),
        );
        assert!(super::lock_data_dir(one.path()), "the first app");
        assert!(!super::lock_data_dir(one.path()), "a second app on it");
        // A lock of another process's is the same to this one: taken here with flock too.
        let held = std::fs::File::open(other.path().join("app.lock"))
            .or_else(|_| std::fs::File::create(other.path().join("app.lock")))
            .expect("file");
        held.try_lock().expect("held elsewhere");
        assert!(!super::lock_data_dir(other.path()), "held by another");
    }
}

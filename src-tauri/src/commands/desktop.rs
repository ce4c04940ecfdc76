//! This computer's preferences: starting with the session, starting hidden, and whether a
//! panel hosts the tray icon (said in the settings when none does).

use crate::error::{CmdError, CmdResult};
use crate::vm::DesktopPrefsVm;
use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt;

/// The file whose presence means "start hidden in the tray" (a preference of this computer, kept
/// across sign-outs).
const START_HIDDEN: &str = "start-hidden";

fn start_hidden_file(app: &AppHandle) -> std::path::PathBuf {
    app.state::<crate::app::App>().data_dir.join(START_HIDDEN)
}

/// Whether this start may leave the window hidden: started with the session (`--autostart`,
/// which the autostart entry passes) and asked to. It stays hidden only once a tray icon can
/// bring it back ([`show_unless_hidden`]).
fn asked_hidden(app: &AppHandle) -> bool {
    std::env::args_os().any(|a| a == "--autostart") && start_hidden_file(app).exists()
}

/// Shows the main window (created hidden), unless this start is asked to stay in the tray and a
/// panel hosts the tray icon. At login the panel may register its host a little after the
/// session's apps start: it is given a few seconds before the window is shown anyway.
pub async fn show_unless_hidden(app: &AppHandle) {
    if asked_hidden(app) {
        for _ in 0..20 {
            if crate::shell::tray_host().await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
    }
}

pub async fn desktop_prefs(app: &AppHandle) -> CmdResult<DesktopPrefsVm> {
    Ok(DesktopPrefsVm {
        tray_icon: crate::shell::tray_host().await,
        autostart: app.autolaunch().is_enabled().unwrap_or(false),
        start_hidden: start_hidden_file(app).exists(),
    })
}

pub async fn set_desktop_prefs(
    app: &AppHandle,
    autostart: bool,
    start_hidden: bool,
) -> CmdResult<DesktopPrefsVm> {
    let launcher = app.autolaunch();
    let done = if autostart {
        launcher.enable()
    } else {
        launcher.disable()
    };
    // Disabling what is not enabled is not an error worth showing.
    if let Err(e) = done.map_err(|e| e.to_string()) {
        if autostart || launcher.is_enabled().unwrap_or(false) {
            return Err(CmdError::new("autostart", format!("could not change: {e}")));
        }
    }
    let flag = start_hidden_file(app);
    let kept = if start_hidden {
        std::fs::write(&flag, b"")
    } else {
        match std::fs::remove_file(&flag) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    };
    kept.map_err(|e| CmdError::new("prefs", format!("could not keep the preference: {e}")))?;
    desktop_prefs(app).await
}

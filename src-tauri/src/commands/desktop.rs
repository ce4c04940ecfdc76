//! This computer's preferences: starting with the session, starting hidden, and whether a
//! panel hosts the tray icon (said in the settings when none does).

use crate::error::{CmdError, CmdResult};
use crate::vm::DesktopPrefsVm;
use std::path::Path;
use tauri::{AppHandle, Manager};
use tauri_plugin_autostart::ManagerExt;

/// Files whose presence means a preference of this computer is on (kept across sign-outs):
/// "start hidden in the tray", "send with Ctrl+Enter".
const START_HIDDEN: &str = "start-hidden";
const SEND_WITH_CTRL_ENTER: &str = "send-with-ctrl-enter";

fn flag_file(app: &AppHandle, name: &str) -> std::path::PathBuf {
    app.state::<crate::app::App>().data_dir.join(name)
}

fn start_hidden_file(app: &AppHandle) -> std::path::PathBuf {
    flag_file(app, START_HIDDEN)
}

fn set_flag(app: &AppHandle, name: &str, on: bool) -> CmdResult<()> {
    let flag = flag_file(app, name);
    let kept = if on {
        std::fs::write(&flag, b"")
    } else {
        match std::fs::remove_file(&flag) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    };
    kept.map_err(|e| CmdError::new("prefs", format!("could not keep the preference: {e}")))
}

/// The session's autostart entry for this app: started with `--autostart`, and with a profile
/// (`--data-dir`, or `SWITCHBOARD_DATA_DIR`, which the entry cannot carry) that profile's
/// directory, absolute, under an entry of its own (`Switchboard-<dir name>-<digest of the path>`)
/// so that profiles do not replace each other's. Arguments are quoted as the Desktop Entry
/// spec's `Exec` asks.
pub fn autostart_plugin<R: tauri::Runtime>(
    profile: Option<&Path>,
) -> tauri::plugin::TauriPlugin<R> {
    let (name, args) = autostart_entry(profile);
    let builder = tauri_plugin_autostart::Builder::new().args(args);
    match name {
        Some(name) => builder.app_name(name),
        None => builder,
    }
    .build()
}

fn autostart_entry(profile: Option<&Path>) -> (Option<String>, Vec<String>) {
    let mut args = vec!["--autostart".to_owned()];
    let Some(dir) = profile else {
        return (None, args);
    };
    // Absolute (the session starts the app elsewhere), without a trailing `/` or `.` parts:
    // one directory, one entry.
    let dir: std::path::PathBuf = std::path::absolute(dir)
        .unwrap_or_else(|_| dir.to_owned())
        .components()
        .collect();
    let Some(text) = dir.to_str() else {
        tracing::warn!(dir = %dir.display(), "a profile directory that is not UTF-8 cannot go in the autostart entry");
        return (None, args);
    };
    args.extend(["--data-dir".to_owned(), desktop_string(&exec_quoted(text))]);
    let tail: String = dir
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    // The whole path's digest tells `/a/work` from `/b/work` (FNV-1a: the same in every build,
    // so a later version finds the entry it made, to remove it).
    let digest = text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (Some(format!("Switchboard-{tail}-{digest:08x}")), args)
}

/// A desktop entry's string value as the file holds it: the spec's string escapes (`\\`, `\n`,
/// `\t`, `\r`) are read before `Exec`'s own quoting, so each of its backslashes is doubled.
fn desktop_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
    out
}

/// One argument of a desktop entry's `Exec` line: as is when plain, else double-quoted with
/// `"` `` ` `` `$` `\` escaped; `%` doubled either way (field codes).
fn exec_quoted(arg: &str) -> String {
    let plain = arg
        .chars()
        .all(|c| c.is_alphanumeric() || "/._-+,=@:".contains(c));
    if plain {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' | '`' | '$' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '%' => out.push_str("%%"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
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
        autostart: !unnamed_profile() && app.autolaunch().is_enabled().unwrap_or(false),
        start_hidden: start_hidden_file(app).exists(),
        send_with_ctrl_enter: flag_file(app, SEND_WITH_CTRL_ENTER).exists(),
        do_not_disturb: app.state::<crate::app::App>().notifier.do_not_disturb(),
    })
}

/// Do not disturb, from the window (Ctrl+K): the tray's menu shows the same.
pub async fn set_do_not_disturb(app: &AppHandle, on: bool) -> CmdResult<DesktopPrefsVm> {
    app.state::<crate::app::App>()
        .notifier
        .set_do_not_disturb(on);
    crate::tray::show_do_not_disturb(app, on);
    desktop_prefs(app).await
}

pub async fn set_desktop_prefs(
    app: &AppHandle,
    autostart: bool,
    start_hidden: bool,
    send_with_ctrl_enter: bool,
) -> CmdResult<DesktopPrefsVm> {
    set_flag(app, START_HIDDEN, start_hidden)?;
    set_flag(app, SEND_WITH_CTRL_ENTER, send_with_ctrl_enter)?;
    if unnamed_profile() {
        // Its entry could not name this profile: it would start another one at login (and
        // the entry the plugin would touch is the default profile's).
        if autostart {
            return Err(CmdError::new(
                "autostart",
                "this profile's folder name is not valid text, so it cannot start with the session",
            ));
        }
        return desktop_prefs(app).await;
    }
    let launcher = app.autolaunch();
    // The session's entry is touched only when this asks for a change to it.
    if launcher.is_enabled().unwrap_or(!autostart) != autostart {
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
    }
    desktop_prefs(app).await
}

/// A profile (`--data-dir`) whose path is not text: no autostart entry can name it.
fn unnamed_profile() -> bool {
    crate::app::profile_dir().is_some_and(|d| autostart_entry(Some(&d)).0.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_autostart_entry_keeps_a_profile() {
        assert_eq!(
            autostart_entry(None),
            (None, vec!["--autostart".to_owned()])
        );
        let (name, args) = autostart_entry(Some(Path::new("/home/anna/work profile")));
        let name = name.expect("a profile's own entry");
        assert!(name.starts_with("Switchboard-work-profile-"), "{name}");
        // Two profiles of one name in different places get entries of their own, each time
        // the same.
        let (other, _) = autostart_entry(Some(Path::new("/srv/work profile")));
        assert_ne!(other.as_deref(), Some(name.as_str()));
        let (slashed, _) = autostart_entry(Some(Path::new("/home/anna/./work profile/")));
        assert_eq!(
            slashed.as_deref(),
            Some(name.as_str()),
            "one directory, one entry"
        );
        assert_eq!(
            autostart_entry(Some(Path::new("/home/anna/work profile"))).0,
            Some(name)
        );
        // A backslash and a quote: Exec's escapes, then the file's string escapes
        // (`a\b"c` → `"a\\\\b\\"c"` in the file).
        let (_, odd) = autostart_entry(Some(Path::new(r#"/p/a\b"c"#)));
        assert_eq!(odd[2], r#""/p/a\\\\b\\"c""#);
        assert_eq!(
            args,
            ["--autostart", "--data-dir", "\"/home/anna/work profile\""]
        );
        // A relative directory is made absolute: the session starts the app elsewhere.
        let (_, args) = autostart_entry(Some(Path::new("p")));
        assert!(Path::new(&args[2]).is_absolute(), "{args:?}");
        assert!(args[2].ends_with("/p"), "{args:?}");
    }

    #[test]
    fn exec_arguments_are_quoted_as_the_spec_says() {
        assert_eq!(exec_quoted("/var/lib/x_1.2"), "/var/lib/x_1.2");
        assert_eq!(exec_quoted("/a b"), "\"/a b\"");
        assert_eq!(exec_quoted("/a\"$`\\b"), "\"/a\\\"\\$\\`\\\\b\"");
        assert_eq!(exec_quoted("/100%"), "\"/100%%\"");
    }
}

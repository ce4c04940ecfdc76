//! The Switchboard desktop app: Tauri commands over a local store that a sync client keeps
//! in step with the hub. Thin by design: the rules live in switchboard-core (the hub
//! applies them), the webview renders the view models of [`vm`] and nothing else.
//!
//! - [`app`]: the state every command shares and the session's life (sign-in, sync, end);
//! - [`commands`]: every command, listed once, by area;
//! - [`local`]: the local store, by table; [`sync`]: the sync client over the typed hub client;
//! - [`notify`], [`tray`]: what the OS shows; [`vm`], [`ui_events`]: what the webview gets.

mod app;
mod commands;
pub mod compose;
pub mod error;
pub mod local;
mod media;
pub mod notify;
pub mod shell;
pub mod sync;
pub mod tray;
pub mod ui_events;
pub mod vm;

pub use error::{CmdError, CmdResult};

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // One app per user (a profile's is its own): a second launch brings the running window
    // forward and ends.
    static APP: std::sync::OnceLock<tauri::AppHandle> = std::sync::OnceLock::new();
    if app::profile_dir().is_none()
        && shell::single_instance(None, || shell::come_forward(APP.get(), tray::show_window))
            == shell::Launch::Running
    {
        tracing::info!("Switchboard already runs: it was asked to bring its window forward");
        return;
    }
    let result = tauri::Builder::default()
        // The session's autostart entry starts the app with `--autostart` (see `starts_hidden`)
        // and the profile it was enabled from.
        .plugin(commands::desktop::autostart_plugin(
            app::profile_dir().as_deref(),
        ))
        // The window shows the app and nothing else: a file dropped outside the conversation,
        // a link in a message, never navigates it away (to `file://` or the web).
        .plugin(
            tauri::plugin::Builder::<tauri::Wry>::new("navigation")
                .on_navigation(|_, url| own_page(url))
                .build(),
        )
        .register_asynchronous_uri_scheme_protocol(media::SCHEME, |ctx, request, responder| {
            media::handle(ctx.app_handle(), request, responder)
        })
        .setup(|app| {
            let _ = APP.set(app.handle().clone());
            app::setup(app)?;
            // A launch that came while this one was starting (hidden, from autostart) asked
            // for the window.
            if shell::asked_early() {
                tray::show_window(app.handle());
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps the app running: hidden where a tray icon brings it back
            // (Quit is in its menu), else minimized — never where nobody can find it.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                let window = window.clone();
                tauri::async_runtime::spawn(async move {
                    let _ = match shell::on_close(shell::tray_host().await) {
                        shell::OnClose::Hide => window.hide(),
                        shell::OnClose::Minimize => window.minimize(),
                    };
                });
            }
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Switchboard could not start: {e}");
        std::process::exit(1);
    }
}

/// Whether `url` is the app's own page (bundled, or Vite's while developing).
fn own_page(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" => true,
        "http" | "https" => matches!(url.host_str(), Some("tauri.localhost" | "localhost")),
        _ => false,
    }
}

#[cfg(test)]
mod navigation_tests {
    #[test]
    fn the_window_stays_on_the_apps_own_page() {
        for ok in [
            "tauri://localhost/",
            "http://tauri.localhost/index.html",
            "http://localhost:5173/",
        ] {
            assert!(super::own_page(&ok.parse().expect("url")), "{ok}");
        }
        for not in [
            "file:///home/u/report.html",
            "https://example.com/",
            "http://127.0.0.1:8080/",
            "media://localhost/x",
        ] {
            assert!(!super::own_page(&not.parse().expect("url")), "{not}");
        }
    }
}

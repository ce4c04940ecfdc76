//! How the app lives on this desktop when its window is closed.
//!
//! With a panel that hosts tray icons (a StatusNotifierItem host: KDE, XFCE, Cinnamon, GNOME with
//! the AppIndicator extension), closing the window hides it and the tray carries the totals.
//! Stock GNOME has no such host: a hidden window could not be found again, so there closing
//! minimizes it instead, and the totals go to the window title (always, see `tray::update`) and
//! to the launcher icon's badge — the `com.canonical.Unity.LauncherEntry` signal that Ubuntu's
//! dock, Dash to Dock and KDE's task manager read.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;
use switchboard_core::Counters;
use zbus::zvariant::Value;

/// The desktop entry the packages install (Tauri names it after the product).
pub const DESKTOP_ENTRY: &str = "Switchboard.desktop";

/// Where the launcher entry's signals come from (any path of ours; docks match on the URI).
const LAUNCHER_PATH: &str = "/app/switchboard/LauncherEntry";

/// What closing the window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnClose {
    /// The tray icon brings it back.
    Hide,
    /// Nothing would: it stays in the dock/taskbar.
    Minimize,
}

pub fn on_close(tray_host: bool) -> OnClose {
    if tray_host {
        OnClose::Hide
    } else {
        OnClose::Minimize
    }
}

/// How long the session bus may take to answer before the app goes on without it.
const BUS_TIME: Duration = Duration::from_secs(2);

/// The session bus, connected once (a connection per question would cost a handshake each); a
/// failed or slow connection is tried again next time.
async fn bus() -> zbus::Result<&'static zbus::Connection> {
    static BUS: tokio::sync::OnceCell<zbus::Connection> = tokio::sync::OnceCell::const_new();
    BUS.get_or_try_init(|| async {
        tokio::time::timeout(BUS_TIME, zbus::Connection::session())
            .await
            .map_err(|_| zbus::Error::Failure("the session bus did not answer".into()))?
    })
    .await
}

/// Whether a panel hosts tray icons: a `org.kde.StatusNotifierWatcher` on the session bus that
/// has a host registered. No bus, no watcher or no answer: no tray.
pub async fn tray_host() -> bool {
    let Ok(conn) = bus().await else {
        return false;
    };
    let asked = tokio::time::timeout(BUS_TIME, async {
        // One question, no property cache (which would subscribe to changes first).
        let proxy: zbus::Proxy<'_> = zbus::proxy::Builder::new(conn)
            .destination("org.kde.StatusNotifierWatcher")?
            .path("/StatusNotifierWatcher")?
            .interface("org.kde.StatusNotifierWatcher")?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        proxy
            .get_property::<bool>("IsStatusNotifierHostRegistered")
            .await
    })
    .await;
    matches!(asked, Ok(Ok(true)))
}

/// The launcher entry's properties for these totals: the count of chats waiting for my answer,
/// shown while there is one. Never "urgent" (no bouncing icon: the app stays calm).
pub fn launcher_properties(c: Counters) -> HashMap<&'static str, Value<'static>> {
    HashMap::from([
        ("count", Value::I64(i64::from(c.red))),
        ("count-visible", Value::Bool(c.red > 0)),
        ("urgent", Value::Bool(false)),
    ])
}

/// Puts the totals on the launcher icon's badge. One task sends them, in order, the latest
/// only, and only when the count changed.
pub fn launcher_badge(c: Counters) {
    static LATEST: OnceLock<tokio::sync::watch::Sender<Counters>> = OnceLock::new();
    let tx = LATEST.get_or_init(|| {
        let (tx, mut rx) = tokio::sync::watch::channel(c);
        tauri::async_runtime::spawn(async move {
            let mut shown: Option<u32> = None;
            loop {
                let now = *rx.borrow_and_update();
                if shown != Some(now.red) {
                    match emit_launcher(now).await {
                        Ok(()) => shown = Some(now.red),
                        // No session bus (or none that listens): the title still has them.
                        Err(e) => tracing::debug!(error = %e, "launcher badge not sent"),
                    }
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        });
        tx
    });
    tx.send_replace(c);
}

async fn emit_launcher(c: Counters) -> zbus::Result<()> {
    bus()
        .await?
        .emit_signal(
            None::<()>,
            LAUNCHER_PATH,
            "com.canonical.Unity.LauncherEntry",
            "Update",
            &(
                format!("application://{DESKTOP_ENTRY}"),
                launcher_properties(c),
            ),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_hides_only_where_a_tray_can_bring_the_window_back() {
        assert_eq!(on_close(true), OnClose::Hide);
        assert_eq!(on_close(false), OnClose::Minimize);
    }

    #[test]
    fn the_launcher_shows_the_chats_waiting_for_my_answer_and_never_bounces() {
        let shown = launcher_properties(Counters { red: 3, grey: 7 });
        assert_eq!(shown["count"], Value::I64(3));
        assert_eq!(shown["count-visible"], Value::Bool(true));
        assert_eq!(shown["urgent"], Value::Bool(false));
        let calm = launcher_properties(Counters { red: 0, grey: 7 });
        assert_eq!(
            calm["count-visible"],
            Value::Bool(false),
            "grey chats are others' to answer"
        );
    }
}

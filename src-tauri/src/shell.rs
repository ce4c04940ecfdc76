//! How the app lives on this desktop when its window is closed.
//!
//! With a panel that hosts tray icons (a StatusNotifierItem host: KDE, XFCE, Cinnamon, GNOME with
//! the AppIndicator extension), closing the window hides it and the tray carries the totals.
//! Stock GNOME has no such host: a hidden window could not be found again, so there closing
//! minimizes it instead, and the totals go to the window title (always, see `tray::update`) and
//! to the launcher icon's badge — the `com.canonical.Unity.LauncherEntry` signal that Ubuntu's
//! dock, Dash to Dock and KDE's task manager read.

use dbus::arg::{RefArg, Variant};
use dbus::blocking::{Connection, SyncConnection};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use switchboard_core::Counters;

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

/// The session bus (libdbus, through the `dbus` crate that the window toolkit links already),
/// connected once (a connection per question would cost a handshake each); a failed connection
/// is tried again next time. Its calls block: `on_bus` runs them off the async workers.
fn bus() -> Result<Arc<SyncConnection>, dbus::Error> {
    static BUS: Mutex<Option<Arc<SyncConnection>>> = Mutex::new(None);
    let mut held = BUS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(conn) = held.as_ref() {
        return Ok(conn.clone());
    }
    let conn = Arc::new(SyncConnection::new_session()?);
    *held = Some(conn.clone());
    Ok(conn)
}

/// Asks the session bus on a blocking thread, giving up after `BUS_TIME`.
async fn on_bus<T: Send + 'static>(
    ask: impl FnOnce(&SyncConnection) -> Result<T, dbus::Error> + Send + 'static,
) -> Result<T, String> {
    let asked = tokio::task::spawn_blocking(move || ask(&*bus()?));
    match tokio::time::timeout(BUS_TIME, asked).await {
        Ok(Ok(answer)) => answer.map_err(|e| e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the session bus did not answer".into()),
    }
}

/// Whether a panel hosts tray icons: a `org.kde.StatusNotifierWatcher` on the session bus that
/// has a host registered. No bus, no watcher or no answer: no tray.
pub async fn tray_host() -> bool {
    on_bus(|conn| {
        use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
        conn.with_proxy(
            "org.kde.StatusNotifierWatcher",
            "/StatusNotifierWatcher",
            BUS_TIME,
        )
        .get::<bool>(
            "org.kde.StatusNotifierWatcher",
            "IsStatusNotifierHostRegistered",
        )
    })
    .await
    .unwrap_or(false)
}

/// The launcher entry's properties for these totals: the count of chats waiting for my answer,
/// shown while there is one. Never "urgent" (no bouncing icon: the app stays calm).
pub fn launcher_properties(c: Counters) -> HashMap<&'static str, Variant<Box<dyn RefArg>>> {
    HashMap::from([
        (
            "count",
            Variant(Box::new(i64::from(c.red)) as Box<dyn RefArg>),
        ),
        (
            "count-visible",
            Variant(Box::new(c.red > 0) as Box<dyn RefArg>),
        ),
        ("urgent", Variant(Box::new(false) as Box<dyn RefArg>)),
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
                    match on_bus(move |conn| emit_launcher(conn, now)).await {
                        Ok(()) => shown = Some(now.red),
                        // No session bus (or none that listens): the title still has them.
                        Err(error) => tracing::debug!(%error, "launcher badge not sent"),
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

fn emit_launcher(conn: &SyncConnection, c: Counters) -> Result<(), dbus::Error> {
    let signal =
        dbus::Message::new_signal(LAUNCHER_PATH, "com.canonical.Unity.LauncherEntry", "Update")
            .map_err(|e| dbus::Error::new_failed(&e))?
            .append2(
                format!("application://{DESKTOP_ENTRY}"),
                launcher_properties(c),
            );
    conn.channel()
        .send(signal)
        .map_err(|()| dbus::Error::new_failed("the session bus took no signal"))?;
    conn.channel().flush();
    Ok(())
}

/// The name the running app owns on the session bus: one app per user.
const INSTANCE_NAME: &str = "app.switchboard.desktop.SingleInstance";
const INSTANCE_PATH: &str = "/app/switchboard/desktop/SingleInstance";

/// Whether this launch is the app, or one already runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// This launch is the app (also when there is no session bus to ask).
    First,
    /// The app already runs and was asked to bring its window forward: this launch ends.
    Running,
}

/// One app per user: the first launch owns `INSTANCE_NAME` on the session bus (at `address`,
/// or the session's) and calls `activate` when a later launch asks it to (`Activate`); a later
/// launch asks and is told to end. Without a bus, or one that does not answer in time, every
/// launch goes on. (What tauri-plugin-single-instance did over zbus, on the D-Bus library the
/// window toolkit links anyway: one D-Bus stack in the binary instead of two.)
pub fn single_instance(address: Option<String>, activate: impl Fn() + Send + 'static) -> Launch {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("single-instance".into())
        .spawn(move || {
            let conn = match &address {
                Some(a) => Connection::new_address(a),
                None => Connection::new_session(),
            };
            let conn = match conn {
                Ok(conn) => conn,
                Err(e) => return drop(tx.send(Err(e))),
            };
            use dbus::blocking::stdintf::org_freedesktop_dbus::RequestNameReply;
            match conn.request_name(INSTANCE_NAME, false, false, true) {
                Ok(RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner) => {}
                Ok(_) => {
                    let asked = conn
                        .with_proxy(INSTANCE_NAME, INSTANCE_PATH, BUS_TIME)
                        .method_call::<(), _, _, _>(INSTANCE_NAME, "Activate", ());
                    return drop(tx.send(asked.map(|()| Launch::Running)));
                }
                Err(e) => return drop(tx.send(Err(e))),
            }
            use dbus::channel::MatchingReceiver;
            conn.start_receive(
                dbus::message::MatchRule::new_method_call()
                    .with_path(INSTANCE_PATH)
                    .with_interface(INSTANCE_NAME)
                    .with_member("Activate"),
                Box::new(move |call, conn| {
                    activate();
                    let _ = conn.channel().send(call.method_return());
                    true
                }),
            );
            if tx.send(Ok(Launch::First)).is_err() {
                return;
            }
            // Answers later launches for as long as the app runs.
            while conn.process(Duration::from_secs(3600)).is_ok() {}
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot ask whether the app already runs");
        return Launch::First;
    }
    match rx.recv_timeout(BUS_TIME) {
        Ok(Ok(launch)) => launch,
        Ok(Err(error)) => {
            tracing::info!(%error, "no session bus to keep to one app per user");
            Launch::First
        }
        Err(_) => {
            tracing::info!("the session bus did not answer: not kept to one app per user");
            Launch::First
        }
    }
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
        use dbus::arg::ArgType;
        let shown = launcher_properties(Counters { red: 3, grey: 7 });
        let typed = |key: &str, kind: ArgType| {
            assert_eq!(shown[key].0.arg_type(), kind, "{key}");
            shown[key].0.as_i64()
        };
        assert_eq!(typed("count", ArgType::Int64), Some(3));
        assert_eq!(typed("count-visible", ArgType::Boolean), Some(1));
        assert_eq!(typed("urgent", ArgType::Boolean), Some(0));
        let calm = launcher_properties(Counters { red: 0, grey: 7 });
        assert_eq!(
            calm["count-visible"].0.as_i64(),
            Some(0),
            "grey chats are others' to answer"
        );
    }

    /// A session bus of the test's own (`dbus-daemon`, from Debian's `dbus` package).
    struct PrivateBus(std::process::Child, String);

    impl PrivateBus {
        fn start() -> PrivateBus {
            use std::io::BufRead;
            let mut daemon = std::process::Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("dbus-daemon (Debian's dbus package) starts");
            let mut address = String::new();
            std::io::BufReader::new(daemon.stdout.take().expect("stdout"))
                .read_line(&mut address)
                .expect("the bus's address");
            PrivateBus(daemon, address.trim().to_owned())
        }
    }

    impl Drop for PrivateBus {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_second_launch_brings_the_first_forward_and_ends() {
        let bus = PrivateBus::start();
        let (asked, activated) = std::sync::mpsc::channel();
        let first = single_instance(Some(bus.1.clone()), move || {
            let _ = asked.send(());
        });
        assert_eq!(first, Launch::First);
        let second = single_instance(Some(bus.1.clone()), || {
            panic!("a later launch is never asked to come forward")
        });
        assert_eq!(second, Launch::Running);
        activated
            .recv_timeout(Duration::from_secs(5))
            .expect("the first launch was asked to bring its window forward");
        // And again, each time one is launched.
        assert_eq!(single_instance(Some(bus.1.clone()), || {}), Launch::Running);
        activated
            .recv_timeout(Duration::from_secs(5))
            .expect("asked again");
    }

    #[test]
    fn without_a_session_bus_every_launch_goes_on() {
        let nowhere = "unix:path=/nonexistent/switchboard-test-bus".to_owned();
        assert_eq!(single_instance(Some(nowhere), || {}), Launch::First);
    }
}

//! How the app lives on this desktop when its window is closed.
//!
//! With a panel that hosts tray icons (a StatusNotifierItem host: KDE, XFCE, Cinnamon, GNOME with
//! the AppIndicator extension), closing the window hides it and the tray carries the totals.
//! Stock GNOME has no such host: a hidden window could not be found again, so there closing
//! minimizes it instead, and the totals go to the window title (always, see `tray::update`) and
//! to the launcher icon's badge — the `com.canonical.Unity.LauncherEntry` signal that Ubuntu's
//! dock, Dash to Dock and KDE's task manager read.

use dbus::arg::{RefArg, Variant};
use dbus::blocking::Connection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
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

/// The session bus's address: the session's `DBUS_SESSION_BUS_ADDRESS`, else the user bus
/// socket (`$XDG_RUNTIME_DIR/bus`). Never libdbus's autolaunch, which would start a bus of its
/// own under X11 where the session has none.
pub fn session_address() -> Option<String> {
    if let Some(address) = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .ok()
        .filter(|a| !a.trim().is_empty())
    {
        return Some(address);
    }
    let dir = std::path::PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?);
    if !dir.is_absolute() {
        return None;
    }
    let socket = dir.join("bus");
    // An address escapes every byte but these (D-Bus specification, "Server Addresses").
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'/')
        .remove(b'.')
        .remove(b'\\')
        .remove(b'*');
    let path = socket.to_str()?;
    socket.exists().then(|| {
        format!(
            "unix:path={}",
            percent_encoding::utf8_percent_encode(path, ESCAPED)
        )
    })
}

/// A connection of its own to the session bus (`address`, or the session's), for one thread.
pub fn connect(address: Option<&str>) -> Result<Connection, dbus::Error> {
    match address {
        Some(address) => Connection::new_address(address),
        None => Connection::new_address(
            &session_address().ok_or_else(|| dbus::Error::new_failed("no session bus"))?,
        ),
    }
}

/// Asks the session bus on a blocking thread, giving up after `BUS_TIME`.
async fn on_bus<T: Send + 'static>(
    ask: impl FnOnce(&Connection) -> Result<T, dbus::Error> + Send + 'static,
) -> Result<T, String> {
    let asked = tokio::task::spawn_blocking(move || ask(&connect(None)?));
    match tokio::time::timeout(BUS_TIME, asked).await {
        Ok(Ok(answer)) => answer.map_err(|e| e.to_string()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the session bus did not answer".into()),
    }
}

/// Whether a panel hosts tray icons: a `org.kde.StatusNotifierWatcher` on the session bus that
/// has a host registered. No bus, no watcher or no answer: no tray.
pub async fn tray_host() -> bool {
    on_bus(tray_host_on).await.unwrap_or(false)
}

fn tray_host_on(conn: &Connection) -> Result<bool, dbus::Error> {
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

/// Puts the totals on the launcher icon's badge: the latest only, and only when the count
/// changed. One thread sends them over one connection that lives as long as the app — docks
/// drop a badge when the connection that sent it goes.
pub fn launcher_badge(c: Counters) {
    static LATEST: OnceLock<Option<std::sync::mpsc::Sender<Counters>>> = OnceLock::new();
    let tx = LATEST.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("launcher-badge".into())
            .spawn(move || badge(rx, None, Duration::from_secs(10)))
            .map(|_| tx)
            .map_err(|error| tracing::warn!(%error, "no launcher badge"))
            .ok()
    });
    if let Some(tx) = tx {
        let _ = tx.send(c);
    }
}

/// The badge's thread: sends what `totals` asks for on the bus at `address` (or the session's),
/// reconnecting when the bus went, and again when a dock starts (it owns `com.canonical.Unity`,
/// as libunity watches it); every `period` it answers the bus (a peer's Ping) and looks.
fn badge(totals: std::sync::mpsc::Receiver<Counters>, address: Option<String>, period: Duration) {
    use std::sync::mpsc::RecvTimeoutError;
    let (mut conn, mut wanted, mut shown) = (None::<Connection>, None::<Counters>, None::<u32>);
    loop {
        match totals.recv_timeout(period) {
            Ok(c) => wanted = Some(c),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        wanted = totals.try_iter().last().or(wanted);
        if let Some(c) = &conn {
            answer_pending(c.channel(), |msg| {
                if dock_started(msg) {
                    shown = None;
                }
            });
            if !c.channel().is_connected() {
                (conn, shown) = (None, None);
            }
        }
        let Some(now) = wanted.filter(|w| shown != Some(w.red)) else {
            continue;
        };
        if conn.is_none() {
            conn = connect(address.as_deref())
                .and_then(|c| {
                    c.add_match_no_cb(
                        "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='com.canonical.Unity'",
                    )?;
                    Ok(c)
                })
                .map_err(|e| tracing::debug!(error = %e, "launcher badge not sent"))
                .ok();
        }
        if let Some(c) = &conn {
            match emit_launcher(c, now) {
                Ok(()) => shown = Some(now.red),
                // No session bus (or none that listens): the title still has them.
                Err(e) => tracing::debug!(error = %e, "launcher badge not sent"),
            }
        }
    }
}

/// Answers what came to a connection that is read nowhere else — a Ping, or a call to nothing
/// here, as libdbus's users do — and shows each message to `seen`.
pub fn answer_pending(channel: &dbus::channel::Channel, mut seen: impl FnMut(&dbus::Message)) {
    let _ = channel.read_write(Some(Duration::ZERO));
    while let Some(msg) = channel.pop_message() {
        if let Some(reply) = dbus::channel::default_reply(&msg) {
            let _ = channel.send(reply);
        }
        seen(&msg);
    }
}

/// A dock took `com.canonical.Unity` (it started): it is sent the badge again.
fn dock_started(msg: &dbus::Message) -> bool {
    msg.sender().as_deref() == Some("org.freedesktop.DBus")
        && msg.member().as_deref() == Some("NameOwnerChanged")
        && msg
            .read3::<&str, &str, &str>()
            .is_ok_and(|(name, _, new)| name == "com.canonical.Unity" && !new.is_empty())
}

fn emit_launcher(conn: &Connection, c: Counters) -> Result<(), dbus::Error> {
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

/// The name the running app owns on the session bus: one app per user. (The name and path
/// tauri-plugin-single-instance used, so an app started before an upgrade is found too.)
const INSTANCE_NAME: &str = "app.switchboard.desktop.SingleInstance";
const INSTANCE_PATH: &str = "/app/switchboard/desktop/SingleInstance";
/// What that plugin answered: `ExecuteCallback(argv, cwd)`.
const PLUGIN_INTERFACE: &str = "org.SingleInstance.DBus";

/// How long a launch may take to learn whether the app already runs: a bus that answers at all
/// answers within it (connecting, the name asked for, the running app asked to come forward).
const INSTANCE_TIME: Duration = Duration::from_secs(10);

/// Whether this launch is the app, or one already runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// This launch is the app (also when there is no session bus to ask).
    First,
    /// The app already runs (it was asked to bring its window forward): this launch ends.
    Running,
}

/// One app per user: the first launch owns `INSTANCE_NAME` on the session bus (at `address`,
/// or the session's) and calls `activate` when a later launch asks it to (`Activate`); a later
/// launch asks and ends — also when the running app does not answer, as two apps on one store
/// must never run. Without a bus, or one that does not answer in `INSTANCE_TIME`, a launch goes
/// on. (What tauri-plugin-single-instance did over zbus, on the D-Bus library the window
/// toolkit links anyway: one D-Bus stack in the binary instead of two.)
pub fn single_instance(address: Option<String>, activate: impl Fn() + Send + 'static) -> Launch {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("single-instance".into())
        .spawn(move || {
            let conn = match connect(address.as_deref()) {
                Ok(conn) => conn,
                Err(e) => return drop(tx.send(Err(e))),
            };
            // The owner may be leaving as this launch asks: then the name is asked for again.
            for _ in 0..3 {
                use dbus::blocking::stdintf::org_freedesktop_dbus::RequestNameReply::*;
                match conn.request_name(INSTANCE_NAME, false, false, true) {
                    Ok(PrimaryOwner | AlreadyOwner) => return serve(conn, tx, activate),
                    Ok(_) => match bring_forward(&conn) {
                        Ok(()) => return drop(tx.send(Ok(Launch::Running))),
                        Err(e) if owner_left(&e) => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, "the running app did not come forward");
                            return drop(tx.send(Ok(Launch::Running)));
                        }
                    },
                    Err(e) => return drop(tx.send(Err(e))),
                }
            }
            let _ = tx.send(Ok(Launch::Running));
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot ask whether the app already runs");
        return Launch::First;
    }
    match rx.recv_timeout(INSTANCE_TIME) {
        Ok(Ok(launch)) => launch,
        Ok(Err(error)) => {
            tracing::info!(%error, "no session bus to keep to one app per user");
            Launch::First
        }
        Err(_) => {
            tracing::warn!("the session bus did not answer: not kept to one app per user");
            Launch::First
        }
    }
}

/// Asks the app that owns the name to bring its window forward (or, started before an upgrade,
/// the plugin's callback).
fn bring_forward(conn: &Connection) -> Result<(), dbus::Error> {
    let running = conn.with_proxy(INSTANCE_NAME, INSTANCE_PATH, BUS_TIME);
    match running.method_call::<(), _, _, _>(INSTANCE_NAME, "Activate", ()) {
        Err(e)
            if matches!(
                e.name(),
                Some(
                    "org.freedesktop.DBus.Error.UnknownMethod"
                        | "org.freedesktop.DBus.Error.UnknownInterface"
                        | "org.freedesktop.DBus.Error.UnknownObject"
                )
            ) =>
        {
            let cwd = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            let argv: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            running.method_call(PLUGIN_INTERFACE, "ExecuteCallback", (argv, cwd))
        }
        asked => asked,
    }
}

/// The name's owner is gone (it was leaving as it was asked).
fn owner_left(e: &dbus::Error) -> bool {
    matches!(
        e.name(),
        Some(
            "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.NameHasNoOwner"
        )
    )
}

/// Owns the name for as long as the app runs: answers `Activate` by calling `activate`.
fn serve(
    conn: Connection,
    tx: std::sync::mpsc::Sender<Result<Launch, dbus::Error>>,
    activate: impl Fn() + Send + 'static,
) {
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
    // Also when the launch stopped waiting: the name stays owned, or the next launch would be
    // a second app.
    let _ = tx.send(Ok(Launch::First));
    while conn.process(Duration::from_secs(3600)).is_ok() {}
}

/// Someone asked the app to come forward before its window existed: shown once it does.
static ASKED_EARLY: AtomicBool = AtomicBool::new(false);

/// A later launch asked this one to come forward: `show` when the app is up, else at setup.
pub fn come_forward(app: Option<&tauri::AppHandle>, show: impl Fn(&tauri::AppHandle)) {
    // Noted first: setup takes the note if it runs between these two lines.
    ASKED_EARLY.store(true, Ordering::SeqCst);
    if let Some(app) = app {
        if asked_early() {
            show(app);
        }
    }
}

/// Whether a launch asked for the window before it existed (asked once).
pub fn asked_early() -> bool {
    ASKED_EARLY.swap(false, Ordering::SeqCst)
}

/// A session bus of a test's own (`dbus-daemon`, from Debian's `dbus` package).
#[cfg(test)]
pub(crate) mod test_bus {
    pub struct PrivateBus(std::process::Child, pub String);

    impl PrivateBus {
        pub fn start() -> PrivateBus {
            use std::io::BufRead;
            let mut daemon = std::process::Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
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

    use crate::shell::test_bus::PrivateBus;

    /// The next `LauncherEntry.Update` the listener hears, within 5 s.
    fn next_update(listener: &Connection) -> dbus::Message {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < until {
            let _ = listener
                .channel()
                .read_write(Some(Duration::from_millis(100)));
            while let Some(msg) = listener.channel().pop_message() {
                if msg.member().as_deref() == Some("Update") {
                    return msg;
                }
            }
        }
        panic!("no launcher badge within 5 s");
    }

    #[test]
    fn the_badge_is_sent_as_docks_read_it_and_its_sender_stays() {
        use dbus::arg::ArgType;
        let bus = PrivateBus::start();
        let listener = Connection::new_address(&bus.1).expect("listener");
        listener
            .add_match_no_cb(
                "type='signal',interface='com.canonical.Unity.LauncherEntry',member='Update'",
            )
            .expect("match");
        let (totals, rx) = std::sync::mpsc::channel();
        let address = bus.1.clone();
        std::thread::spawn(move || badge(rx, Some(address), Duration::from_millis(50)));
        totals.send(Counters { red: 3, grey: 7 }).expect("sent");
        let update = next_update(&listener);
        let mut args = update.iter_init();
        let mut signature = String::new();
        while args.arg_type() != ArgType::Invalid {
            signature += &args.signature();
            args.next();
        }
        assert_eq!(signature, "sa{sv}");
        let (uri, shown): (String, HashMap<String, Variant<Box<dyn RefArg>>>) =
            update.read2().expect("Update(s, a{sv})");
        assert_eq!(uri, "application://Switchboard.desktop");
        assert_eq!(shown["count"].0.arg_type(), ArgType::Int64);
        assert_eq!(shown["count"].0.as_i64(), Some(3));
        assert_eq!(shown["count-visible"].0.as_i64(), Some(1));
        // Docks drop a badge when its sender leaves the bus: the sender stays.
        let sender = update.sender().expect("sender").to_string();
        let (on_bus,): (bool,) = listener
            .with_proxy(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                Duration::from_secs(2),
            )
            .method_call("org.freedesktop.DBus", "NameHasOwner", (sender,))
            .expect("asked");
        assert!(on_bus, "the badge's sender left the bus");
        // A dock that starts gets the badge again; a new count is sent.
        listener
            .request_name("com.canonical.Unity", false, false, true)
            .expect("a dock");
        let (_, again): (String, HashMap<String, Variant<Box<dyn RefArg>>>) =
            next_update(&listener).read2().expect("Update");
        assert_eq!(again["count"].0.as_i64(), Some(3));
        totals.send(Counters { red: 0, grey: 8 }).expect("sent");
        let (_, calm): (String, HashMap<String, Variant<Box<dyn RefArg>>>) =
            next_update(&listener).read2().expect("Update");
        assert_eq!(calm["count"].0.as_i64(), Some(0));
        assert_eq!(calm["count-visible"].0.as_i64(), Some(0));
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

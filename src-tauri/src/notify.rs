//! How the hub's `notify` events become native notifications (the Desktop Notifications
//! specification's `org.freedesktop.Notifications` on the session bus, over libdbus).
//! Whom to notify is the hub's decision (switchboard-core); this only decides presentation:
//! Do not disturb, no notification for the chat open in a focused window, several messages of
//! one chat within 10 s as one notification, and a click that opens the chat.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use switchboard_core::{Grouped, NotificationGroups};
use switchboard_wire::NotifyEvent;

/// What the presenter needs from the app around it.
pub trait Window: Send + Sync + 'static {
    fn is_focused(&self) -> bool;
    /// Brings the window forward with `chat` open.
    fn open_chat(&self, chat: &str);
}

pub struct Notifier<W: Window> {
    window: Arc<W>,
    dnd: AtomicBool,
    open_chat: Mutex<Option<String>>,
    groups: Mutex<NotificationGroups>,
    /// The thread that shows notifications and hears their clicks, started with the first.
    desk: OnceLock<Option<DeskHandle>>,
    /// The bus it uses (tests: a private one); the session's when `None`.
    address: Option<String>,
    russian: bool,
}

/// What to show for one notify event, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub summary: String,
    pub body: String,
    /// Replace this chat's previous notification (its group).
    pub replaces: bool,
}

impl<W: Window> Notifier<W> {
    pub fn new(window: W, russian: bool) -> Self {
        Self::on_bus(window, russian, None)
    }

    /// A notifier on the bus at `address` (or the session's).
    pub fn on_bus(window: W, russian: bool, address: Option<String>) -> Self {
        Notifier {
            window: Arc::new(window),
            dnd: AtomicBool::new(false),
            open_chat: Mutex::new(None),
            groups: Mutex::new(NotificationGroups::default()),
            desk: OnceLock::new(),
            address,
            russian,
        }
    }

    /// Hands `ask` to the notifications thread (started now if it is not yet).
    fn ask(&self, ask: Ask) {
        let desk = self
            .desk
            .get_or_init(|| DeskHandle::start(self.window.clone(), self.address.clone()));
        match desk {
            Some(desk) => desk.send(ask),
            None => tracing::warn!("notifications are off: their thread did not start"),
        }
    }

    pub fn set_do_not_disturb(&self, on: bool) {
        self.dnd.store(on, Ordering::SeqCst);
    }

    pub fn do_not_disturb(&self) -> bool {
        self.dnd.load(Ordering::SeqCst)
    }

    /// The chat the window shows now (`None`: none).
    pub fn set_open_chat(&self, chat: Option<String>) {
        *self.open_chat.lock().unwrap_or_else(|e| e.into_inner()) = chat;
    }

    /// Decides what one notify event shows at `now_ms`.
    pub fn decide(&self, event: &NotifyEvent, now_ms: i64) -> Option<Shown> {
        if self.do_not_disturb() {
            return None;
        }
        let open = self
            .open_chat
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if open.as_deref() == Some(event.chat.as_str()) && self.window.is_focused() {
            return None;
        }
        let grouped = self
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .arrive(&event.chat, now_ms);
        let crm = match &event.crm {
            Some(c) => format!("\n{}: {}", kind_label(c.kind, self.russian), c.title),
            None => String::new(),
        };
        // A file without a caption is named by its kind.
        let text = match (
            event.text.is_empty(),
            message_label(event.kind, self.russian),
        ) {
            (true, Some(label)) => label.to_owned(),
            (false, Some(label)) => format!("{label} · {}", event.text),
            (_, None) => event.text.clone(),
        };
        let body = match grouped {
            Grouped::New => format!("{text}{crm}"),
            Grouped::Replace { count } => {
                format!("{} · {text}{crm}", new_messages(count, self.russian),)
            }
        };
        Some(Shown {
            summary: event.title.clone(),
            body,
            replaces: grouped != Grouped::New,
        })
    }

    /// At a sign-out: the notifications shown are closed (their text is clients'), their
    /// clicks no longer answered, and a notification still on its way is closed as it comes.
    pub fn forget(&self) {
        *self.groups.lock().unwrap_or_else(|e| e.into_inner()) = NotificationGroups::default();
        if self.desk.get().is_some() {
            self.ask(Ask::Forget);
        }
    }

    /// Shows the event; a click on it opens the chat.
    pub fn show(&self, event: NotifyEvent, now_ms: i64) {
        if let Some(shown) = self.decide(&event, now_ms) {
            self.ask(Ask::Show {
                chat: event.chat,
                shown,
            });
        }
    }
}

const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";

/// How long the notification server may take to answer: a server started on demand (dunst,
/// mako, xfce4-notifyd) takes a moment the first time.
const NOTIFY_TIME: Duration = Duration::from_secs(25);

/// How many shown notifications are remembered for their clicks; the oldest is forgotten.
const REMEMBERED: usize = 256;

/// What the notifications thread is asked.
pub enum Ask {
    Show { chat: String, shown: Shown },
    Forget,
}

/// The notifications thread, from the app's side: asks go by a channel, and while the thread
/// waits for the bus a second thread wakes it with a signal there (it waits for nothing else).
/// Nothing here blocks the caller.
struct DeskHandle {
    asks: std::sync::mpsc::Sender<Ask>,
    wake: std::sync::mpsc::Sender<()>,
}

impl DeskHandle {
    fn start<W: Window>(window: Arc<W>, address: Option<String>) -> Option<DeskHandle> {
        let (asks, rx) = std::sync::mpsc::channel();
        let (wake, woken) = std::sync::mpsc::channel();
        let listening = Arc::new(Mutex::new(None));
        let (heard, desk_address) = (listening.clone(), address.clone());
        std::thread::Builder::new()
            .name("notifications".into())
            .spawn(move || desk(rx, &*window, desk_address, &heard))
            .map_err(|error| tracing::warn!(%error, "no notifications"))
            .ok()?;
        std::thread::Builder::new()
            .name("notifications-waker".into())
            .spawn(move || waker(woken, address, &listening))
            .map_err(|error| tracing::warn!(%error, "no notifications"))
            .ok()?;
        Some(DeskHandle { asks, wake })
    }

    fn send(&self, ask: Ask) {
        if self.asks.send(ask).is_ok() {
            let _ = self.wake.send(());
        }
    }
}

/// Wakes the notifications thread while it waits for the bus (its name is in `listening`), by a
/// signal from a connection of its own; read after the ask is queued, so a thread not listening
/// yet takes the ask before it listens. A wake that fails is made up for by the thread's own
/// look at its asks (`LOOK`).
fn waker(
    woken: std::sync::mpsc::Receiver<()>,
    address: Option<String>,
    listening: &Mutex<Option<String>>,
) {
    let mut bus: Option<Bus> = None;
    while woken.recv().is_ok() {
        while woken.try_recv().is_ok() {}
        let Some(desk) = listening.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
            continue;
        };
        if bus.is_none() {
            bus = Bus::open(address.as_deref(), false)
                .map_err(|error| tracing::debug!(%error, "the notifications thread not woken"))
                .ok();
        }
        let Some(b) = &bus else { continue };
        if let Ok(mut wake) = dbus::Message::new_signal(WAKE_PATH, WAKE_INTERFACE, "Wake") {
            wake.set_destination(Some(desk.into()));
            let _ = b.channel().send(wake);
        }
        b.channel().flush();
        crate::shell::answer_pending(b.channel(), |_| {});
        if !b.channel().is_connected() {
            bus = None;
        }
    }
}

/// How long the notifications thread waits for the bus before it looks at its asks anyway.
const LOOK: Duration = Duration::from_secs(5);

const WAKE_PATH: &str = "/app/switchboard/desktop/Notifications";
const WAKE_INTERFACE: &str = "app.switchboard.desktop.Wake";

/// The notifications thread: one connection for as long as the app runs — the server knows a
/// notification by the connection that showed it (GNOME replaces, closes and keeps them only
/// for it) and may send its clicks to that connection alone. It shows one notification at a time
/// per chat (a chat's next waits for the server's id, to replace it), and believes clicks only
/// from the server, in the specification's shape. It blocks on the bus, or on the asks while it
/// has no connection: no timer wakes it.
fn desk<W: Window>(
    asks: std::sync::mpsc::Receiver<Ask>,
    window: &W,
    address: Option<String>,
    listening: &Mutex<Option<String>>,
) {
    use std::sync::mpsc::TryRecvError;
    let mut desk = Desk {
        address,
        ..Desk::default()
    };
    loop {
        // Said before the queue is read: an ask queued after this is woken for.
        let name = desk
            .bus
            .as_ref()
            .and_then(|bus| bus.channel().unique_name().map(str::to_owned));
        let on_bus = name.is_some();
        *listening.lock().unwrap_or_else(|e| e.into_inner()) = name;
        let mut asked = false;
        loop {
            match asks.try_recv() {
                Ok(ask) => {
                    desk.ask(ask);
                    asked = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        if asked && on_bus != desk.bus.is_some() {
            // Connected (or disconnected) meanwhile: say so before waiting.
            continue;
        }
        if desk.bus.is_some() {
            desk.hear(window);
        } else {
            match asks.recv() {
                Ok(ask) => desk.ask(ask),
                Err(_) => return,
            }
        }
    }
}

struct Bus {
    conn: dbus::blocking::Connection,
}

impl Bus {
    /// A connection to the bus at `address` (or the session's); `notifications`: subscribed
    /// to the server's signals and its coming and going.
    fn open(address: Option<&str>, notifications: bool) -> Result<Bus, String> {
        let conn = crate::shell::connect(address).map_err(|e| e.to_string())?;
        if notifications {
            for rule in [
                format!(
                    "type='signal',sender='{NOTIFICATIONS}',path='{NOTIFICATIONS_PATH}',interface='{NOTIFICATIONS}'"
                ),
                format!(
                    "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{NOTIFICATIONS}'"
                ),
            ] {
                conn.add_match_no_cb(&rule).map_err(|e| e.to_string())?;
            }
        }
        Ok(Bus { conn })
    }

    fn channel(&self) -> &dbus::channel::Channel {
        self.conn.channel()
    }

    /// Sends a method call (its answer comes as a message with its serial).
    fn call(
        &self,
        to: &str,
        path: &str,
        interface: &str,
        member: &str,
        args: impl FnOnce(dbus::Message) -> dbus::Message,
    ) -> Result<u32, String> {
        let call = dbus::Message::new_method_call(to, path, interface, member)?;
        let serial = self
            .channel()
            .send(args(call))
            .map_err(|()| "the session bus took no message".to_owned())?;
        self.channel().flush();
        Ok(serial)
    }

    fn notify(&self, summary: &str, body: &str, replaces: u32) -> Result<u32, String> {
        use dbus::arg::{RefArg, Variant};
        let hints: HashMap<&str, Variant<Box<dyn RefArg>>> = HashMap::from([(
            "desktop-entry",
            Variant(Box::new("Switchboard".to_owned()) as Box<dyn RefArg>),
        )]);
        self.call(
            NOTIFICATIONS,
            NOTIFICATIONS_PATH,
            NOTIFICATIONS,
            "Notify",
            |m| {
                m.append3("Switchboard", replaces, "")
                    .append3(summary, body, vec!["default", "Open"])
                    .append2(hints, -1i32)
            },
        )
    }

    fn close(&self, id: u32) {
        let closed = self.call(
            NOTIFICATIONS,
            NOTIFICATIONS_PATH,
            NOTIFICATIONS,
            "CloseNotification",
            |m| m.append1(id),
        );
        if let Err(error) = closed {
            tracing::debug!(%error, id, "notification not closed");
        }
    }
}

/// A `Notify` the server has not answered yet.
struct Posting {
    chat: String,
    shown: Shown,
    /// The id it replaces (0: none).
    replaces: u32,
    since: std::time::Instant,
    /// Asked before a sign-out: closed as soon as its id comes.
    forgotten: bool,
}

#[derive(Default)]
struct Desk {
    address: Option<String>,
    bus: Option<Bus>,
    /// The server's unique name: its signals are believed from it only.
    server: Option<String>,
    /// `Notify` calls on their way, by serial.
    posting: HashMap<u32, Posting>,
    /// The next notification of a chat whose previous is on its way (the latest only).
    next: HashMap<String, Shown>,
    /// Shown notifications: each id's chat, oldest first.
    shown: std::collections::VecDeque<(u32, String)>,
    /// Each chat's newest notification, to replace.
    newest: HashMap<String, u32>,
}

impl Desk {
    fn show(&mut self, chat: String, shown: Shown) {
        // A server that never answers: its chat's next is not held back for ever (a forgotten
        // one is kept, to be closed if its answer still comes).
        let late: Vec<u32> = self
            .posting
            .iter()
            .filter(|(_, p)| !p.forgotten && p.since.elapsed() >= NOTIFY_TIME)
            .map(|(serial, _)| *serial)
            .collect();
        for serial in late {
            if let Some(p) = self.posting.remove(&serial) {
                if p.chat != chat {
                    self.show_next(p.chat);
                }
            }
        }
        if self
            .posting
            .values()
            .any(|p| p.chat == chat && !p.forgotten)
        {
            self.next.insert(chat, shown);
            return;
        }
        self.next.remove(&chat);
        if self.bus.is_none() {
            match Bus::open(self.address.as_deref(), true) {
                Ok(bus) => self.bus = Some(bus),
                Err(error) => return tracing::warn!(%error, "notification not shown"),
            }
        }
        let Some(bus) = &self.bus else { return };
        let replaces = if shown.replaces {
            self.newest.get(&chat).copied().unwrap_or(0)
        } else {
            0
        };
        match bus.notify(&shown.summary, &shown.body, replaces) {
            Ok(serial) => {
                self.posting.insert(
                    serial,
                    Posting {
                        chat,
                        shown,
                        replaces,
                        since: std::time::Instant::now(),
                        forgotten: false,
                    },
                );
            }
            Err(error) => {
                tracing::warn!(%error, "notification not shown");
                self.bus = None;
            }
        }
    }

    /// What waited for `chat`'s notification on its way, shown now.
    fn show_next(&mut self, chat: String) {
        if let Some(next) = self.next.remove(&chat) {
            self.show(chat, next);
        }
    }

    fn forget(&mut self) {
        if let Some(bus) = &self.bus {
            for (id, _) in &self.shown {
                bus.close(*id);
            }
        }
        self.shown.clear();
        self.newest.clear();
        self.next.clear();
        for posting in self.posting.values_mut() {
            posting.forgotten = true;
        }
    }

    fn ask(&mut self, ask: Ask) {
        match ask {
            Ask::Show { chat, shown } => self.show(chat, shown),
            Ask::Forget => self.forget(),
        }
    }

    /// Waits for the bus (a wake-up signal ends the wait when an ask comes), then acts on what
    /// it brought.
    fn hear<W: Window>(&mut self, window: &W) {
        let Some(bus) = &self.bus else { return };
        // What a flush read already is taken first: the wait is for what has not come yet.
        let mut messages: Vec<_> = std::iter::from_fn(|| bus.channel().pop_message()).collect();
        let read = if messages.is_empty() {
            let read = bus.channel().read_write(Some(LOOK));
            messages.extend(std::iter::from_fn(|| bus.channel().pop_message()));
            read
        } else {
            Ok(())
        };
        let gone = read.is_err() || !bus.channel().is_connected();
        for msg in messages {
            self.message(msg, window);
        }
        if gone {
            // The bus went, the server's ids with it: what was on its way is shown anew on a
            // new connection.
            tracing::info!("the session bus went: notifications connect again");
            let Desk {
                address,
                posting,
                mut next,
                ..
            } = std::mem::take(self);
            self.address = address;
            for p in posting.into_values().filter(|p| !p.forgotten) {
                let shown = next.remove(&p.chat).unwrap_or(p.shown);
                self.show(
                    p.chat,
                    Shown {
                        replaces: false,
                        ..shown
                    },
                );
            }
        }
    }

    fn message<W: Window>(&mut self, msg: dbus::Message, window: &W) {
        use dbus::message::MessageType;
        match msg.msg_type() {
            MessageType::MethodReturn | MessageType::Error => self.answered(msg),
            MessageType::MethodCall => {
                // A peer's Ping or a call to nothing here: answered, as libdbus's users do.
                if let (Some(bus), Some(reply)) = (&self.bus, dbus::channel::default_reply(&msg)) {
                    let _ = bus.channel().send(reply);
                }
            }
            MessageType::Signal => self.signal(msg, window),
        }
    }

    /// The server's answer to a `Notify`.
    fn answered(&mut self, msg: dbus::Message) {
        let Some(posting) = msg.get_reply_serial().and_then(|s| self.posting.remove(&s)) else {
            return;
        };
        let Posting {
            chat,
            shown,
            replaces,
            forgotten,
            ..
        } = posting;
        let id = match (msg.msg_type(), msg.read1::<u32>()) {
            (dbus::message::MessageType::MethodReturn, Ok(id)) => id,
            (_, _) => {
                tracing::warn!(error = ?msg.get1::<&str>(), "notification not shown");
                if forgotten {
                    return;
                }
                // A replacement the server refuses (an id it no longer knows) is shown anew,
                // with the chat's newest text.
                self.newest.remove(&chat);
                match self.next.remove(&chat) {
                    Some(next) => self.show(
                        chat,
                        Shown {
                            replaces: false,
                            ..next
                        },
                    ),
                    None if replaces != 0 => self.show(
                        chat,
                        Shown {
                            replaces: false,
                            ..shown
                        },
                    ),
                    None => {}
                }
                return;
            }
        };
        if forgotten {
            if let Some(bus) = &self.bus {
                bus.close(id);
            }
            return self.show_next(chat);
        }
        // The server is whoever answered (one started on demand answers as itself).
        let server = msg.sender().map(|s| s.to_string());
        if server != self.server {
            self.shown.clear();
            self.newest.clear();
            self.server = server;
        }
        self.shown.retain(|(shown, _)| *shown != id);
        self.newest.retain(|_, newest| *newest != id);
        self.shown.push_back((id, chat.clone()));
        while self.shown.len() > REMEMBERED {
            if let Some((old, _)) = self.shown.pop_front() {
                self.newest.retain(|_, newest| *newest != old);
            }
        }
        self.newest.insert(chat.clone(), id);
        self.show_next(chat);
    }

    fn signal<W: Window>(&mut self, msg: dbus::Message, window: &W) {
        let member = msg.member();
        if msg.sender().as_deref() == Some("org.freedesktop.DBus") {
            // The server went (or another took its name): its notifications went with it.
            let left = member.as_deref() == Some("NameOwnerChanged")
                && msg.read3::<&str, &str, &str>().is_ok_and(|(name, old, _)| {
                    name == NOTIFICATIONS && Some(old) == self.server.as_deref()
                });
            if left {
                self.server = None;
                self.shown.clear();
                self.newest.clear();
            }
            return;
        }
        let from_server = self.server.is_some()
            && msg.sender().as_deref() == self.server.as_deref()
            && msg.interface().as_deref() == Some(NOTIFICATIONS);
        if !from_server {
            return;
        }
        match member.as_deref() {
            Some("ActionInvoked") => {
                if let Ok((id, "default")) = msg.read2::<u32, &str>() {
                    if let Some((_, chat)) = self.shown.iter().find(|(shown, _)| *shown == id) {
                        window.open_chat(chat);
                    }
                }
            }
            Some("NotificationClosed") => {
                if let Ok(id) = msg.read1::<u32>() {
                    self.shown.retain(|(shown, _)| *shown != id);
                    self.newest.retain(|_, newest| *newest != id);
                }
            }
            _ => {}
        }
    }
}

/// What a message carries, named ("Photo", «Фото»); `None` for text.
fn message_label(kind: switchboard_core::MessageKind, russian: bool) -> Option<&'static str> {
    use switchboard_core::MessageKind::*;
    Some(match (kind, russian) {
        (Text, _) => return None,
        (Image, false) => "Photo",
        (Image, true) => "Фото",
        (Audio, false) => "Voice message",
        (Audio, true) => "Голосовое сообщение",
        (Video, false) => "Video",
        (Video, true) => "Видео",
        (Document, false) => "Document",
        (Document, true) => "Документ",
        (Vcard, false) => "Contact",
        (Vcard, true) => "Контакт",
        (Geo, false) => "Location",
        (Geo, true) => "Геопозиция",
        (MissingCall, false) => "Missed call",
        (MissingCall, true) => "Пропущенный звонок",
        (Transfer, false) => "Chat handed to you",
        (Transfer, true) => "Чат передан вам",
        (Unsupported | Unknown, false) => "A message",
        (Unsupported | Unknown, true) => "Сообщение",
    })
}

fn kind_label(kind: switchboard_core::EntityKind, russian: bool) -> &'static str {
    use switchboard_core::EntityKind::*;
    match (kind, russian) {
        (Lead, false) => "Lead",
        (Contact, false) => "Contact",
        (Deal, false) => "Deal",
        (Lead, true) => "Лид",
        (Contact, true) => "Контакт",
        (Deal, true) => "Сделка",
    }
}

/// "3 new messages" / «3 новых сообщения».
pub fn new_messages(count: u32, russian: bool) -> String {
    if !russian {
        return format!("{count} new messages");
    }
    let word = match (count % 10, count % 100) {
        (_, 11..=14) => "новых сообщений",
        (1, _) => "новое сообщение",
        (2..=4, _) => "новых сообщения",
        _ => "новых сообщений",
    };
    format!("{count} {word}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::test_bus::PrivateBus;
    use dbus::blocking::Connection;
    use std::sync::mpsc;

    /// What the fake server was asked.
    #[derive(Debug, Clone, PartialEq)]
    enum Asked {
        /// `Notify` from `sender`, replacing `replaces` (0: none), shown as `id`.
        Notify {
            sender: String,
            replaces: u32,
            id: u32,
            body: String,
        },
        Close(u32),
    }

    /// A notification server on a private bus that keeps GNOME's rule — a notification is
    /// replaced or closed only by the connection that showed it — tells `asked` what it was
    /// asked, and sends the signals handed to it, in order.
    fn fake_server(address: &str, asked: mpsc::Sender<Asked>) -> mpsc::Sender<dbus::Message> {
        let (ready_tx, ready) = mpsc::channel();
        let (tx, signals) = mpsc::channel::<dbus::Message>();
        let address = address.to_owned();
        std::thread::spawn(move || {
            use dbus::arg::{RefArg, Variant};
            use dbus::channel::MatchingReceiver;
            let conn = Connection::new_address(&address).expect("server connects");
            conn.request_name(NOTIFICATIONS, false, false, true)
                .expect("server name");
            let owners = Arc::new(Mutex::new(HashMap::<u32, String>::new()));
            let (shown_by, asked_close) = (owners.clone(), asked.clone());
            conn.start_receive(
                dbus::message::MatchRule::new_method_call().with_member("Notify"),
                Box::new(move |call, conn| {
                    // Exactly the specification's arguments (susssasa{sv}i), or refused.
                    type Notify = (
                        String,
                        u32,
                        String,
                        String,
                        String,
                        Vec<String>,
                        HashMap<String, Variant<Box<dyn RefArg>>>,
                        i32,
                    );
                    let sender = call.sender().map(|s| s.to_string()).unwrap_or_default();
                    let mut owners = owners.lock().expect("owners");
                    let answer = match call.read_all::<Notify>() {
                        Ok((app, replaces, _, _, body, actions, _, -1))
                            if app == "Switchboard"
                                && actions == ["default", "Open"]
                                && (replaces == 0 || owners.get(&replaces) == Some(&sender)) =>
                        {
                            let id = if replaces == 0 {
                                owners.len() as u32 + 1
                            } else {
                                replaces
                            };
                            owners.insert(id, sender.clone());
                            let _ = asked.send(Asked::Notify {
                                sender,
                                replaces,
                                id,
                                body,
                            });
                            call.method_return().append1(id)
                        }
                        _ => dbus::MethodErr::invalid_arg("Notify").to_message(&call),
                    };
                    let _ = conn.channel().send(answer);
                    true
                }),
            );
            conn.start_receive(
                dbus::message::MatchRule::new_method_call().with_member("CloseNotification"),
                Box::new(move |call, conn| {
                    let sender = call.sender().map(|s| s.to_string());
                    let answer = match call.read1::<u32>() {
                        Ok(id) if shown_by.lock().expect("owners").get(&id) == sender.as_ref() => {
                            let _ = asked_close.send(Asked::Close(id));
                            call.method_return()
                        }
                        _ => dbus::MethodErr::invalid_arg("CloseNotification").to_message(&call),
                    };
                    let _ = conn.channel().send(answer);
                    true
                }),
            );
            let _ = ready_tx.send(());
            loop {
                if conn.process(Duration::from_millis(10)).is_err() {
                    return;
                }
                match signals.try_recv() {
                    Ok(signal) => {
                        let _ = conn.channel().send(signal);
                        conn.channel().flush();
                    }
                    Err(mpsc::TryRecvError::Empty) => {}
                    Err(mpsc::TryRecvError::Disconnected) => return,
                }
            }
        });
        ready.recv().expect("the server is up");
        tx
    }

    fn signal(member: &str) -> dbus::Message {
        dbus::Message::new_signal(NOTIFICATIONS_PATH, NOTIFICATIONS, member).expect("signal")
    }

    /// A window that tells which chats it was asked to open.
    struct Opened(Mutex<mpsc::Sender<String>>);
    impl Window for Opened {
        fn is_focused(&self) -> bool {
            false
        }
        fn open_chat(&self, chat: &str) {
            let _ = self.0.lock().expect("opened").send(chat.to_owned());
        }
    }

    /// A notifier on a private bus with a fake server: (bus, notifier, what the server was
    /// asked, the server's signals, the chats opened).
    #[allow(clippy::type_complexity)]
    fn desk() -> (
        PrivateBus,
        Notifier<Opened>,
        mpsc::Receiver<Asked>,
        mpsc::Sender<dbus::Message>,
        mpsc::Receiver<String>,
    ) {
        let bus = PrivateBus::start();
        let (asked_tx, asked) = mpsc::channel();
        let server = fake_server(&bus.1, asked_tx);
        let (opened_tx, opened) = mpsc::channel();
        let notifier = Notifier::on_bus(Opened(Mutex::new(opened_tx)), false, Some(bus.1.clone()));
        (bus, notifier, asked, server, opened)
    }

    fn next<T>(rx: &mpsc::Receiver<T>) -> T {
        rx.recv_timeout(Duration::from_secs(5)).expect("within 5 s")
    }

    #[test]
    fn a_click_opens_its_chat_only_from_the_server_in_the_specifications_shape() {
        let (bus, notifier, asked, server, opened) = desk();
        notifier.show(event("a", "one"), 0);
        let Asked::Notify {
            sender: app, id: a, ..
        } = next(&asked)
        else {
            panic!("not shown")
        };
        notifier.show(event("b", "two"), 0);
        let Asked::Notify { id: b, .. } = next(&asked) else {
            panic!("not shown")
        };
        // Another program "clicks" a's, sent to the app's connection itself (the bus would not
        // route a broadcast from it to the app's match): not believed. Its round trip to the
        // bus afterwards makes sure the bus passed it on before the server's signals below.
        let spoofer = Connection::new_address(&bus.1).expect("spoofer");
        let mut spoof = signal("ActionInvoked").append2(a, "default");
        spoof.set_destination(Some(app.clone().into()));
        spoofer.channel().send(spoof).expect("spoofed");
        let _: (String,) = spoofer
            .with_proxy(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                Duration::from_secs(2),
            )
            .method_call("org.freedesktop.DBus", "GetId", ())
            .expect("round trip");
        // The server itself: misshapen, another action, an id it never gave: ignored, and
        // nothing panics. Then b's click.
        for ignored in [
            signal("ActionInvoked").append1(a),
            signal("ActionInvoked").append2(a, "other"),
            signal("ActionInvoked").append2(99u32, "default"),
            signal("ActionInvoked").append2(b, "default"),
        ] {
            server.send(ignored).expect("sent");
        }
        assert_eq!(next(&opened), "b");
        // And a's, from the server: believed.
        server
            .send(signal("ActionInvoked").append2(a, "default"))
            .expect("sent");
        assert_eq!(next(&opened), "a");
    }

    #[test]
    fn a_chats_next_messages_replace_its_notification_from_the_same_connection() {
        let (_bus, notifier, asked, _server, _opened) = desk();
        // Three at once: the second and third wait for the first's id, the latest shown.
        notifier.show(event("a", "one"), 0);
        notifier.show(event("a", "two"), 1_000);
        notifier.show(event("a", "three"), 2_000);
        let Asked::Notify {
            sender,
            replaces: 0,
            id,
            ..
        } = next(&asked)
        else {
            panic!("the first is new")
        };
        // Whether "two" got through before the first answer or not, every later one replaces
        // the first from the same connection, and the last says "three".
        loop {
            let again = next(&asked);
            assert!(
                matches!(&again, Asked::Notify { sender: s, replaces, id: same, .. }
                    if *s == sender && *replaces == id && *same == id),
                "{again:?}"
            );
            if matches!(&again, Asked::Notify { body, .. } if body.contains("three")) {
                break;
            }
        }
    }

    #[test]
    fn signing_out_closes_every_notification_shown() {
        let (_bus, notifier, asked, _server, _opened) = desk();
        notifier.show(event("a", "one"), 0);
        notifier.show(event("b", "two"), 0);
        let shown: Vec<u32> = (0..2)
            .map(|_| match next(&asked) {
                Asked::Notify { id, .. } => id,
                other => panic!("{other:?}"),
            })
            .collect();
        // a's earlier group stays on screen beside its new one: both are closed.
        notifier.show(event("a", "later"), 60_000);
        let Asked::Notify {
            id: later,
            replaces: 0,
            ..
        } = next(&asked)
        else {
            panic!("a new group")
        };
        notifier.forget();
        let mut closed: Vec<u32> = (0..3)
            .map(|_| match next(&asked) {
                Asked::Close(id) => id,
                other => panic!("{other:?}"),
            })
            .collect();
        closed.sort();
        let mut expected = [shown[0], shown[1], later];
        expected.sort();
        assert_eq!(closed, expected);
    }

    struct FakeWindow(AtomicBool);
    impl Window for FakeWindow {
        fn is_focused(&self) -> bool {
            self.0.load(Ordering::SeqCst)
        }
        fn open_chat(&self, _chat: &str) {}
    }

    fn event(chat: &str, text: &str) -> NotifyEvent {
        NotifyEvent {
            chat: chat.into(),
            title: "Irina · WhatsApp".into(),
            text: text.into(),
            kind: switchboard_core::MessageKind::Text,
            crm: None,
        }
    }

    /// A client's file is named by its kind in the viewer's language, with its caption if any.
    #[test]
    fn a_file_is_named_by_its_kind() {
        let photo = |text: &str| NotifyEvent {
            kind: switchboard_core::MessageKind::Image,
            ..event("p", text)
        };
        let ru = Notifier::new(FakeWindow(AtomicBool::new(false)), true);
        assert_eq!(
            ru.decide(&photo(""), 0).map(|s| s.body),
            Some("Фото".into())
        );
        let en = Notifier::new(FakeWindow(AtomicBool::new(false)), false);
        assert_eq!(
            en.decide(&photo("the invoice"), 0).map(|s| s.body),
            Some("Photo · the invoice".into())
        );
    }

    #[test]
    fn groups_silences_and_do_not_disturb() {
        let n = Notifier::new(FakeWindow(AtomicBool::new(true)), false);
        assert_eq!(
            n.decide(&event("a", "one"), 0).map(|s| s.body),
            Some("one".into())
        );
        let second = n.decide(&event("a", "two"), 3_000).expect("shown");
        assert_eq!(
            (second.body.as_str(), second.replaces),
            ("2 new messages · two", true)
        );
        n.set_open_chat(Some("b".into()));
        assert_eq!(
            n.decide(&event("b", "hi"), 4_000),
            None,
            "the open chat in a focused window"
        );
        n.window.0.store(false, Ordering::SeqCst);
        assert!(
            n.decide(&event("b", "hi"), 5_000).is_some(),
            "the window is not focused"
        );
        n.set_do_not_disturb(true);
        assert_eq!(n.decide(&event("c", "x"), 6_000), None);
    }

    #[test]
    fn the_linked_crm_entity_is_named() {
        let n = Notifier::new(FakeWindow(AtomicBool::new(false)), true);
        let mut e = event("a", "hello");
        e.crm = Some(switchboard_wire::NotifyCrm {
            kind: switchboard_core::EntityKind::Deal,
            id: "7".into(),
            title: "Поставка".into(),
        });
        assert_eq!(
            n.decide(&e, 0).map(|s| s.body),
            Some("hello\nСделка: Поставка".into())
        );
    }

    #[test]
    fn russian_plurals() {
        let ru = |n| new_messages(n, true);
        assert_eq!(ru(1), "1 новое сообщение");
        assert_eq!(ru(3), "3 новых сообщения");
        assert_eq!(ru(5), "5 новых сообщений");
        assert_eq!(ru(11), "11 новых сообщений");
        assert_eq!(ru(22), "22 новых сообщения");
    }
}

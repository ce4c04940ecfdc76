//! How the hub's `notify` events become native notifications (the Desktop Notifications
//! specification's `org.freedesktop.Notifications` on the session bus, over libdbus).
//! Whom to notify is the hub's decision (switchboard-core); this only decides presentation:
//! Do not disturb, no notification for the chat open in a focused window, several messages of
//! one chat within 10 s as one notification, and a click that opens the chat.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
    window: W,
    dnd: AtomicBool,
    open_chat: Mutex<Option<String>>,
    groups: Mutex<NotificationGroups>,
    /// Each chat's current notification: its D-Bus id, to replace it, and the flag that ends
    /// the wait for its click once it is replaced.
    shown: Arc<Mutex<HashMap<String, (u32, Replaced)>>>,
    /// Every notification still waited on, oldest first: at most `WAITED` (a thread each).
    waited: Mutex<std::collections::VecDeque<Replaced>>,
    russian: bool,
}

/// Set when a notification is no longer waited on: replaced by a newer one, or too old.
type Replaced = Arc<AtomicBool>;

/// How many notifications are waited on for a click at most; an older one's wait ends.
const WAITED: usize = 64;

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
        Notifier {
            window,
            dnd: AtomicBool::new(false),
            open_chat: Mutex::new(None),
            groups: Mutex::new(NotificationGroups::default()),
            shown: Default::default(),
            waited: Default::default(),
            russian,
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

    /// At a sign-out: the notifications shown are closed (their text is clients') and none is
    /// waited on any more.
    pub fn forget(&self) {
        let ids: Vec<u32> = self
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, (id, done))| {
                done.store(true, Ordering::SeqCst);
                id
            })
            .collect();
        for waited in self
            .waited
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            waited.store(true, Ordering::SeqCst);
        }
        *self.groups.lock().unwrap_or_else(|e| e.into_inner()) = NotificationGroups::default();
        if !ids.is_empty() {
            let closing = std::thread::Builder::new()
                .name("notifications-closed".into())
                .spawn(move || close_on(None, &ids));
            if let Err(error) = closing {
                tracing::warn!(%error, "notifications not closed");
            }
        }
    }

    /// Shows the event (on its own thread: D-Bus calls block) and opens the chat on click.
    pub fn show(self: &Arc<Self>, event: NotifyEvent, now_ms: i64) {
        let Some(shown) = self.decide(&event, now_ms) else {
            return;
        };
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("notification".into())
            .spawn(move || {
                let previous = me
                    .shown
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&event.chat)
                    .map(|(id, _)| *id);
                let replaces = previous.filter(|_| shown.replaces).unwrap_or(0);
                let posted = match post(&shown.summary, &shown.body, replaces) {
                    Ok(posted) => posted,
                    Err(e) => return tracing::warn!(error = %e, "notification not shown"),
                };
                let done = Arc::new(AtomicBool::new(false));
                let before = me
                    .shown
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(event.chat.clone(), (posted.id, done.clone()));
                // The notification it replaced is this one now: only this wait answers its
                // click. (An earlier group's stays clickable, as long as it is not too old.)
                if let Some((id, replaced)) = before {
                    if id == posted.id {
                        replaced.store(true, Ordering::SeqCst);
                    }
                }
                {
                    let mut waited = me.waited.lock().unwrap_or_else(|e| e.into_inner());
                    waited.retain(|w| !w.load(Ordering::SeqCst));
                    waited.push_back(done.clone());
                    while waited.len() > WAITED {
                        if let Some(oldest) = waited.pop_front() {
                            oldest.store(true, Ordering::SeqCst);
                        }
                    }
                }
                let clicked = posted.clicked(&done);
                done.store(true, Ordering::SeqCst);
                if clicked {
                    me.window.open_chat(&event.chat);
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "notification not shown");
        }
    }
}

const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";

/// How long the notification server may take to show one: servers started on demand (dunst,
/// mako, xfce4-notifyd) take a moment the first time.
const NOTIFY_TIME: Duration = Duration::from_secs(25);

/// A notification shown, with the connection that hears what becomes of it (servers may send
/// its signals to the sender only).
pub struct Posted {
    conn: dbus::blocking::Connection,
    /// The server's unique name: its signals are believed from it only.
    server: String,
    pub id: u32,
}

/// Shows a notification (`replaces`: the id of the one it replaces, or 0), clickable.
pub fn post(summary: &str, body: &str, replaces: u32) -> Result<Posted, dbus::Error> {
    post_on(None, summary, body, replaces)
}

/// `post` on the bus at `address` (or the session's).
fn post_on(
    address: Option<&str>,
    summary: &str,
    body: &str,
    replaces: u32,
) -> Result<Posted, dbus::Error> {
    use dbus::arg::{RefArg, Variant};
    let conn = crate::shell::connect(address)?;
    // Subscribed first: a click that comes at once is not missed; and a server that goes
    // ends the wait.
    conn.add_match_no_cb(&format!(
        "type='signal',sender='{NOTIFICATIONS}',path='{NOTIFICATIONS_PATH}',interface='{NOTIFICATIONS}'"
    ))?;
    conn.add_match_no_cb(&format!(
        "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{NOTIFICATIONS}'"
    ))?;
    let hints: HashMap<&str, Variant<Box<dyn RefArg>>> = HashMap::from([(
        "desktop-entry",
        Variant(Box::new("Switchboard".to_owned()) as Box<dyn RefArg>),
    )]);
    let call =
        dbus::Message::new_method_call(NOTIFICATIONS, NOTIFICATIONS_PATH, NOTIFICATIONS, "Notify")
            .map_err(|e| dbus::Error::new_failed(&e))?
            .append3("Switchboard", replaces, "")
            .append3(summary, body, vec!["default", "Open"])
            .append2(hints, -1i32);
    let reply = conn
        .channel()
        .send_with_reply_and_block(call, NOTIFY_TIME)?;
    let id: u32 = reply.read1()?;
    // The server is whoever answered (a server started on demand answers as itself).
    let server = reply
        .sender()
        .map(|s| s.to_string())
        .ok_or_else(|| dbus::Error::new_failed("the notification server's answer has no sender"))?;
    Ok(Posted { conn, server, id })
}

/// Closes notifications `ids` (`CloseNotification`) on the bus at `address` (or the session's).
fn close_on(address: Option<&str>, ids: &[u32]) {
    let conn = match crate::shell::connect(address) {
        Ok(conn) => conn,
        Err(e) => return tracing::debug!(error = %e, "notifications not closed"),
    };
    let server = conn.with_proxy(NOTIFICATIONS, NOTIFICATIONS_PATH, Duration::from_secs(2));
    for id in ids {
        let closed: Result<(), _> = server.method_call(NOTIFICATIONS, "CloseNotification", (*id,));
        if let Err(e) = closed {
            tracing::debug!(error = %e, id, "notification not closed");
        }
    }
}

impl Posted {
    /// Waits for what becomes of the notification: `true` when it is clicked (its default
    /// action); `false` when it is closed, `replaced` is set, or the bus goes. Only the server's
    /// signals count, and only in the shape the specification gives them; others are ignored.
    pub fn clicked(&self, replaced: &AtomicBool) -> bool {
        use dbus::message::MessageType;
        let channel = self.conn.channel();
        while !replaced.load(Ordering::SeqCst) {
            let msg = match channel.blocking_pop_message(Duration::from_secs(30)) {
                Ok(Some(msg)) => msg,
                Ok(None) if channel.is_connected() => continue,
                _ => return false,
            };
            if replaced.load(Ordering::SeqCst) {
                return false;
            }
            if msg.msg_type() == MessageType::MethodCall {
                // A peer's Ping or a call to nothing here: answered, as libdbus's users do.
                if let Some(reply) = dbus::channel::default_reply(&msg) {
                    let _ = channel.send(reply);
                }
                continue;
            }
            // The server went (or another took its name): its notifications went with it.
            if msg.msg_type() == MessageType::Signal
                && msg.sender().as_deref() == Some("org.freedesktop.DBus")
                && msg.member().as_deref() == Some("NameOwnerChanged")
            {
                if msg
                    .read3::<&str, &str, &str>()
                    .is_ok_and(|(name, old, _)| name == NOTIFICATIONS && old == self.server)
                {
                    return false;
                }
                continue;
            }
            let from_server = msg.msg_type() == MessageType::Signal
                && msg.sender().as_deref() == Some(self.server.as_str())
                && msg.interface().as_deref() == Some(NOTIFICATIONS);
            if !from_server {
                continue;
            }
            match msg.member().as_deref() {
                Some("ActionInvoked")
                    if msg
                        .read2::<u32, &str>()
                        .is_ok_and(|(id, action)| id == self.id && action == "default") =>
                {
                    return true
                }
                Some("NotificationClosed") if msg.read1::<u32>().is_ok_and(|id| id == self.id) => {
                    return false
                }
                _ => {}
            }
        }
        false
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

    /// A notification server on a private bus: answers `Notify` with id 7 and sends the
    /// signals the test hands it, in order.
    fn fake_server(address: &str) -> mpsc::Sender<dbus::Message> {
        fake_server_closing(address, mpsc::channel().0)
    }

    /// `fake_server` that tells `closed` each notification it is asked to close.
    fn fake_server_closing(
        address: &str,
        closed: mpsc::Sender<u32>,
    ) -> mpsc::Sender<dbus::Message> {
        let (ready_tx, ready) = mpsc::channel();
        let (tx, signals) = mpsc::channel::<dbus::Message>();
        let address = address.to_owned();
        std::thread::spawn(move || {
            use dbus::channel::MatchingReceiver;
            let conn = Connection::new_address(&address).expect("server connects");
            conn.request_name(NOTIFICATIONS, false, false, true)
                .expect("server name");
            conn.start_receive(
                dbus::message::MatchRule::new_method_call().with_member("Notify"),
                Box::new(|call, conn| {
                    use dbus::arg::{RefArg, Variant};
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
                    let answer = match call.read_all::<Notify>() {
                        Ok((app, _, _, _, _, actions, _, -1))
                            if app == "Switchboard" && actions == ["default", "Open"] =>
                        {
                            call.method_return().append1(7u32)
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
                    if let Ok(id) = call.read1::<u32>() {
                        let _ = closed.send(id);
                    }
                    let _ = conn.channel().send(call.method_return());
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

    /// What `clicked` answers, within 5 s.
    fn outcome(posted: Posted) -> bool {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(posted.clicked(&AtomicBool::new(false)));
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the wait ended")
    }

    #[test]
    fn a_click_counts_only_from_the_notification_server_in_the_specifications_shape() {
        let bus = PrivateBus::start();
        let server = fake_server(&bus.1);
        let posted = post_on(Some(&bus.1), "Oleg", "Hello", 0).expect("posted");
        assert_eq!(posted.id, 7);
        // Another program "clicks" it, sent to the app's connection itself (the bus would not
        // route a broadcast from it to the app's match): not believed. Its round trip to the
        // bus afterwards makes sure the bus passed it on before the server's signals below.
        let spoofer = Connection::new_address(&bus.1).expect("spoofer");
        let mut spoof = signal("ActionInvoked").append2(7u32, "default");
        spoof.set_destination(Some(posted.conn.unique_name().into_static()));
        spoofer.channel().send(spoof).expect("spoofed");
        let _: (String,) = spoofer
            .with_proxy(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                Duration::from_secs(2),
            )
            .method_call("org.freedesktop.DBus", "GetId", ())
            .expect("round trip");
        // The server itself, misshapen (no action), then about another notification: ignored,
        // and nothing panics.
        server
            .send(signal("ActionInvoked").append1(7u32))
            .expect("sent");
        server
            .send(signal("ActionInvoked").append2(7u32, "other"))
            .expect("sent");
        server
            .send(signal("ActionInvoked").append2(8u32, "default"))
            .expect("sent");
        server
            .send(signal("NotificationClosed").append2(7u32, 2u32))
            .expect("sent");
        assert!(!outcome(posted), "closed, never clicked");

        let posted = post_on(Some(&bus.1), "Oleg", "Hello again", 7).expect("posted");
        server
            .send(signal("ActionInvoked").append2(7u32, "default"))
            .expect("sent");
        assert!(outcome(posted), "clicked");
    }

    #[test]
    fn signing_out_closes_the_notifications_shown() {
        let bus = PrivateBus::start();
        let (closed, asked) = mpsc::channel();
        let _server = fake_server_closing(&bus.1, closed);
        close_on(Some(&bus.1), &[7, 9]);
        let got: Vec<u32> = (0..2)
            .map(|_| asked.recv_timeout(Duration::from_secs(5)).expect("closed"))
            .collect();
        assert_eq!(got, [7, 9]);
    }

    #[test]
    fn a_server_that_goes_ends_the_wait() {
        let bus = PrivateBus::start();
        let server = fake_server(&bus.1);
        let posted = post_on(Some(&bus.1), "Oleg", "Hello", 0).expect("posted");
        // The server's thread ends and its connection with it.
        drop(server);
        assert!(!outcome(posted), "gone, never clicked");
    }

    #[test]
    fn a_replaced_notification_is_no_longer_waited_on() {
        let bus = PrivateBus::start();
        let _server = fake_server(&bus.1);
        let posted = post_on(Some(&bus.1), "Oleg", "Hello", 0).expect("posted");
        let replaced = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let flag = replaced.clone();
        std::thread::spawn(move || {
            let _ = tx.send(posted.clicked(&flag));
        });
        replaced.store(true, Ordering::SeqCst);
        // The wait looks at the flag between messages, at least every 30 s: a signal wakes it.
        _server
            .send(signal("NotificationClosed").append2(99u32, 2u32))
            .expect("sent");
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(false));
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

//! How the hub's `notify` events become native notifications (notify-rust → D-Bus on Linux).
//! Whom to notify is the hub's decision (switchboard-core); this only decides presentation:
//! Do not disturb, no notification for the chat open in a focused window, several messages of
//! one chat within 10 s as one notification, and a click that opens the chat.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
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
    /// The D-Bus id of each chat's current notification, to replace it.
    shown: std::sync::Arc<Mutex<HashMap<String, u32>>>,
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
        Notifier {
            window,
            dnd: AtomicBool::new(false),
            open_chat: Mutex::new(None),
            groups: Mutex::new(NotificationGroups::default()),
            shown: Default::default(),
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

    /// Shows the event (on its own thread: D-Bus calls block) and opens the chat on click.
    pub fn show(self: &std::sync::Arc<Self>, event: NotifyEvent, now_ms: i64) {
        let Some(shown) = self.decide(&event, now_ms) else {
            return;
        };
        let me = self.clone();
        std::thread::spawn(move || {
            let mut n = notify_rust::Notification::new();
            n.appname("Switchboard")
                .summary(&shown.summary)
                .body(&shown.body)
                .action("default", "Open");
            let previous = me
                .shown
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&event.chat)
                .copied();
            if let (true, Some(id)) = (shown.replaces, previous) {
                n.id(id);
            }
            match n.show() {
                Ok(handle) => {
                    me.shown
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(event.chat.clone(), handle.id());
                    #[cfg(all(unix, not(target_os = "macos")))]
                    handle.wait_for_action(|action| {
                        if action == "default" {
                            me.window.open_chat(&event.chat);
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "notification not shown"),
            }
        });
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

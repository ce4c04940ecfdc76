//! The local store tells fetched news from what it already has, so the window redraws (and
//! asks again) only when something changed; its files are this user's alone.

use switchboard_core::{
    Badge, BadgeColor, Counters, CrmRef, Direction, EntityKind, Role, Settings,
};
use switchboard_desktop::local::{LocalStore, Within};
use switchboard_desktop::vm::{ChatFilter, SyncProgressVm};
use switchboard_wire::{
    Change, ChatView, EmployeeView, LastMessage, MessageView, SyncProgress, SyncResponse,
};

fn chat(id: &str, at: &str, color: Option<BadgeColor>) -> ChatView {
    ChatView {
        id: id.into(),
        channel_id: "wa".into(),
        chat_type: "whatsapp".into(),
        chat_id: "79161112233".into(),
        title: format!("Client {id}"),
        responsible_id: None,
        crm: vec![CrmRef {
            kind: EntityKind::Deal,
            id: "7".into(),
        }],
        last_message: Some(LastMessage {
            id: format!("m-{id}"),
            direction: Direction::In,
            text: format!("hello from {id}"),
            at: at.into(),
            kind: Default::default(),
            media_name: None,
            media_duration_ms: None,
        }),
        last_activity_at: at.into(),
        unanswered: Badge {
            count: u32::from(color.is_some()) * 2,
            color,
        },
        escalated: false,
    }
}

/// A client's text message `id` in `chat` at `at` (a test changes what it needs).
fn text_message(id: &str, chat: &str, at: &str, text: &str) -> MessageView {
    MessageView {
        id: id.into(),
        chat: chat.into(),
        direction: Direction::In,
        text: text.into(),
        content_uri: None,
        at: at.into(),
        author_id: None,
        status: switchboard_core::MessageStatus::Inbound,
        error: None,
        mirror: Default::default(),
        kind: Default::default(),
        media: None,
        place: None,
    }
}

/// Filters and totals are answered from the stored columns: "mine" is the red chats, "others"
/// the grey, all waiting chats first, then by activity; the tray's counters agree with the
/// list's.
#[test]
fn the_chat_list_filters_and_counts_from_its_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    store
        .apply(&SyncResponse {
            changes: vec![
                Change::Chat {
                    chat: chat("a", "2026-11-25T10:00:00.000Z", Some(BadgeColor::Red)),
                },
                Change::Chat {
                    chat: chat("b", "2026-11-25T11:00:00.000Z", Some(BadgeColor::Grey)),
                },
                Change::Chat {
                    chat: chat("c", "2026-11-25T12:00:00.000Z", None),
                },
            ],
            cursor: 3,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    let ids = |f| -> Vec<String> {
        let list = store.chat_list(f, 0, 50).expect("list");
        assert_eq!(list.counters, Counters { red: 1, grey: 1 });
        list.chats.into_iter().map(|c| c.id).collect()
    };
    assert_eq!(ids(ChatFilter::All), ["b", "a", "c"]);
    assert_eq!(ids(ChatFilter::Mine), ["a"]);
    assert_eq!(ids(ChatFilter::Others), ["b"]);
    assert_eq!(
        store.counters().expect("counters"),
        Counters { red: 1, grey: 1 }
    );
    let a = store
        .chat_list(ChatFilter::Mine, 0, 500)
        .expect("list")
        .chats
        .remove(0);
    assert_eq!(a.title, "Client a");
    assert_eq!(a.last_text, "hello from a");
    assert!(a.last_from_client);
    assert_eq!(
        a.badge,
        Badge {
            count: 2,
            color: Some(BadgeColor::Red)
        }
    );
    assert!(a.crm.is_empty(), "a list page reads no CRM links");
    let header = store.chat_row("a").expect("row").expect("a");
    assert_eq!(header.crm, chat("a", "", None).crm);
}

/// The list is read one window at a time: the rows from an offset, and how many there are.
#[test]
fn the_chat_list_is_read_one_window_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let changes = (0..30)
        .map(|i| Change::Chat {
            chat: chat(
                &format!("c{i:02}"),
                &format!("2026-11-25T10:{i:02}:00.000Z"),
                (i % 3 == 0).then_some(BadgeColor::Red),
            ),
        })
        .collect();
    store
        .apply(&SyncResponse {
            changes,
            cursor: 30,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    let page = store.chat_list(ChatFilter::All, 10, 5).expect("page");
    assert_eq!((page.offset, page.total), (10, 30));
    let ids: Vec<&str> = page.chats.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["c29", "c28", "c26", "c25", "c23"],
        "the ten waiting chats first, then the others newest first, from the offset"
    );
    let mine = store.chat_list(ChatFilter::Mine, 8, 5).expect("page");
    assert_eq!(
        (mine.total, mine.chats.len()),
        (10, 2),
        "the filter's own count"
    );
    assert_eq!(mine.counters, Counters { red: 10, grey: 0 });
    let row = store.chat_row("c07").expect("row").expect("c07");
    assert_eq!(row.title, "Client c07");
    assert!(store.chat_row("nope").expect("row").is_none());
}

/// A store synced before the columns existed gets them from the chats' stored views.
#[test]
fn an_older_store_gets_its_columns_from_the_stored_views() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        for sql in [
            include_str!("../../migrations/001_local.sql"),
            include_str!("../../migrations/002_outbox.sql"),
            include_str!("../../migrations/003_refusal.sql"),
        ] {
            conn.execute_batch(sql).expect("migrate");
        }
        conn.pragma_update(None, "user_version", 3)
            .expect("version");
        let old = chat("a", "2026-11-25T10:00:00.000Z", Some(BadgeColor::Grey));
        conn.execute(
            "INSERT INTO chats (id, last_activity_at, view) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                old.id,
                old.last_activity_at,
                serde_json::to_string(&old).expect("json")
            ],
        )
        .expect("row");
        let message = MessageView {
            id: "m1".into(),
            chat: "a".into(),
            direction: Direction::Out,
            text: "Добрый день".into(),
            content_uri: None,
            at: "2026-11-25T10:00:00.000Z".into(),
            author_id: None,
            status: switchboard_core::MessageStatus::Delivered,
            error: None,
            mirror: Default::default(),
            kind: Default::default(),
            media: None,
            place: None,
        };
        conn.execute(
            "INSERT INTO messages (id, chat, at, view) VALUES ('m1', 'a', ?1, ?2)",
            rusqlite::params![message.at, serde_json::to_string(&message).expect("json")],
        )
        .expect("message");
    }
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute("INSERT INTO meta (key, value) VALUES ('cursor', '42')", [])
            .expect("cursor");
    }
    let store = LocalStore::open(&path).expect("store");
    assert_eq!(
        store.cursor().expect("cursor"),
        0,
        "the chats stored before carry no `escalated`: the next sync is a snapshot"
    );
    let messages = store.messages("a").expect("messages");
    assert_eq!(
        (
            messages[0].text.as_str(),
            messages[0].direction,
            messages[0].status
        ),
        (
            "Добрый день",
            Direction::Out,
            switchboard_core::MessageStatus::Delivered
        ),
        "messages get their columns too"
    );
    let list = store.chat_list(ChatFilter::Others, 0, 50).expect("list");
    assert_eq!(list.counters, Counters { red: 0, grey: 1 });
    let a = &list.chats[0];
    assert_eq!(
        (a.title.as_str(), a.last_text.as_str()),
        ("Client a", "hello from a")
    );
    assert!(a.last_from_client);
    assert_eq!(
        a.badge,
        Badge {
            count: 2,
            color: Some(BadgeColor::Grey)
        }
    );
    assert!(a.crm.is_empty(), "a list page reads no CRM links");
    let header = store.chat_row("a").expect("row").expect("a");
    assert_eq!(header.crm, chat("a", "", None).crm);
}

#[test]
fn fetched_messages_count_as_news_only_when_new_or_different() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let mut m = MessageView {
        id: "m1".into(),
        chat: "c1".into(),
        direction: Direction::Out,
        text: "Добрый день".into(),
        content_uri: None,
        at: "2026-11-25T10:00:00.000Z".into(),
        author_id: Some("e1".into()),
        status: switchboard_core::MessageStatus::Sent,
        error: None,
        mirror: Default::default(),
        kind: Default::default(),
        media: None,
        place: None,
    };
    assert!(store.put_messages(std::slice::from_ref(&m)).expect("put"));
    assert!(!store.put_messages(std::slice::from_ref(&m)).expect("put"));
    m.status = switchboard_core::MessageStatus::Read;
    assert!(store.put_messages(std::slice::from_ref(&m)).expect("put"));
    assert_eq!(
        store.messages("c1").expect("messages")[0].status,
        switchboard_core::MessageStatus::Read
    );
}

/// A voice note's length reaches the list's preview; a contact's card and a location's place
/// reach the conversation, as the hub read them.
#[test]
fn a_voice_notes_length_a_contact_and_a_place_are_kept_for_the_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let mut voice = chat("v", "2026-11-25T10:00:00.000Z", Some(BadgeColor::Red));
    if let Some(last) = voice.last_message.as_mut() {
        last.kind = switchboard_core::MessageKind::Audio;
        last.media_duration_ms = Some(14_400);
    }
    store
        .apply(&SyncResponse {
            changes: vec![Change::Chat { chat: voice }],
            cursor: 1,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    let row = store.chat_row("v").expect("row").expect("v");
    assert_eq!(row.last_duration.as_deref(), Some("0:14"));
    assert_eq!(
        store.chat_row("v").expect("row").map(|r| r.last_kind),
        Some(switchboard_core::MessageKind::Audio)
    );
    let message = |id: &str, kind, media, place| MessageView {
        id: id.into(),
        chat: "v".into(),
        direction: Direction::In,
        text: String::new(),
        content_uri: None,
        at: format!("2026-11-25T10:00:0{}.000Z", id.len()),
        author_id: None,
        status: switchboard_core::MessageStatus::Inbound,
        error: None,
        mirror: Default::default(),
        kind,
        media,
        place,
    };
    let card = switchboard_core::ContactCard {
        name: Some("Мария Соколова".into()),
        organization: None,
        phones: vec!["+7 916 555-01-23".into()],
        emails: vec![],
    };
    let place = switchboard_core::Place {
        lat: 55.760186,
        lon: 37.618711,
        name: Some("Склад".into()),
    };
    store
        .put_messages(&[
            message(
                "k",
                switchboard_core::MessageKind::Vcard,
                Some(switchboard_wire::MediaView {
                    state: switchboard_core::MediaState::Stored,
                    name: Some("contact.vcf".into()),
                    mime: Some("text/vcard".into()),
                    size: Some(295),
                    error: None,
                    duration_ms: Some(3_000),
                    contact: Some(card.clone()),
                }),
                None,
            ),
            message(
                "gg",
                switchboard_core::MessageKind::Geo,
                None,
                Some(place.clone()),
            ),
        ])
        .expect("put");
    let shown = store.messages("v").expect("messages");
    let media = shown[0].media.as_ref().expect("a file");
    assert_eq!(media.contact.as_ref(), Some(&card));
    assert_eq!(media.duration.as_deref(), Some("0:03"));
    assert_eq!(
        shown[1].place,
        Some(switchboard_desktop::vm::PlaceVm {
            name: Some("Склад".into()),
            coordinates: "55.760186, 37.618711".into()
        })
    );
    assert_eq!(shown[0].place, None);
    // A location synced before hubs read places is read from its own text and link.
    let mut older = message("ggg", switchboard_core::MessageKind::Geo, None, None);
    older.text = "У входа".into();
    older.content_uri = Some("geo:59.93428,30.335099".into());
    store.put_messages(&[older]).expect("put");
    let shown = store.messages("v").expect("messages");
    let read = shown
        .iter()
        .find(|m| m.id == "ggg")
        .and_then(|m| m.place.clone());
    assert_eq!(
        read.map(|p| (p.name, p.coordinates)),
        Some((Some("У входа".into()), "59.93428, 30.335099".into()))
    );
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The store holds the session's token: the file and its WAL are 0600 from the start (whatever
/// the umask), in a 0700 directory.
#[cfg(unix)]
#[test]
fn a_new_store_is_readable_by_this_user_only() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("app-data");
    switchboard_desktop::local::private_dir(&dir).expect("data dir");
    assert_eq!(mode(&dir), 0o700);
    let path = dir.join("local.db");
    let store = LocalStore::open(&path).expect("store");
    store.set_meta(&[("token", "secret")]).expect("write");
    for file in ["local.db", "local.db-wal", "local.db-shm"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
}

/// An older install left them readable by everyone (0644 in a 0755 directory): narrowed on open.
#[cfg(unix)]
#[test]
fn an_older_store_is_made_private_on_open() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("app-data");
    let path = dir.join("local.db");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // Kept open to the end, so its -wal and -shm stay on disk (as after a crash).
    let older = LocalStore::open(&path).expect("store");
    older.set_meta(&[("token", "secret")]).expect("write");
    for file in ["local.db", "local.db-wal", "local.db-shm"] {
        let p = dir.join(file);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(mode(&p), 0o644);
    }
    switchboard_desktop::local::private_dir(&dir).expect("data dir");
    assert_eq!(mode(&dir), 0o700);
    let store = LocalStore::open(&path).expect("store");
    for file in ["local.db", "local.db-wal", "local.db-shm"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    assert_eq!(
        store.meta("token").expect("meta").as_deref(),
        Some("secret")
    );
}

fn me(role: Role) -> Change {
    Change::Me {
        employee: EmployeeView {
            id: "e1".into(),
            name: "Вера".into(),
            role,
            receives_new_clients: false,
            priority_channel_id: None,
            crm_user_id: None,
            active: true,
        },
    }
}

fn settings(notify_supervisors_all: bool) -> Change {
    Change::Settings {
        settings: Settings {
            notify_supervisors_all,
            ..Settings::default()
        },
    }
}

/// Badges are coloured here from each chat's facts, as the hub's rules do: a settings change
/// recolours the stored chats without any chat being sent again, and says so.
#[test]
fn badges_are_coloured_from_the_facts_and_a_settings_change_recolours_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let mut theirs = chat("x", "2026-11-25T10:00:00.000Z", Some(BadgeColor::Grey));
    theirs.responsible_id = Some("e2".into());
    // The hub's colour is not what decides: the facts are (here: my chat, so red).
    let mut mine = chat("y", "2026-11-25T11:00:00.000Z", Some(BadgeColor::Grey));
    mine.responsible_id = Some("e1".into());
    let first = store
        .apply(&SyncResponse {
            changes: vec![
                me(Role::Supervisor),
                settings(false),
                Change::Chat { chat: theirs },
                Change::Chat { chat: mine },
            ],
            cursor: 4,
            ..SyncResponse::default()
        })
        .expect("apply");
    assert!(first.session && first.list);
    assert_eq!(first.chats, ["x", "y"]);
    assert_eq!(
        store.counters().expect("counters"),
        Counters { red: 1, grey: 1 }
    );
    let flip = store
        .apply(&SyncResponse {
            changes: vec![settings(true)],
            cursor: 5,
            ..SyncResponse::default()
        })
        .expect("flip");
    assert!(flip.session && flip.list && flip.every_chat, "{flip:?}");
    assert_eq!(
        store.counters().expect("counters"),
        Counters { red: 2, grey: 0 }
    );
    let x = store.chat_row("x").expect("row").expect("x");
    assert_eq!(x.badge.color, Some(BadgeColor::Red));
    // The same settings again change nothing and say nothing.
    let again = store
        .apply(&SyncResponse {
            changes: vec![settings(true)],
            cursor: 6,
            ..SyncResponse::default()
        })
        .expect("again");
    assert!(again.is_empty(), "{again:?}");
    // Who I am moves the colours too.
    let Change::Me { mut employee } = me(Role::Supervisor) else {
        unreachable!()
    };
    employee.id = "e2".into();
    store
        .apply(&SyncResponse {
            changes: vec![settings(false), Change::Me { employee }],
            cursor: 7,
            ..SyncResponse::default()
        })
        .expect("me");
    let colour = |id: &str| store.chat_row(id).expect("row").expect("chat").badge.color;
    assert_eq!(
        (colour("x"), colour("y")),
        (Some(BadgeColor::Red), Some(BadgeColor::Grey))
    );
}

/// A paged snapshot's next page and progress are kept (across answers between its pages, and
/// restarts) until its last page.
#[test]
fn a_snapshots_page_is_kept_until_its_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.db");
    let store = LocalStore::open(&path).expect("store");
    let first = store
        .apply(&SyncResponse {
            changes: vec![Change::Chat {
                chat: chat("a", "2026-11-25T10:00:00.000Z", Some(BadgeColor::Red)),
            }],
            cursor: 40,
            has_more: true,
            page: Some("wh|1|0|2026-11-25T10:00:00.000Z|a".into()),
            progress: Some(SyncProgress { chats: 1, total: 3 }),
        })
        .expect("first page");
    assert!(first.session, "the progress is the session's to show");
    store
        .apply(&SyncResponse {
            changes: vec![],
            cursor: 41,
            ..SyncResponse::default()
        })
        .expect("a change between pages");
    drop(store);
    let store = LocalStore::open(&path).expect("reopened");
    assert_eq!(
        store.snapshot_page().expect("page").as_deref(),
        Some("wh|1|0|2026-11-25T10:00:00.000Z|a")
    );
    assert_eq!(
        store.sync_progress().expect("progress"),
        Some(SyncProgressVm { chats: 1, total: 3 })
    );
    assert_eq!(store.cursor().expect("cursor"), 41);
    store
        .apply(&SyncResponse {
            changes: vec![
                Change::Chat {
                    chat: chat("b", "2026-11-25T09:00:00.000Z", None),
                },
                Change::VisibleChats {
                    ids: vec!["a".into(), "b".into()],
                },
            ],
            cursor: 41,
            has_more: false,
            page: None,
            progress: Some(SyncProgress { chats: 2, total: 2 }),
        })
        .expect("last page");
    assert_eq!(store.snapshot_page().expect("page"), None);
    assert_eq!(store.sync_progress().expect("progress"), None);
    assert_eq!(
        store.chat_list(ChatFilter::All, 0, 10).expect("list").total,
        2
    );
}

/// A chat's draft is kept across a reopen of the store (a restart), shown with its row (and
/// the list's order and counts do not move for it), replaced as typing goes on, forgotten when
/// blank, and gone with the session on sign-out.
#[test]
fn a_draft_survives_a_restart_and_goes_with_the_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.db");
    {
        let store = LocalStore::open(&path).expect("store");
        store
            .apply(&SyncResponse {
                changes: vec![
                    Change::Chat {
                        chat: chat("a", "2026-11-25T10:00:00.000Z", Some(BadgeColor::Red)),
                    },
                    Change::Chat {
                        chat: chat("b", "2026-11-25T11:00:00.000Z", None),
                    },
                ],
                cursor: 2,
                has_more: false,
                ..SyncResponse::default()
            })
            .expect("apply");
        let at = "2026-11-25T12:00:00.000Z";
        assert!(store.set_draft("b", "Счёт", at).expect("draft"));
        assert!(store.set_draft("b", "Счёт готов", at).expect("draft"));
        assert!(!store.set_draft("b", "Счёт готов", at).expect("the same"));
        assert!(store.set_draft("a", "x", at).expect("draft"));
        assert!(store.set_draft("a", "   ", at).expect("blank forgets"));
    }
    let store = LocalStore::open(&path).expect("reopened");
    let list = store.chat_list(ChatFilter::All, 0, 50).expect("list");
    let drafts: Vec<(String, Option<String>)> =
        list.chats.into_iter().map(|c| (c.id, c.draft)).collect();
    assert_eq!(
        drafts,
        [("a".into(), None), ("b".into(), Some("Счёт готов".into()))]
    );
    assert_eq!(
        store.chat_row("b").expect("row").and_then(|r| r.draft),
        Some("Счёт готов".into())
    );
    store.clear().expect("sign out");
    assert!(store
        .set_draft("b", "", "2026-11-25T12:00:00.000Z")
        .is_ok_and(|changed| !changed));
}

/// Alt+↓ / Alt+↑: the chats waiting for my answer (red), one after another in the list's
/// order (newest activity first), round from the end; from a chat that is not one of them,
/// the first; none waiting, nothing.
#[test]
fn the_waiting_chats_are_walked_in_the_lists_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    assert_eq!(store.next_waiting(None, true).expect("none"), None);
    let red = Some(BadgeColor::Red);
    store
        .apply(&SyncResponse {
            changes: [
                ("a", "2026-11-25T10:00:00.000Z", red),
                ("b", "2026-11-25T12:00:00.000Z", red),
                ("c", "2026-11-25T11:00:00.000Z", None),
                ("d", "2026-11-25T12:00:00.000Z", red),
                ("e", "2026-11-25T13:00:00.000Z", Some(BadgeColor::Grey)),
            ]
            .into_iter()
            .map(|(id, at, colour)| Change::Chat {
                chat: chat(id, at, colour),
            })
            .collect(),
            cursor: 5,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    let walk = |from: Option<&str>, forward: bool, steps: usize| {
        let mut at = from.map(str::to_owned);
        let mut seen = Vec::new();
        for _ in 0..steps {
            at = store.next_waiting(at.as_deref(), forward).expect("next");
            seen.push(at.clone().unwrap_or_default());
        }
        seen
    };
    assert_eq!(walk(None, true, 4), ["b", "d", "a", "b"]);
    assert_eq!(walk(None, false, 4), ["a", "d", "b", "a"]);
    assert_eq!(walk(Some("c"), true, 1), ["b"]);
    assert_eq!(walk(Some("e"), false, 1), ["a"]);
}

/// Search finds any message this desktop holds by the beginnings of its words: Russian word
/// forms, "е" for "ё", any case of a product name, the first digits of a number; newest first,
/// with what matched marked; a message changed is found by its new text, a message gone is not
/// found; what is typed is never the index's syntax.
#[test]
fn messages_are_found_by_parts_of_their_words_in_either_language() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let message = text_message;
    store
        .apply(&SyncResponse {
            changes: vec![
                Change::Chat {
                    chat: chat("c1", "2026-11-25T10:00:00.000Z", None),
                },
                Change::Chat {
                    chat: chat("c2", "2026-11-25T13:00:00.000Z", None),
                },
            ],
            cursor: 2,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    store
        .put_messages(&[
            message(
                "m1",
                "c1",
                "2026-11-25T10:00:00.000Z",
                "Выставлен счёт на оплату",
            ),
            message(
                "m2",
                "c1",
                "2026-11-25T11:00:00.000Z",
                "Счета за ноябрь и iPhone 15 Pro",
            ),
            message(
                "m3",
                "c2",
                "2026-11-25T12:00:00.000Z",
                "Order #A-77412, tracking 9981",
            ),
            message("m4", "c2", "2026-11-25T13:00:00.000Z", "Доставка завтра"),
        ])
        .expect("put");
    let found = |q: &str| -> Vec<String> {
        store
            .search(q, 50)
            .expect("search")
            .hits
            .into_iter()
            .map(|h| h.message_id)
            .collect()
    };
    // Word forms and ё: "счет" finds "счёт" and "Счета", newest first.
    assert_eq!(found("счет"), ["m2", "m1"]);
    assert_eq!(found("СЧЁТ"), ["m2", "m1"], "any case, ё as е");
    assert_eq!(found("iphone"), ["m2"]);
    assert_eq!(found("ноябр счет"), ["m2"], "every word must match");
    assert_eq!(found("7741"), ["m3"]);
    assert_eq!(found("a-77"), ["m3"]);
    assert_eq!(found("nothing"), Vec::<String>::new());
    // A message of a chat this desktop no longer holds is not shown.
    store
        .put_messages(&[message(
            "m5",
            "gone",
            "2026-11-25T14:00:00.000Z",
            "Счёт для другого",
        )])
        .expect("put");
    assert_eq!(found("другого"), Vec::<String>::new());
    // Too short to look for: nothing, and the answer says why.
    let short = store.search("з", 50).expect("search");
    assert!(short.hits.is_empty() && short.short);
    // The index's syntax is only ever text.
    for hostile in [
        "\"",
        "счет*",
        "NEAR(счет оплат)",
        "text:счет",
        "счет OR 1=1",
        "(((",
        "-- ;",
    ] {
        assert!(store.search(hostile, 50).is_ok(), "{hostile}");
    }
    assert_eq!(found("NEAR(счет"), Vec::<String>::new());
    // The hit's text, with what matched marked, and its chat's title.
    let hit = &store.search("доставк", 50).expect("search").hits[0];
    assert_eq!(hit.title, "Client c2");
    let marked: Vec<(&str, bool)> = hit.parts.iter().map(|p| (p.text.as_str(), p.hit)).collect();
    assert_eq!(marked, [("Доставка", true), (" завтра", false)]);
    assert_eq!(
        store.search("выставлен", 50).expect("search").hits[0].title,
        "Client c1"
    );
    // A number typed in any form finds the chats with that client (both test chats are the
    // client +7 916 111-22-33); "8 …" is read as +7 only under setting 2.
    let by_number = |q: &str| -> Vec<String> {
        let mut ids: Vec<String> = store
            .search(q, 50)
            .expect("search")
            .chats
            .into_iter()
            .map(|c| c.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(by_number("+7 (916) 111-22-33"), ["c1", "c2"]);
    assert_eq!(by_number("79161112233"), ["c1", "c2"]);
    assert_eq!(by_number("+7 916 000-00-00"), Vec::<String>::new());
    assert_eq!(
        by_number("8 916 111 22 33"),
        Vec::<String>::new(),
        "setting 2 is off"
    );
    store
        .apply(&SyncResponse {
            changes: vec![Change::Settings {
                settings: Settings {
                    eight_as_plus7: true,
                    ..Settings::default()
                },
            }],
            cursor: 3,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("setting 2 on");
    assert_eq!(by_number("8 916 111 22 33"), ["c1", "c2"]);
    // Kept to a channel, to my chats, to a period; the chats found by number too.
    let mut mine = chat("c2", "2026-11-25T13:00:00.000Z", None);
    mine.channel_id = "tg".into();
    mine.responsible_id = Some("e1".into());
    store
        .apply(&SyncResponse {
            changes: vec![me(Role::Seller), Change::Chat { chat: mine }],
            cursor: 4,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("c2 is mine, on Telegram");
    let within = |q: &str, w: Within| -> (Vec<String>, Vec<String>) {
        let found = store.search_in(q, 50, &w).expect("search");
        (
            found.hits.into_iter().map(|h| h.message_id).collect(),
            found.chats.into_iter().map(|c| c.id).collect(),
        )
    };
    let channel = |id: &str| Within {
        channel: Some(id.into()),
        ..Within::default()
    };
    let since = |at: &str| Within {
        since: Some(at.into()),
        ..Within::default()
    };
    let mine_only = Within {
        mine: true,
        ..Within::default()
    };
    assert_eq!(within("счет", channel("wa")).0, ["m2", "m1"]);
    assert_eq!(within("счет", channel("tg")).0, Vec::<String>::new());
    assert_eq!(within("доставк", channel("tg")).0, ["m4"]);
    assert_eq!(within("счет", mine_only.clone()).0, Vec::<String>::new());
    assert_eq!(within("доставк", mine_only.clone()).0, ["m4"]);
    assert_eq!(within("счет", since("2026-11-25T10:30:00.000Z")).0, ["m2"]);
    // A filtered search looks through the newest matches only, and says so when it found
    // fewer than asked among them.
    let bounded = store
        .search_examining("счет", 50, &channel("wa"), 2)
        .expect("search");
    assert_eq!(
        bounded
            .hits
            .iter()
            .map(|h| h.message_id.as_str())
            .collect::<Vec<_>>(),
        ["m2"]
    );
    assert!(bounded.partial);
    assert!(
        !store
            .search_in("счет", 50, &channel("wa"))
            .expect("search")
            .partial
    );
    assert!(!store.search("счет", 50).expect("search").partial);
    assert_eq!(within("79161112233", channel("tg")).1, ["c2"]);
    assert_eq!(within("79161112233", mine_only).1, ["c2"]);
    assert_eq!(
        within("79161112233", since("2026-11-25T12:00:00.000Z")).1,
        ["c2"]
    );
    // Changed, then gone (signed out): found by the new text, then not at all.
    store
        .put_messages(&[message(
            "m4",
            "c2",
            "2026-11-25T13:00:00.000Z",
            "Доставка в пятницу",
        )])
        .expect("edit");
    assert_eq!(found("пятниц"), ["m4"]);
    assert_eq!(found("завтра"), Vec::<String>::new());
    store.clear().expect("sign out");
    assert_eq!(found("счет"), Vec::<String>::new());
}

/// Ctrl+K finds a chat by its client's name however it is typed (letters skipped, any case,
/// "е" for "ё"), by the client's number in any form (8 read as +7 under setting 2) or by their
/// messenger address; best matches first, the newest among equals; nothing for a miss.
#[test]
fn a_chat_is_found_by_its_clients_name_number_or_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let client = |id: &str, title: &str, address: &str, at: &str| {
        let mut c = chat(id, at, None);
        c.title = title.into();
        c.chat_id = address.into();
        Change::Chat { chat: c }
    };
    store
        .apply(&SyncResponse {
            changes: vec![
                client(
                    "a",
                    "Артём Ковалёв",
                    "79164569812",
                    "2026-11-25T10:00:00.000Z",
                ),
                client(
                    "b",
                    "Ирина Петрова",
                    "79031234567",
                    "2026-11-25T11:00:00.000Z",
                ),
                client(
                    "c",
                    "Irina Smirnova",
                    "ira_smirnova",
                    "2026-11-25T12:00:00.000Z",
                ),
                client(
                    "d",
                    "ООО Ромашка",
                    "79169990000",
                    "2026-11-25T13:00:00.000Z",
                ),
                settings(false),
            ],
            cursor: 4,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    let ids = |q: &str| -> Vec<String> {
        store
            .jump(q, 10)
            .expect("jump")
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids("ковалев"), ["a"]);
    assert_eq!(ids("АРТЁМ"), ["a"]);
    assert_eq!(ids("ирпет"), ["b"]);
    assert_eq!(ids("irina"), ["c"]);
    assert_eq!(ids("ira_sm"), ["c"]);
    assert_eq!(ids("ромашк"), ["d"]);
    // A number: any form, and only the chats whose client it is.
    assert_eq!(ids("+7 (916) 456-98"), ["a"]);
    assert_eq!(ids("4569812"), ["a"]);
    assert_eq!(ids("916"), ["d", "a"], "newest first among equal matches");
    assert_eq!(ids("8 916 456"), ["a"], "8 read as +7 (setting 2 on)");
    assert_eq!(ids("903 123"), ["b"], "the middle of a number");
    assert_eq!(ids("8 903 123"), ["b"], "8 read as +7");
    assert_eq!(ids("0312 345"), ["b"], "digits from inside the number");
    assert_eq!(
        ids("812"),
        ["a"],
        "a fragment starting with 8 is also looked for as typed"
    );
    store
        .apply(&SyncResponse {
            changes: vec![Change::Settings {
                settings: Settings {
                    eight_as_plus7: false,
                    ..Settings::default()
                },
            }],
            cursor: 5,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("setting 2 off");
    assert!(
        ids("8 916 456").is_empty(),
        "8 is not +7 with setting 2 off"
    );
    assert!(ids("жжжж").is_empty());
    assert!(ids("   ").is_empty());
    assert_eq!(
        store.jump("9", 1).expect("jump").len(),
        1,
        "at most the limit"
    );
}

/// Quick replies are kept as the hub last listed them (the workspace's and one's own), to use
/// offline; a list the same as the last tells the window nothing; signing out forgets them.
#[test]
fn quick_replies_are_kept_as_last_synced_and_forgotten_on_sign_out() {
    use switchboard_wire::{QuickRepliesView, QuickReplyView};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    assert!(store.quick_replies().expect("none yet").replies.is_empty());
    let list = |titles: &[&str]| QuickRepliesView {
        company: Some("Ромашка".into()),
        replies: titles
            .iter()
            .map(|t| QuickReplyView {
                id: format!("id-{t}"),
                title: (*t).into(),
                text: format!("{t}, {{client}}"),
                personal: false,
                updated_at: "2026-12-07T10:00:00.000Z".into(),
            })
            .collect(),
    };
    let apply = |v: QuickRepliesView, cursor: i64| {
        store
            .apply(&SyncResponse {
                changes: vec![Change::QuickReplies { quick_replies: v }],
                cursor,
                ..SyncResponse::default()
            })
            .expect("apply")
    };
    assert!(apply(list(&["Привет", "Счёт"]), 1).session);
    assert_eq!(
        store.quick_replies().expect("kept"),
        list(&["Привет", "Счёт"])
    );
    assert!(!apply(list(&["Привет", "Счёт"]), 2).session, "nothing new");
    assert!(apply(list(&["Счёт"]), 3).session);
    assert_eq!(store.quick_replies().expect("replaced").replies.len(), 1);
    store.clear().expect("sign out");
    assert!(store.quick_replies().expect("forgotten").replies.is_empty());
}

/// Ctrl+K by a CRM title finds chats through the index of which entities each chat belongs
/// to: kept as chats arrive, change their links and go.
#[test]
fn the_chats_of_a_crm_entity_follow_their_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let apply = |changes: Vec<Change>, cursor: i64| {
        store
            .apply(&SyncResponse {
                changes,
                cursor,
                ..SyncResponse::default()
            })
            .expect("apply")
    };
    let deal = |id: &str| CrmRef {
        kind: EntityKind::Deal,
        id: id.into(),
    };
    // Both chats belong to deal 7 (the helper's link).
    apply(
        vec![
            Change::Chat {
                chat: chat("a", "2026-11-25T10:00:00.000Z", None),
            },
            Change::Chat {
                chat: chat("b", "2026-11-25T11:00:00.000Z", None),
            },
        ],
        1,
    );
    let of = |id: &str| store.chats_of_entity(EntityKind::Deal, id).expect("read");
    assert_eq!(of("7"), ["a", "b"]);
    // Chat b moves to deal 8 (sent again whole, as sync does).
    let mut b = chat("b", "2026-11-25T12:00:00.000Z", None);
    b.crm = vec![deal("8")];
    apply(vec![Change::Chat { chat: b }], 2);
    assert_eq!(of("7"), ["a"]);
    assert_eq!(of("8"), ["b"]);
    apply(vec![Change::ChatRemoved { id: "a".into() }], 3);
    assert!(of("7").is_empty());
    store.clear().expect("sign out");
    assert!(of("8").is_empty());
}

/// The letters core spells as the index does by itself (`index_term`) are spelled so by the
/// index's tokenizer, each in either case, and that tokenizer is the one migration 011 wrote.
#[test]
fn core_spells_its_letters_as_the_index_does() {
    use switchboard_db::TOKENIZE;
    assert!(
        include_str!("../../migrations/011_search_by_words.sql")
            .contains(&format!("tokenize = '{TOKENIZE}'")),
        "the store's scratch index must split words as the index does"
    );
    let c = rusqlite::Connection::open_in_memory().expect("db");
    c.execute_batch(&format!(
        "CREATE VIRTUAL TABLE f USING fts5(text, tokenize = '{TOKENIZE}');
         CREATE VIRTUAL TABLE v USING fts5vocab(f, instance);"
    ))
    .expect("index");
    // The index's words of `text`, in order.
    let words_of = |text: &str| -> Vec<String> {
        c.execute("DELETE FROM f", []).expect("empty");
        c.execute("INSERT INTO f (text) VALUES (?1)", [text])
            .expect("insert");
        c.prepare("SELECT term FROM v")
            .expect("vocab")
            .query_map([], |r| r.get(0))
            .expect("vocab")
            .collect::<Result<_, _>>()
            .expect("vocab")
    };
    for letter in switchboard_core::search::index_term_letters() {
        let terms = words_of(&format!("q{letter}q"));
        let core = switchboard_core::search::index_term(&format!("q{letter}q"));
        assert_eq!(terms, core.into_iter().collect::<Vec<_>>(), "{letter:?}");
    }
    // And the marks it takes as the space between words are that to the index too.
    for mark in switchboard_core::search::index_spaces() {
        let text = format!("q{mark}q");
        let terms = words_of(&text);
        assert_eq!(
            Some(terms),
            switchboard_core::search::index_words(&text),
            "{mark:?}"
        );
        assert_eq!(
            switchboard_core::search::index_words(&text).map(|w| w.len()),
            Some(2)
        );
    }
}

/// A typed beginning is searched as the words of the index it begins (read from the newest
/// end, not merged in full): the answers are exactly FTS5's own for that beginning, for every
/// beginning of every word stored (any script, case, accent, emoji, number, two words joined),
/// whether the messages came fetched or synced; the list of words holds every word of the
/// index, and an older store gets it filled from the index when it opens.
#[test]
fn a_beginning_written_out_as_words_finds_what_the_index_finds() {
    const WORDS: [&str; 24] = [
        "Заказ",
        "заказу",
        "ЗАКАЗОВ",
        "счёт",
        "счета",
        "Ёлка",
        "iPhone",
        "iphone15",
        "café",
        "Cafe",
        "İstanbul",
        "Straße",
        "жираф-2026",
        "👍спасибо",
        "naïve",
        "ǅemal",
        "77412",
        "774",
        "№5",
        "по-русски",
        "x²",
        "Ωmega",
        "ЇЖАК",
        "(доставка).",
    ];
    const GLUE: [&str; 4] = [" ", ", ", " — ", "\n"];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.db");
    let store = LocalStore::open(&path).expect("store");
    let message = |i: usize| {
        let text: Vec<&str> = (0..=i % 5)
            .flat_map(|k| [WORDS[(i * 7 + k * 3) % WORDS.len()], GLUE[(i + k) % 4]])
            .collect();
        text_message(
            &format!("m{i:04}"),
            "c1",
            &format!("2026-11-25T10:{:02}:{:02}.000Z", i / 60, i % 60),
            &text.concat(),
        )
    };
    let mut changes = vec![Change::Chat {
        chat: chat("c1", "2026-11-25T10:00:00.000Z", None),
    }];
    changes.extend((0..150).map(|i| Change::Message {
        message: message(i),
    }));
    store
        .apply(&SyncResponse {
            changes,
            cursor: 1,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    store
        .put_messages(&(150..300).map(message).collect::<Vec<_>>())
        .expect("put");
    let raw = rusqlite::Connection::open(&path).expect("raw");
    let unlisted = |raw: &rusqlite::Connection| -> i64 {
        raw.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.v USING fts5vocab(main, messages_fts, row)",
        )
        .expect("vocab");
        raw.query_row(
            "SELECT count(*) FROM temp.v WHERE term NOT IN (SELECT term FROM search_terms)",
            [],
            |r| r.get(0),
        )
        .expect("count")
    };
    assert_eq!(unlisted(&raw), 0, "every word of the index is listed");
    let check = |store: &LocalStore, raw: &rusqlite::Connection| {
        let mut asked = 0;
        for word in WORDS {
            let chars: Vec<char> = word.chars().collect();
            for n in 2..=chars.len() {
                let typed: String = chars[..n].iter().collect();
                for q in [typed.clone(), typed.to_uppercase(), typed.to_lowercase()] {
                    let words = switchboard_core::search::search_words(&q);
                    let Some(fts) = switchboard_core::search::fts_query(&words) else {
                        continue;
                    };
                    let mut expected: Vec<String> = raw
                        .prepare(
                            "SELECT m.id FROM messages_fts JOIN messages m \
                             ON m.rowid = messages_fts.rowid WHERE messages_fts MATCH ?1",
                        )
                        .expect("raw")
                        .query_map([&fts], |r| r.get(0))
                        .expect("raw")
                        .collect::<Result<_, _>>()
                        .expect("raw");
                    let mut got: Vec<String> = store
                        .search(&q, 1000)
                        .expect("search")
                        .hits
                        .into_iter()
                        .map(|h| h.message_id)
                        .collect();
                    expected.sort();
                    got.sort();
                    assert_eq!(got, expected, "{q:?} ({fts})");
                    asked += 1;
                }
            }
        }
        assert!(asked > 200, "{asked}");
    };
    check(&store, &raw);
    // A store from before the list: the upgrade fills it from the index.
    drop(store);
    raw.execute_batch("DROP TABLE search_terms; PRAGMA user_version = 17;")
        .expect("downgrade");
    let store = LocalStore::open(&path).expect("upgraded");
    assert_eq!(unlisted(&raw), 0, "filled from the index");
    check(&store, &raw);
    // Signing out forgets the words too (clients' names and numbers are in them).
    store.clear().expect("sign out");
    let left: i64 = raw
        .query_row("SELECT count(*) FROM search_terms", [], |r| r.get(0))
        .expect("count");
    assert_eq!(left, 0);
}

/// A message sent from here and taken by the hub is stored as any message is: shown with its
/// text and found by it at once, not only once a sync brings it again; a copy a sync brought
/// first is newer and stays.
#[test]
fn a_sent_message_taken_by_the_hub_is_shown_and_found_by_its_text() {
    use switchboard_desktop::local::OutboxItem;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    store
        .apply(&SyncResponse {
            changes: vec![Change::Chat {
                chat: chat("c1", "2026-11-25T10:00:00.000Z", None),
            }],
            cursor: 1,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    let sent = |key: &str, id: &str, text: &str, status| {
        store
            .enqueue(&OutboxItem {
                key: key.into(),
                chat: Some("c1".into()),
                channel_id: None,
                phone: None,
                display: None,
                text: text.into(),
                created_at: "2026-11-25T11:00:00.000Z".into(),
                error: None,
                error_code: None,
                error_owner: None,
                file: None,
            })
            .expect("enqueue");
        let view = MessageView {
            direction: Direction::Out,
            status,
            ..text_message(id, "c1", "2026-11-25T11:00:01.000Z", text)
        };
        store.outbox_taken(key, &view).expect("taken");
        view
    };
    sent(
        "k1",
        "h1",
        "Счёт выставлен, Ирина",
        switchboard_core::MessageStatus::Sent,
    );
    let shown = store.messages("c1").expect("messages");
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].text, "Счёт выставлен, Ирина");
    assert_eq!(shown[0].direction, Direction::Out);
    let found = store.search("выстав", 10).expect("search");
    assert_eq!(
        found
            .hits
            .iter()
            .map(|h| h.message_id.as_str())
            .collect::<Vec<_>>(),
        ["h1"]
    );
    // The sync's copy came first (read by the client): the send's answer does not undo it.
    let read = MessageView {
        direction: Direction::Out,
        status: switchboard_core::MessageStatus::Read,
        ..text_message("h2", "c1", "2026-11-25T11:00:01.000Z", "Доставка завтра")
    };
    store.put_messages(&[read]).expect("synced");
    sent(
        "k2",
        "h2",
        "Доставка завтра",
        switchboard_core::MessageStatus::Sent,
    );
    let h2 = store
        .messages("c1")
        .expect("messages")
        .into_iter()
        .find(|m| m.id == "h2")
        .expect("h2");
    assert_eq!(h2.status, switchboard_core::MessageStatus::Read);
}

/// Signing out leaves no client's words in the store's files: not in freed pages, not in the
/// search index's segments (deleting a row only marks it there), not in the write-ahead log.
#[test]
fn a_sign_out_leaves_no_clients_words_in_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.db");
    let store = LocalStore::open(&path).expect("store");
    store
        .apply(&SyncResponse {
            changes: vec![Change::Chat {
                chat: chat("c1", "2026-11-25T10:00:00.000Z", None),
            }],
            cursor: 1,
            ..SyncResponse::default()
        })
        .expect("apply");
    let secret = "Zanzibarquartz";
    let messages: Vec<_> = (0..2000)
        .map(|i| {
            text_message(
                &format!("m{i:04}"),
                "c1",
                &format!("2026-11-25T10:{:02}:{:02}.000Z", i / 60 % 60, i % 60),
                &format!("{secret} order {i} for the client"),
            )
        })
        .collect();
    store.put_messages(&messages).expect("put");
    let held = |word: &str| -> Vec<String> {
        let needle = word.to_lowercase();
        std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("local.db"))
            .filter(|e| {
                let bytes = std::fs::read(e.path()).unwrap_or_default();
                String::from_utf8_lossy(&bytes)
                    .to_lowercase()
                    .contains(&needle)
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert!(!held(secret).is_empty(), "the files hold it before");
    store.clear().expect("sign out");
    assert_eq!(
        held(secret),
        Vec::<String>::new(),
        "left after the sign-out"
    );
    // The store still works.
    assert!(store
        .search("zanzibar", 10)
        .expect("search")
        .hits
        .is_empty());
}

//! The local store tells fetched news from what it already has, so the window redraws (and
//! asks again) only when something changed; its files are this user's alone.

use switchboard_core::{Badge, BadgeColor, Counters, CrmRef, Direction, EntityKind};
use switchboard_desktop::local::LocalStore;
use switchboard_desktop::vm::ChatFilter;
use switchboard_wire::{Change, ChatView, LastMessage, MessageView, SyncResponse};

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
        }),
        last_activity_at: at.into(),
        unanswered: Badge {
            count: u32::from(color.is_some()) * 2,
            color,
        },
    }
}

/// Filters and totals are answered from the stored columns: "mine" is the red chats, "others"
/// the grey, all in activity order; the tray's counters agree with the list's.
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
        })
        .expect("apply");
    let ids = |f| -> Vec<String> {
        let list = store.chat_list(f, 0, 50).expect("list");
        assert_eq!(list.counters, Counters { red: 1, grey: 1 });
        list.chats.into_iter().map(|c| c.id).collect()
    };
    assert_eq!(ids(ChatFilter::All), ["c", "b", "a"]);
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
    assert_eq!(a.crm, chat("a", "", None).crm);
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
        })
        .expect("apply");
    let page = store.chat_list(ChatFilter::All, 10, 5).expect("page");
    assert_eq!((page.offset, page.total), (10, 30));
    let ids: Vec<&str> = page.chats.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["c19", "c18", "c17", "c16", "c15"],
        "newest first, from the offset"
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
    }
    let store = LocalStore::open(&path).expect("store");
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
    assert_eq!(a.crm, chat("a", "", None).crm);
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

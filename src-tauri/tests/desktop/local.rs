//! The local store tells fetched news from what it already has, so the window redraws (and
//! asks again) only when something changed; its files are this user's alone.

use switchboard_core::Direction;
use switchboard_desktop::local::LocalStore;
use switchboard_wire::MessageView;

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

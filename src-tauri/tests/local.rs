//! The local store tells fetched news from what it already has, so the window redraws (and
//! asks again) only when something changed.

use switchboard_core::Direction;
use switchboard_desktop::local::LocalStore;
use switchboard_hub::json::MessageView;

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
        status: "sent".into(),
        error: None,
        mirror: Default::default(),
    };
    assert!(store.put_messages(std::slice::from_ref(&m)).expect("put"));
    assert!(!store.put_messages(std::slice::from_ref(&m)).expect("put"));
    m.status = "read".into();
    assert!(store.put_messages(std::slice::from_ref(&m)).expect("put"));
    assert_eq!(store.messages("c1").expect("messages")[0].status, "read");
}

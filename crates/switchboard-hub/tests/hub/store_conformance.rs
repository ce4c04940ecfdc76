//! The storage layer's contract: what any backend of `switchboard_hub::store` must do, written
//! against the storage API only (no HTTP, no workers, no clock: every time is passed in). It
//! runs on SQLite now, through [`SQLITE`]; a PostgreSQL backend adds its own [`Backend`] and
//! runs the same cases (`conformance!` below makes one test per case, in a module per backend).

use rusqlite::Connection;
use switchboard_core::{BadgeColor, MessageStatus, Role, Transport};
use switchboard_hub::json::{Change, EmployeePatch, NewEmployee, SettingsPatch, SyncResponse};
use switchboard_hub::store::{self, outbox_queue, ChangeKind, Inbound, ProviderChannel};

/// A storage backend under test: a fresh, migrated, empty workspace database.
pub struct Backend {
    pub open: fn() -> (Connection, Box<dyn std::any::Any>),
}

/// The embedded backend: a SQLite file in a temporary directory.
pub const SQLITE: Backend = Backend {
    open: || {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = switchboard_hub::db::open_hub(&dir.path().join("hub.db")).expect("open");
        store::ensure_workspace(&conn).expect("workspace");
        (conn, Box::new(dir))
    },
};

const T0: &str = "2026-12-01T10:00:00.000Z";
const T1: &str = "2026-12-01T10:01:00.000Z";
/// `T1` in milliseconds since the epoch.
const T1_MS: i64 = 1_796_119_260_000;

/// A workspace with one provider WhatsApp channel and one seller who gets new clients.
fn workspace(conn: &Connection) -> (String, String) {
    store::upsert_provider_channels(
        conn,
        &[ProviderChannel {
            channel_id: "wa".into(),
            transport: "whatsapp".into(),
            plain_id: "79160000000".into(),
            state: "active".into(),
        }],
    )
    .expect("channel");
    let seller = store::insert_employee(
        conn,
        &NewEmployee {
            name: "Anna".into(),
            role: Role::Seller,
            receives_new_clients: true,
            priority_channel_id: None,
            crm_user_id: None,
        },
    )
    .expect("seller");
    ("wa".into(), seller.id)
}

/// A client's first message (at `T0`) and the chat it opened.
fn client_chat(conn: &Connection) -> store::ChatRow {
    let chat = store::ingest(conn, &inbound("p1", "79161112233", "hi", T0), T0)
        .expect("ingest")
        .expect("new")
        .chat;
    store::chat_row_by_id(conn, &chat)
        .expect("row")
        .expect("chat")
}

fn inbound(id: &str, phone: &str, text: &str, at: &str) -> Inbound {
    Inbound {
        provider_message_id: id.into(),
        channel_id: "wa".into(),
        chat_type: Transport::Whatsapp.chat_type().into(),
        chat_id: phone.into(),
        at: at.into(),
        text: text.into(),
        content_uri: None,
        kind: switchboard_core::MessageKind::Text,
        is_echo: false,
        author_id: None,
        contact_name: None,
        contact_phone: Some(format!("+{phone}")),
    }
}

/// A webhook redelivered stores nothing twice and changes nothing.
fn a_redelivered_message_is_stored_once(b: &Backend) {
    let (conn, _keep) = (b.open)();
    workspace(&conn);
    let m = inbound("p1", "79161112233", "hello", T0);
    let first = store::ingest(&conn, &m, T0).expect("ingest").expect("new");
    let cursor = store::last_seq(&conn).expect("seq");
    assert!(store::ingest(&conn, &m, T1).expect("again").is_none());
    assert_eq!(
        store::last_seq(&conn).expect("seq"),
        cursor,
        "no change logged"
    );
    let all = store::messages(&conn, &first.chat, None, 50).expect("messages");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, MessageStatus::Inbound);
}

/// The first client message makes the chat (unassigned: no CRM client has the number) and
/// names whom to notify (the sellers who get new clients); the unanswered count follows.
fn a_new_client_opens_a_chat_for_the_seller_who_gets_new_clients(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let done = store::ingest(&conn, &inbound("p1", "79161112233", "hi", T0), T0)
        .expect("ingest")
        .expect("new");
    assert!(done.notify.iter().any(|(who, _)| *who == seller));
    let row = store::chat_row_by_id(&conn, &done.chat)
        .expect("row")
        .expect("chat");
    assert_eq!(row.responsible_id, None);
    assert_eq!(row.unanswered, 1);
    store::ingest(&conn, &inbound("p2", "79161112233", "still there?", T1), T1).expect("ingest");
    let row = store::chat_row_by_id(&conn, &done.chat)
        .expect("row")
        .expect("chat");
    assert_eq!(row.unanswered, 2);
}

/// A reply goes to the outbox once per key; its status walks forward only; `edited` moves
/// nothing; an error after `read` does not undo it.
fn statuses_only_move_forward_and_replies_are_idempotent(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let row = client_chat(&conn);
    let chat = row.id.clone();
    let sent = store::reply(&conn, &row, &seller, "hello!", "key-1", T1).expect("reply");
    assert_eq!(sent.status, MessageStatus::Queued);
    let again = store::reply(&conn, &row, &seller, "hello!", "key-1", T1).expect("again");
    assert_eq!(again.message_id, sent.message_id, "one message per key");
    assert_eq!(outbox_queue::len(&conn).expect("len"), 1);
    let row = store::chat_row_by_id(&conn, &chat)
        .expect("row")
        .expect("chat");
    assert_eq!(row.unanswered, 0, "answered");

    // The provider takes it and names it; then statuses arrive out of order.
    let job = outbox_queue::due(&conn, T1_MS, 10).expect("due").remove(0);
    let job = outbox_queue::claim(
        &conn,
        job.outbox_id,
        T1_MS,
        std::time::Duration::from_secs(30),
        "",
    )
    .expect("claim")
    .expect("claimed");
    outbox_queue::finish(
        &conn,
        &job,
        &outbox_queue::SendOutcome::Accepted("prov-1".into()),
        T1_MS,
    )
    .expect("finish");
    assert_eq!(outbox_queue::len(&conn).expect("len"), 0);
    let status = |conn: &Connection| {
        store::message(conn, &sent.message_id)
            .expect("message")
            .expect("stored")
            .status
    };
    assert_eq!(status(&conn), MessageStatus::Accepted);
    for (s, expect) in [
        (Some(MessageStatus::Read), MessageStatus::Read),
        (Some(MessageStatus::Delivered), MessageStatus::Read),
        (None, MessageStatus::Read),
        (Some(MessageStatus::Error), MessageStatus::Read),
    ] {
        assert!(store::apply_status(&conn, "prov-1", s, Some("E")).expect("status"));
        assert_eq!(status(&conn), expect, "after {s:?}");
    }
    assert!(
        !store::apply_status(&conn, "nobody", Some(MessageStatus::Sent), None).expect("status")
    );
}

/// The same text typed on the phone (an echo without our author) does not take the place of
/// our reply still waiting in the outbox: ours is still sent; ours echoed back is adopted.
fn a_phone_echo_does_not_swallow_a_queued_reply(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let row = client_chat(&conn);
    let ours = store::reply(&conn, &row, &seller, "ok", "k1", T1).expect("reply");
    let echo = |id: &str, author: Option<&str>| Inbound {
        is_echo: true,
        author_id: author.map(str::to_owned),
        ..inbound(id, "79161112233", "ok", T1)
    };
    store::ingest(&conn, &echo("phone-1", None), T1).expect("phone echo");
    assert_eq!(
        outbox_queue::len(&conn).expect("len"),
        1,
        "ours still waits"
    );
    let status = |conn: &Connection| {
        store::message(conn, &ours.message_id)
            .expect("message")
            .expect("stored")
            .status
    };
    assert_eq!(status(&conn), MessageStatus::Queued);
    store::ingest(&conn, &echo("prov-ours", Some(&seller)), T1).expect("our echo");
    assert_eq!(outbox_queue::len(&conn).expect("len"), 0, "ours went out");
    assert_eq!(status(&conn), MessageStatus::Accepted);
}

/// A claimed outbox row is leased: not due again until the lease ends, then due with its
/// attempt counted and marked as possibly delivered.
fn an_outbox_claim_is_leased(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let row = client_chat(&conn);
    store::reply(&conn, &row, &seller, "one", "k1", T1).expect("reply");
    let lease = std::time::Duration::from_secs(20);
    let id = outbox_queue::due(&conn, T1_MS, 10).expect("due")[0].outbox_id;
    assert!(outbox_queue::claim(&conn, id, T1_MS, lease, "")
        .expect("claim")
        .is_some());
    assert!(outbox_queue::due(&conn, T1_MS + 19_999, 10)
        .expect("due")
        .is_empty());
    assert!(
        outbox_queue::claim(&conn, id, T1_MS + 1, lease, "")
            .expect("claim")
            .is_none(),
        "a second claimant gets nothing"
    );
    let again = outbox_queue::due(&conn, T1_MS + 20_000, 10).expect("due");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].unsure_since_ms, Some(T1_MS));
}

/// Every change is logged with its kind, in order; a viewer's sync sees their chats only.
fn the_change_log_is_ordered_and_sync_respects_visibility(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let other = store::insert_employee(
        &conn,
        &NewEmployee {
            name: "Boris".into(),
            role: Role::Seller,
            receives_new_clients: false,
            priority_channel_id: None,
            crm_user_id: None,
        },
    )
    .expect("other");
    let before = store::last_seq(&conn).expect("seq");
    let a = store::record_change(&conn, ChangeKind::Chat, "x").expect("log");
    let b2 = store::record_change(&conn, ChangeKind::Message, "y").expect("log");
    assert!(before < a && a < b2);
    store::ingest(&conn, &inbound("p1", "79161112233", "hi", T0), T0).expect("ingest");
    let mine = store::sync(&conn, &seller, 0, None).expect("sync");
    let theirs = store::sync(&conn, &other.id, 0, None).expect("sync");
    let chats = |s: &switchboard_hub::json::SyncResponse| {
        s.changes
            .iter()
            .filter(|c| matches!(c, switchboard_hub::json::Change::Chat { .. }))
            .count()
    };
    assert_eq!(chats(&mine), 1);
    assert_eq!(chats(&theirs), 0, "another seller's client is not shown");
    assert_eq!(mine.cursor, store::last_seq(&conn).expect("seq"));
}

/// Tokens are stored as digests: the clear token names its employee until revoked.
fn tokens_name_their_employee_until_revoked(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    store::store_token(&conn, "secret-token", Some(&seller), T0).expect("token");
    match store::caller_by_token(&conn, "secret-token").expect("caller") {
        Some(store::Caller::Employee(e)) => assert_eq!(e.id, seller),
        other => panic!("expected the seller, got {other:?}"),
    }
    assert!(store::caller_by_token(&conn, "secret-tokeN")
        .expect("caller")
        .is_none());
    store::revoke_own_token(&conn, "secret-token").expect("revoke");
    assert!(store::caller_by_token(&conn, "secret-token")
        .expect("caller")
        .is_none());
}

/// A settings change is applied and audited with the time given.
fn settings_changes_are_audited_at_the_time_given(b: &Backend) {
    let (conn, _keep) = (b.open)();
    workspace(&conn);
    let patch = SettingsPatch {
        notify_supervisors_all: Some(true),
        ..Default::default()
    };
    let s = store::put_settings(&conn, &patch, "admin", T1).expect("put");
    assert!(s.notify_supervisors_all);
    let audit = store::audit(&conn).expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].at, T1);
    assert_eq!(audit[0].field, "notify_supervisors_all");
}

/// The kinds of a sync answer's changes, in order.
fn kinds(s: &SyncResponse) -> Vec<&'static str> {
    s.changes.iter().map(Change::type_name).collect()
}

fn employee(conn: &Connection, name: &str, role: Role) -> String {
    store::insert_employee(
        conn,
        &NewEmployee {
            name: name.into(),
            role,
            receives_new_clients: false,
            priority_channel_id: None,
            crm_user_id: None,
        },
    )
    .expect("employee")
    .id
}

/// A channel's state changes (the provider says so): a sync sends the channel list, not every
/// chat again.
fn a_channel_state_change_sends_the_channels_not_the_chats(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    client_chat(&conn);
    let first = store::sync(&conn, &seller, 0, None).expect("sync");
    assert!(kinds(&first).contains(&"chat"));
    assert!(store::set_channel_state(&conn, "wa", "phoneUnavailable").expect("state"));
    let next = store::sync(&conn, &seller, first.cursor, None).expect("sync");
    assert_eq!(kinds(&next), ["channels"]);
    assert!(next.cursor > first.cursor);
}

/// A re-snapshot (the viewer's own edit) carries the messages changed since the cursor, but
/// never more than a first sync's history: past that, a first sync's history instead.
fn a_re_snapshot_carries_no_more_than_a_first_syncs_history(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let at = store::sync(&conn, &seller, 0, None).expect("sync").cursor;
    for i in 0..5 {
        let at = format!("2026-12-01T10:00:0{i}.000Z");
        store::ingest(
            &conn,
            &inbound(&format!("p{i}"), "79161112233", "hi", &at),
            &at,
        )
        .expect("ingest");
    }
    let edit = EmployeePatch {
        name: Some("Anna B.".into()),
        ..Default::default()
    };
    store::patch_employee(&conn, &seller, &edit).expect("patch");
    let depth = |chats| store::SnapshotDepth {
        chats,
        messages: 2,
        ..store::SnapshotDepth::DEFAULT
    };
    let messages = |s: &SyncResponse| kinds(s).iter().filter(|k| **k == "message").count();
    let roomy = store::sync_with(&conn, &seller, at, None, depth(10)).expect("sync");
    assert!(kinds(&roomy).contains(&"me"));
    assert_eq!(
        messages(&roomy),
        5,
        "every message changed since the cursor"
    );
    let tight = store::sync_with(&conn, &seller, at, None, depth(1)).expect("sync");
    assert_eq!(
        messages(&tight),
        2,
        "a first sync's history: 2 messages of 1 chat"
    );
}

/// A settings change sends the settings alone: the chats carry the facts a desktop colours
/// their badges from (`core::badge`), so nothing else moves, whatever the workspace holds.
fn a_settings_flip_sends_the_settings_alone(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let boss = employee(&conn, "Vera", Role::Supervisor);
    let waiting = client_chat(&conn);
    let first = store::sync(&conn, &boss, 0, None).expect("sync");
    let chat = first
        .changes
        .iter()
        .find_map(|c| match c {
            Change::Chat { chat } if chat.id == waiting.id => Some(chat.clone()),
            _ => None,
        })
        .expect("the waiting chat");
    assert_eq!(chat.unanswered.color, Some(BadgeColor::Grey));
    let seller_at = store::sync(&conn, &seller, 0, None).expect("sync").cursor;
    let patch = SettingsPatch {
        notify_supervisors_all: Some(true),
        ..Default::default()
    };
    let now = store::put_settings(&conn, &patch, "admin", T1).expect("put");
    let boss_sync = store::sync(&conn, &boss, first.cursor, None).expect("sync");
    assert_eq!(kinds(&boss_sync), ["settings"]);
    assert_eq!(
        kinds(&store::sync(&conn, &seller, seller_at, None).expect("sync")),
        ["settings"]
    );
    // What the desktop then computes from the facts it holds.
    let me = store::employee(&conn, &boss).expect("read").expect("boss");
    let facts = switchboard_core::ChatFacts {
        responsible: chat.responsible_id.as_deref(),
        unanswered: chat.unanswered.count,
        escalated: chat.escalated,
    };
    assert_eq!(
        switchboard_core::badge(&me, &facts, &now).and_then(|b| b.color),
        Some(BadgeColor::Red)
    );
}

/// A snapshot comes in pages: waiting chats first, then the others, newest activity first;
/// every chat once; the first page carries who and what, the last every visible chat's id;
/// the cursor stays the snapshot's; what changes meanwhile follows in the log after it.
fn a_snapshot_comes_in_pages_waiting_chats_first(b: &Backend) {
    let (conn, _keep) = (b.open)();
    workspace(&conn);
    let boss = employee(&conn, "Vera", Role::Supervisor);
    let mut waiting = Vec::new();
    let mut answered = Vec::new();
    for i in 0..7 {
        let at = format!("2026-12-01T10:00:{i:02}.000Z");
        let message = inbound(&format!("p{i}"), &format!("7916111220{i}"), "hi", &at);
        let chat = store::ingest(&conn, &message, &at)
            .expect("ingest")
            .expect("new")
            .chat;
        if i % 2 == 0 {
            let event = switchboard_core::ChatEvent::MarkedAnswered;
            store::apply_chat_event(&conn, &chat, event, &at, &at).expect("answered");
            answered.insert(0, chat);
        } else {
            waiting.insert(0, chat);
        }
    }
    let depth = store::SnapshotDepth {
        chats: 1,
        messages: 50,
        waiting: 1,
        first_page: 2,
        page: 2,
    };
    let first = store::sync_with(&conn, &boss, 0, None, depth).expect("sync");
    assert_eq!(&kinds(&first)[..3], ["me", "settings", "channels"]);
    assert!(first.has_more && first.page.is_some());
    assert_eq!(first.progress.map(|p| (p.chats, p.total)), Some((2, 7)));
    let cursor = first.cursor;
    // An answered chat not yet sent gets a message between pages: it waits now, behind the
    // page being read; the log after the cursor carries it.
    let late = answered[2].clone();
    store::ingest(&conn, &inbound("late", "79161112202", "again", T1), T1)
        .expect("ingest")
        .expect("known");
    let mut answers = vec![first];
    while let Some(token) = answers.last().and_then(|a| a.page.clone()) {
        let page = store::SnapshotPage::parse(&token).expect("a token this hub wrote");
        let next = store::sync_with(&conn, &boss, cursor, Some(&page), depth).expect("page");
        assert_eq!(next.cursor, cursor, "a page keeps the snapshot's cursor");
        assert!(
            !kinds(&next)
                .iter()
                .any(|k| ["me", "settings", "channels"].contains(k)),
            "{:?}",
            kinds(&next)
        );
        answers.push(next);
        assert!(answers.len() < 10, "the pages end");
    }
    let order: Vec<String> = answers
        .iter()
        .flat_map(|a| &a.changes)
        .filter_map(|c| match c {
            Change::Chat { chat } => Some(chat.id.clone()),
            _ => None,
        })
        .collect();
    let mut expected = waiting.clone();
    expected.extend(answered.iter().filter(|id| **id != late).cloned());
    assert_eq!(order, expected, "waiting first, then the others, each once");
    let last = answers.last().expect("answers");
    assert_eq!(last.progress.map(|p| (p.chats, p.total)), Some((7, 7)));
    match last.changes.last() {
        Some(Change::VisibleChats { ids }) => assert_eq!(ids.len(), 7),
        other => panic!("the last page ends with every visible chat: {other:?}"),
    }
    assert!(last.has_more, "the log moved past the snapshot's cursor");
    let messages = answers
        .iter()
        .flat_map(|a| &a.changes)
        .filter(|c| matches!(c, Change::Message { .. }))
        .count();
    assert_eq!(
        messages, 2,
        "history for the newest chat, the unanswered message of one more waiting chat"
    );
    let after = store::sync(&conn, &boss, cursor, None).expect("sync");
    assert!(
        after
            .changes
            .iter()
            .any(|c| matches!(c, Change::Chat { chat } if chat.id == late)),
        "{:?}",
        kinds(&after)
    );
}

/// A seller's snapshot pages hold the chats they see only, and count only those.
fn a_sellers_snapshot_pages_hold_their_chats_only(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, anna) = workspace(&conn);
    // Nobody answers for the chat yet: Anna sees it (she gets new clients), Boris does not.
    let chat = client_chat(&conn);
    let boris = employee(&conn, "Boris", Role::Seller);
    let depth = store::SnapshotDepth {
        first_page: 1,
        page: 1,
        ..store::SnapshotDepth::DEFAULT
    };
    let pages = |viewer: &str| {
        let mut answer = store::sync_with(&conn, viewer, 0, None, depth).expect("sync");
        let cursor = answer.cursor;
        let (mut chats, mut messages, mut visible) = (Vec::new(), Vec::new(), None);
        loop {
            for c in &answer.changes {
                match c {
                    Change::Chat { chat } => chats.push(chat.id.clone()),
                    Change::Message { message } => messages.push(message.chat.clone()),
                    Change::VisibleChats { ids } => visible = Some(ids.clone()),
                    _ => {}
                }
            }
            let total = answer.progress.map(|p| p.total);
            assert_eq!(
                total,
                Some(chats.len().max(visible.as_ref().map_or(0, Vec::len)) as u64)
            );
            let Some(token) = answer.page.clone() else {
                break;
            };
            let page = store::SnapshotPage::parse(&token).expect("token");
            answer = store::sync_with(&conn, viewer, cursor, Some(&page), depth).expect("page");
        }
        (
            chats,
            messages,
            visible.expect("the last page lists the visible chats"),
        )
    };
    let one = vec![chat.id.clone()];
    assert_eq!(pages(&anna), (one.clone(), one.clone(), one));
    assert_eq!(pages(&boris), (vec![], vec![], vec![]));
}

/// An employee edit re-scopes only that employee: another desktop hears nothing of it, theirs
/// gets a snapshot (their role or new clients may change what they see).
fn an_employee_edit_re_scopes_only_that_employee(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let other = employee(&conn, "Boris", Role::Seller);
    client_chat(&conn);
    let at = store::sync(&conn, &seller, 0, None).expect("sync").cursor;
    let rename = EmployeePatch {
        name: Some("Boris B.".into()),
        ..Default::default()
    };
    store::patch_employee(&conn, &other, &rename).expect("patch");
    let quiet = store::sync(&conn, &seller, at, None).expect("sync");
    assert_eq!(kinds(&quiet), Vec::<&str>::new());
    assert!(quiet.cursor > at, "the cursor still moves past the edit");
    let narrower = EmployeePatch {
        receives_new_clients: Some(false),
        ..Default::default()
    };
    store::patch_employee(&conn, &seller, &narrower).expect("patch");
    let own = store::sync(&conn, &seller, quiet.cursor, None).expect("sync");
    assert!(kinds(&own).contains(&"me") && kinds(&own).contains(&"visible_chats"));
}

/// A first sync lists every chat (each with its last message, the list's preview) but carries
/// recent history only for the newest chats, and for every other chat waiting for an answer its
/// unanswered messages; the rest is fetched when a chat is opened.
fn a_first_sync_carries_history_for_the_newest_chats_only(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, seller) = workspace(&conn);
    let older = client_chat(&conn);
    store::apply_chat_event(
        &conn,
        &older.id,
        switchboard_core::ChatEvent::MarkedAnswered,
        T0,
        T0,
    )
    .expect("answered");
    store::ingest(&conn, &inbound("p1b", "79161112233", "again", T0), T0).expect("ingest");
    let answered = store::ingest(&conn, &inbound("p3", "79163334455", "thanks", T0), T0)
        .expect("ingest")
        .expect("new")
        .chat;
    store::apply_chat_event(
        &conn,
        &answered,
        switchboard_core::ChatEvent::MarkedAnswered,
        T0,
        T0,
    )
    .expect("answered");
    let newer = store::ingest(&conn, &inbound("p2", "79162223344", "hello", T1), T1)
        .expect("ingest")
        .expect("new")
        .chat;
    let depth = store::SnapshotDepth {
        chats: 1,
        messages: 50,
        waiting: 10,
        ..store::SnapshotDepth::DEFAULT
    };
    let first = store::sync_with(&conn, &seller, 0, None, depth).expect("sync");
    let chats: Vec<&switchboard_hub::json::ChatView> = first
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Chat { chat } => Some(chat),
            _ => None,
        })
        .collect();
    assert_eq!(chats.len(), 3, "every chat is listed");
    assert!(chats.iter().all(|c| c.last_message.is_some()));
    let mut messages: Vec<(&str, &str)> = first
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Message { message } => Some((message.chat.as_str(), message.text.as_str())),
            _ => None,
        })
        .collect();
    messages.sort();
    let mut expected = vec![(newer.as_str(), "hello"), (older.id.as_str(), "again")];
    expected.sort();
    assert_eq!(
        messages, expected,
        "the newest chat's history, the waiting chat's unanswered message, nothing of the answered"
    );
    let none_waiting = store::SnapshotDepth {
        waiting: 0,
        ..depth
    };
    let bounded = store::sync_with(&conn, &seller, 0, None, none_waiting).expect("sync");
    assert_eq!(
        kinds(&bounded).iter().filter(|k| **k == "message").count(),
        1,
        "waiting chats past the bound are fetched on open"
    );
    let deeper = store::SnapshotDepth {
        chats: 3,
        messages: 50,
        waiting: 0,
        ..store::SnapshotDepth::DEFAULT
    };
    let all = store::sync_with(&conn, &seller, 0, None, deeper).expect("sync");
    assert_eq!(kinds(&all).iter().filter(|k| **k == "message").count(), 4);
}

/// A desktop whose cursor predates migration 11 gets a snapshot next (moves logged before
/// it carry no `lost` entry).
#[test]
fn a_cursor_from_before_the_lost_entries_gets_a_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    let (seller, cursor) = {
        let conn =
            switchboard_db::open(&path, &switchboard_hub::db::MIGRATIONS[..10]).expect("v10");
        store::ensure_workspace(&conn).expect("workspace");
        let seller = store::insert_employee(
            &conn,
            &switchboard_hub::json::NewEmployee {
                name: "S".into(),
                role: switchboard_core::Role::Seller,
                receives_new_clients: true,
                priority_channel_id: None,
                crm_user_id: None,
            },
        )
        .expect("seller");
        let cursor = store::record_change(&conn, store::ChangeKind::Chat, "c").expect("change");
        (seller.id, cursor)
    };
    let conn = switchboard_hub::db::open_hub(&path).expect("migrated");
    let answer = store::sync(&conn, &seller, cursor, None).expect("sync");
    assert!(
        answer
            .changes
            .iter()
            .any(|c| c.type_name() == "visible_chats"),
        "{answer:?}"
    );
}

/// Every viewer's sync through one shared log cache (as the hub answers) says what a read of
/// its own says, change for change, byte for byte on the wire: a seller is never sent another
/// seller's chat or message that a supervisor's sync put in the cache, a chat moved away is
/// said gone only to whom it was visible, and a cached entry read before a later change is
/// followed by that change.
fn a_shared_log_cache_answers_each_viewer_as_its_own_read(b: &Backend) {
    let (conn, _keep) = (b.open)();
    let (_, anna) = workspace(&conn);
    let boris = employee(&conn, "Boris", Role::Seller);
    let vera = employee(&conn, "Vera", Role::Supervisor);
    let cache = store::LogCache::default();
    let depth = store::SnapshotDepth::DEFAULT;
    let mut cursors = vec![(vera.clone(), 0), (anna.clone(), 0), (boris.clone(), 0)];
    let mut seen: std::collections::HashMap<String, Vec<String>> = Default::default();
    let round = |conn: &Connection,
                 cursors: &mut Vec<(String, i64)>,
                 seen: &mut std::collections::HashMap<String, Vec<String>>| {
        for (viewer, cursor) in cursors.iter_mut() {
            loop {
                let shared =
                    store::sync_shared(conn, &cache, viewer, *cursor, None, depth).expect("shared");
                let wire = serde_json::to_string(&shared).expect("json");
                let answer = shared.into_response().expect("read back");
                let own = store::sync(conn, viewer, *cursor, None).expect("own read");
                assert_eq!(answer, own, "{viewer} from {cursor}");
                assert_eq!(
                    wire,
                    serde_json::to_string(&own).expect("json"),
                    "the same bytes"
                );
                for c in &answer.changes {
                    match c {
                        Change::Chat { chat } => seen
                            .entry(viewer.clone())
                            .or_default()
                            .push(chat.id.clone()),
                        Change::Message { message } => seen
                            .entry(viewer.clone())
                            .or_default()
                            .push(message.chat.clone()),
                        _ => {}
                    }
                }
                *cursor = answer.cursor;
                if !answer.has_more && answer.page.is_none() {
                    break;
                }
                assert!(answer.page.is_none(), "no snapshot past the first");
            }
        }
    };
    // Anna's client (she gets new clients), then first syncs.
    let annas = client_chat(&conn);
    round(&conn, &mut cursors, &mut seen);
    // Supervisor first, so the cache holds Anna's entries before Boris reads.
    for i in 0..5 {
        store::ingest(
            &conn,
            &inbound(&format!("more-{i}"), "79161112233", "again", T1),
            T1,
        )
        .expect("ingest");
    }
    round(&conn, &mut cursors, &mut seen);
    assert!(
        !seen.get(&boris).is_some_and(|ids| ids.contains(&annas.id)),
        "Boris is never sent Anna's client"
    );
    // Anna's lead in the CRM, then it moves to Boris: the chat moves with it.
    let lead = switchboard_core::CrmRef {
        kind: switchboard_core::EntityKind::Lead,
        id: ivans_lead(&conn, &anna),
    };
    round(&conn, &mut cursors, &mut seen);
    store::patch_entity(
        &conn,
        &lead,
        &switchboard_hub::json::CrmEntityPatch {
            responsible_id: Some(Some(boris.clone())),
            ..Default::default()
        },
    )
    .expect("patch")
    .expect("the lead");
    store::ingest(
        &conn,
        &inbound("after-move", "79161112233", "still here?", T1),
        T1,
    )
    .expect("ingest");
    let before_boris = seen.get(&boris).map_or(0, Vec::len);
    round(&conn, &mut cursors, &mut seen);
    assert!(
        seen[&boris][before_boris..].contains(&annas.id),
        "Boris now gets the chat"
    );
}

/// A lead for the client of 79161112233 with `responsible` (their chat moves to them).
fn ivans_lead(conn: &Connection, responsible: &str) -> String {
    store::insert_entity(
        conn,
        switchboard_core::EntityKind::Lead,
        &switchboard_hub::json::NewCrmEntity {
            title: "Ivan".into(),
            phones: vec!["+79161112233".into()],
            responsible_id: Some(responsible.to_owned()),
            contact_id: None,
            closed: false,
            stage: None,
        },
    )
    .expect("lead")
}

macro_rules! conformance {
    ($backend:expr => $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                super::$case(&$backend);
            }
        )*
    };
}

mod sqlite {
    conformance! { super::SQLITE =>
        a_redelivered_message_is_stored_once,
        a_new_client_opens_a_chat_for_the_seller_who_gets_new_clients,
        statuses_only_move_forward_and_replies_are_idempotent,
        an_outbox_claim_is_leased,
        a_phone_echo_does_not_swallow_a_queued_reply,
        the_change_log_is_ordered_and_sync_respects_visibility,
        tokens_name_their_employee_until_revoked,
        settings_changes_are_audited_at_the_time_given,
        a_channel_state_change_sends_the_channels_not_the_chats,
        a_settings_flip_sends_the_settings_alone,
        an_employee_edit_re_scopes_only_that_employee,
        a_first_sync_carries_history_for_the_newest_chats_only,
        a_snapshot_comes_in_pages_waiting_chats_first,
        a_sellers_snapshot_pages_hold_their_chats_only,
        a_re_snapshot_carries_no_more_than_a_first_syncs_history,
        a_shared_log_cache_answers_each_viewer_as_its_own_read,
    }
}

/// A message cached (by a supervisor's sync) while its chat was nobody's is sent to the seller
/// who gains the chat afterwards and syncs from before it, as a read of his own sends it (who
/// answers the chat is read as of the viewer's answer, not kept with the message).
#[test]
fn a_message_cached_before_its_chat_moved_reaches_the_new_responsible() {
    let (conn, _keep) = (SQLITE.open)();
    let (_, _anna) = workspace(&conn);
    let boris = employee(&conn, "Boris", Role::Seller);
    let vera = employee(&conn, "Vera", Role::Supervisor);
    let cache = store::LogCache::default();
    let depth = store::SnapshotDepth::DEFAULT;
    let chat = client_chat(&conn); // unassigned: Boris does not see it
    let full = |viewer: &str, mut cursor: i64| loop {
        let a = store::sync_shared(&conn, &cache, viewer, cursor, None, depth)
            .expect("sync")
            .into_response()
            .expect("read back");
        cursor = a.cursor;
        if !a.has_more && a.page.is_none() {
            break cursor;
        }
    };
    let boris_cursor = full(&boris, 0);
    let vera_cursor = full(&vera, 0);
    store::ingest(
        &conn,
        &inbound("m2", "79161112233", "for whoever answers", T1),
        T1,
    )
    .expect("ingest")
    .expect("new");
    // Vera's desktop syncs first: the message's entry is cached with responsible = none.
    store::sync_shared(&conn, &cache, &vera, vera_cursor, None, depth).expect("vera");
    // The client's lead belongs to Boris: the chat is his now.
    ivans_lead(&conn, &boris);
    assert_eq!(
        store::chat_row_by_id(&conn, &chat.id)
            .expect("read")
            .expect("the chat")
            .responsible_id
            .as_deref(),
        Some(boris.as_str())
    );
    let own = store::sync(&conn, &boris, boris_cursor, None).expect("own");
    let shared = store::sync_shared(&conn, &cache, &boris, boris_cursor, None, depth)
        .expect("shared")
        .into_response()
        .expect("read back");
    let msgs = |r: &SyncResponse| {
        r.changes
            .iter()
            .filter_map(|c| match c {
                Change::Message { message } => Some(message.text.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(msgs(&own), ["for whoever answers"]);
    assert_eq!(
        shared, own,
        "Boris is sent the message as by a read of his own"
    );
}

/// Viewers at different cursors (a desktop that synced without the cache, or past the tail):
/// every shared answer equals a read of its own, and the tail never spans a gap.
#[test]
fn viewers_at_different_cursors_share_the_log_tail() {
    let (conn, _keep) = (SQLITE.open)();
    let (_, anna) = workspace(&conn);
    let vera = employee(&conn, "Vera", Role::Supervisor);
    let cache = store::LogCache::default();
    let depth = store::SnapshotDepth::DEFAULT;
    client_chat(&conn);
    let c0 = store::last_seq(&conn).unwrap();
    let check = |viewer: &str, cursor: i64| {
        let shared = store::sync_shared(&conn, &cache, viewer, cursor, None, depth)
            .unwrap()
            .into_response()
            .unwrap();
        let own = store::sync(&conn, viewer, cursor, None).unwrap();
        assert_eq!(shared, own, "{viewer} from {cursor}");
        shared.cursor
    };
    store::ingest(&conn, &inbound("w0", "79161112233", "w0", T1), T1).unwrap();
    let c1 = check(&vera, c0); // tail (c0, c1]
    store::ingest(&conn, &inbound("w1", "79161112233", "w1", T1), T1).unwrap();
    let c2 = store::sync(&conn, &anna, c1, None).unwrap().cursor; // not through the cache
    store::ingest(&conn, &inbound("w2", "79161112233", "w2", T1), T1).unwrap();
    check(&anna, c2); // a cursor past the tail
    check(&vera, c1); // must still get w1
}

/// The other way: the seller who lost the chat is told it is gone, and not sent its message
/// (as a read of her own).
#[test]
fn a_message_cached_before_its_chat_moved_is_not_sent_to_who_lost_it() {
    let (conn, _keep) = (SQLITE.open)();
    let (_, anna) = workspace(&conn);
    let boris = employee(&conn, "Boris", Role::Seller);
    let vera = employee(&conn, "Vera", Role::Supervisor);
    let cache = store::LogCache::default();
    let depth = store::SnapshotDepth::DEFAULT;
    client_chat(&conn); // unassigned: Anna (gets new clients) sees it
    let c0 = store::last_seq(&conn).unwrap();
    store::ingest(&conn, &inbound("m2", "79161112233", "m2", T1), T1).unwrap();
    store::sync_shared(&conn, &cache, &vera, c0, None, depth).expect("vera");
    ivans_lead(&conn, &boris);
    let own = store::sync(&conn, &anna, c0, None).expect("own");
    let shared = store::sync_shared(&conn, &cache, &anna, c0, None, depth)
        .unwrap()
        .into_response()
        .unwrap();
    assert_eq!(kinds(&own), ["chat_removed"]);
    assert_eq!(shared, own);
}

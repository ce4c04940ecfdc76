//! The desktop's local store at volume: `BENCH_CHATS` chats (default 100 000; 2 % waiting,
//! half of those red) applied as one sync answer; then a page of the chat list (at the top and
//! in the middle), a page of "mine", the tray's counters, one chat's row, an open chat's 50
//! messages and a settings flip's recolouring — and the floor, same run, same file: a bare
//! rusqlite read of the same page and of the same messages.
//! Run: `cargo bench -p switchboard --bench local_list` (prints figures and ratios).

use std::time::{Duration, Instant};
use switchboard_core::{Direction, MessageStatus, Role, Settings};
use switchboard_desktop::local::{LocalStore, MESSAGES_SQL, ROW_COLUMNS};
use switchboard_desktop::vm::ChatFilter;
use switchboard_wire::{Change, EmployeeView, MessageView, SyncResponse};

#[path = "../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;
mod support {
    pub mod seed;
    pub mod timing;
}
use support::seed::chat;
use support::timing::{ms, time};

fn me() -> Change {
    Change::Me {
        employee: EmployeeView {
            id: "e0".into(),
            name: "Вера".into(),
            role: Role::Supervisor,
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

fn message(chat: &str, i: usize) -> MessageView {
    MessageView {
        id: format!("{chat}-m{i}"),
        chat: chat.into(),
        direction: if i.is_multiple_of(2) {
            Direction::In
        } else {
            Direction::Out
        },
        text: format!("Сообщение {i}: когда будет готов заказ?"),
        content_uri: None,
        at: format!("2026-11-25T10:{:02}:00.000Z", i % 60),
        author_id: None,
        status: MessageStatus::Delivered,
        error: None,
        mirror: Default::default(),
        kind: Default::default(),
        media: None,
        place: None,
    }
}

const RUNS: usize = 41;
/// The list, row and open-chat reads (and their floors) take tens of microseconds: many runs
/// each, so that their medians and ratios are not one scheduling hiccup.
const MICRO_RUNS: usize = 1001;

fn main() -> anyhow::Result<()> {
    let chats: usize = std::env::var("BENCH_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("local.db");
    let store = LocalStore::open(&path)?;
    let t = Instant::now();
    let mut changes = vec![me(), settings(false)];
    changes.extend((0..chats).map(|i| Change::Chat { chat: chat(i) }));
    changes.extend((0..50).map(|i| Change::Message {
        message: message("chat-7", i),
    }));
    store.apply(&SyncResponse {
        changes,
        cursor: 1,
        has_more: false,
        ..SyncResponse::default()
    })?;
    let applied = t.elapsed();
    println!("applied {chats} chats in {applied:.2?}");
    // The same sync into a store whose index of each CRM entity's chats (Ctrl+K by a CRM
    // title, migration 016) takes nothing: what that index costs, same run.
    let bare_crm = {
        let path = dir.path().join("without-chat-crm.db");
        drop(LocalStore::open(&path)?);
        rusqlite::Connection::open(&path)?.execute_batch(
            // Statements on it still run, and do nothing.
            "DROP TRIGGER chats_crm_delete; DROP TABLE chat_crm; \
             CREATE VIEW chat_crm (kind, id, chat) AS SELECT NULL, NULL, NULL WHERE 0; \
             CREATE TRIGGER chat_crm_nothing_in INSTEAD OF INSERT ON chat_crm BEGIN SELECT 1; END; \
             CREATE TRIGGER chat_crm_nothing_out INSTEAD OF DELETE ON chat_crm BEGIN SELECT 1; END;",
        )?;
        let other = LocalStore::open(&path)?;
        let mut changes = vec![me(), settings(false)];
        changes.extend((0..chats).map(|i| Change::Chat { chat: chat(i) }));
        changes.extend((0..50).map(|i| Change::Message {
            message: message("chat-7", i),
        }));
        let t = Instant::now();
        other.apply(&SyncResponse {
            changes,
            cursor: 1,
            has_more: false,
            ..SyncResponse::default()
        })?;
        t.elapsed()
    };
    println!(
        "the same sync without the chat_crm index: {bare_crm:.2?} ({:.2}×)",
        applied.as_secs_f64() / bare_crm.as_secs_f64()
    );
    const PAGE: u32 = 50;
    let deep = (chats as u32 / 2).saturating_sub(PAGE);
    let first = time(MICRO_RUNS, || {
        store.chat_list(ChatFilter::All, 0, PAGE).expect("page");
    });
    let middle = time(MICRO_RUNS, || {
        store.chat_list(ChatFilter::All, deep, PAGE).expect("page");
    });
    let mine = time(MICRO_RUNS, || {
        store.chat_list(ChatFilter::Mine, 0, PAGE).expect("page");
    });
    let counters = time(MICRO_RUNS, || {
        store.counters().expect("counters");
    });
    let row = time(MICRO_RUNS, || {
        store.chat_row("chat-7").expect("row");
    });
    let open = time(MICRO_RUNS, || {
        assert_eq!(store.messages("chat-7").expect("messages").len(), 50);
    });
    // Ctrl+K, one keystroke's query over every chat: a name nobody has (every title and
    // address scored, none kept), text every title matches (scored and ranked), a number typed
    // with 8 (one client), the first digits every client shares.
    let jump_miss = time(RUNS, || {
        assert!(store.jump("иван петров", 20).expect("jump").is_empty());
    });
    let jump_all = time(RUNS, || {
        assert_eq!(store.jump("+7 9", 20).expect("jump").len(), 20);
    });
    let jump_number = time(RUNS, || {
        assert_eq!(store.jump("8 916 000-00-07", 20).expect("jump").len(), 1);
    });
    let jump_digits = time(RUNS, || {
        assert_eq!(store.jump("916", 20).expect("jump").len(), 20);
    });
    // The floor: the same SQL the store runs (its own text), bare on the same file: every
    // column read as an owned value, no view model built.
    let bare = rusqlite::Connection::open(&path)?;
    let owned = |r: &rusqlite::Row| -> rusqlite::Result<Vec<rusqlite::types::Value>> {
        (0..r.as_ref().column_count()).map(|i| r.get(i)).collect()
    };
    let page_sql = format!(
        "{ROW_COLUMNS} ORDER BY badge_count > 0 DESC, last_activity_at DESC, id LIMIT ?1 OFFSET ?2"
    );
    let floor = |offset: u32| {
        time(MICRO_RUNS, || {
            let mut stmt = bare.prepare_cached(&page_sql).expect("prepare");
            let n = stmt
                .query_map([PAGE, offset], |r| owned(r))
                .expect("rows")
                .count();
            assert_eq!(n, PAGE as usize);
        })
    };
    let (floor_first, floor_middle) = (floor(0), floor(deep));
    let floor_open = time(MICRO_RUNS, || {
        let mut stmt = bare.prepare_cached(MESSAGES_SQL).expect("prepare");
        let n = stmt
            .query_map(["chat-7"], |r| owned(r))
            .expect("rows")
            .count();
        assert_eq!(n, 50);
        // As opening a chat does: this desktop's unsent messages of it.
        let mut stmt = bare
            .prepare_cached("SELECT key, text, created_at FROM outbox WHERE chat = ?1 ORDER BY seq")
            .expect("prepare");
        assert_eq!(
            stmt.query_map(["chat-7"], |_| Ok(()))
                .expect("rows")
                .count(),
            0
        );
    });
    // A settings flip: the waiting chats recoloured here (the hub sends the settings alone).
    let t = Instant::now();
    store.apply(&SyncResponse {
        changes: vec![settings(true)],
        cursor: 2,
        ..SyncResponse::default()
    })?;
    let flip = t.elapsed();
    let after = store.counters()?;
    assert_eq!(
        after.grey, 0,
        "every waiting chat is the supervisor's to answer now"
    );
    let ratio = |(a, _): (Duration, Duration), (b, _): (Duration, Duration)| {
        a.as_secs_f64() / b.as_secs_f64()
    };
    println!(
        "page of {PAGE}, top: median {:.2} ms, p95 {:.2} ms (bare {:.2} ms, {:.2}×); at {deep}: median {:.2} ms, p95 {:.2} ms (bare {:.2} ms, {:.2}×)",
        ms(first.0), ms(first.1), ms(floor_first.0), ratio(first, floor_first),
        ms(middle.0), ms(middle.1), ms(floor_middle.0), ratio(middle, floor_middle),
    );
    println!(
        "open chat (50 messages): median {:.2} ms, p95 {:.2} ms (bare {:.2} ms, {:.2}×)",
        ms(open.0),
        ms(open.1),
        ms(floor_open.0),
        ratio(open, floor_open),
    );
    println!(
        "Ctrl+K over {chats} chats: a name nobody has median {:.1} ms, p95 {:.1} ms; text every title matches {:.1} / {:.1} ms; a number typed with 8 {:.1} / {:.1} ms; digits every client shares {:.1} / {:.1} ms",
        ms(jump_miss.0), ms(jump_miss.1), ms(jump_all.0), ms(jump_all.1),
        ms(jump_number.0), ms(jump_number.1), ms(jump_digits.0), ms(jump_digits.1),
    );
    perf_md::record_as(
        "cargo bench -p switchboard --bench local_list (its Ctrl+K figures)",
        &format!("Ctrl+K on the desktop, {chats} chats (one query = one keystroke after a 60 ms pause)"),
        &format!(
            "a name nobody has (every title and address scored) median {:.1} ms, p95 {:.1} ms; text every title matches {:.1} / {:.1} ms; a number typed with 8 {:.1} / {:.1} ms; the first digits every client shares {:.1} / {:.1} ms ({RUNS} runs each)",
            ms(jump_miss.0), ms(jump_miss.1), ms(jump_all.0), ms(jump_all.1),
            ms(jump_number.0), ms(jump_number.1), ms(jump_digits.0), ms(jump_digits.1),
        ),
    );
    println!(
        "\"mine\" page: {:.2} ms; tray counters: {:.3} ms; one chat's row: {:.3} ms; a settings flip recolouring {} chats: {:.1} ms",
        ms(mine.0), ms(counters.0), ms(row.0), after.red, ms(flip),
    );
    perf_md::record(
        "local_list",
        &format!("desktop local store, {chats} chats (1 % red, 1 % grey)"),
        &format!(
            "a page of 50 at the top: median {:.2} ms, p95 {:.2} ms (bare rusqlite {:.2} ms, {:.2}×); at the middle {:.2} / {:.2} ms (bare {:.2} ms, {:.2}×); open chat (50 messages) {:.2} / {:.2} ms (bare {:.2} ms, {:.2}×); \"mine\" {:.2} ms; tray counters {:.2} ms; a settings flip recolouring the waiting chats {:.1} ms; one sync applying them all {:.2} s ({:.2} s without the index of each CRM entity's chats, {:.2}×) ({MICRO_RUNS} runs each)",
            ms(first.0), ms(first.1), ms(floor_first.0), ratio(first, floor_first),
            ms(middle.0), ms(middle.1), ms(floor_middle.0), ratio(middle, floor_middle),
            ms(open.0), ms(open.1), ms(floor_open.0), ratio(open, floor_open),
            ms(mine.0), ms(counters.0), ms(flip),
            applied.as_secs_f64(), bare_crm.as_secs_f64(), applied.as_secs_f64() / bare_crm.as_secs_f64()
        ),
    );
    Ok(())
}

//! The desktop's local store at volume: `BENCH_CHATS` chats (default 100 000; 2 % waiting,
//! half of those red) applied as one sync answer; then the chat list (all, and "mine"), the
//! tray's counters, and — the floor, same run, same file — a bare rusqlite read of the same
//! rows' ids and activity.
//! Run: `cargo bench -p switchboard --bench local_list` (prints figures and ratios).

use std::time::{Duration, Instant};
use switchboard_core::{Badge, BadgeColor, CrmRef, Direction, EntityKind};
use switchboard_desktop::local::LocalStore;
use switchboard_desktop::vm::ChatFilter;
use switchboard_wire::{Change, ChatView, LastMessage, SyncResponse};

#[path = "../../crates/switchboard-hub/benches/support/perf_md.rs"]
mod perf_md;

fn chat(i: usize) -> ChatView {
    let color = match i % 100 {
        0 => Some(BadgeColor::Red),
        1 => Some(BadgeColor::Grey),
        _ => None,
    };
    ChatView {
        id: format!("chat-{i}"),
        channel_id: "wa".into(),
        chat_type: "whatsapp".into(),
        chat_id: format!("7916{i:07}"),
        title: format!("+7 916 {i:07}"),
        responsible_id: Some(format!("e{}", i % 20)),
        crm: vec![CrmRef {
            kind: EntityKind::Contact,
            id: i.to_string(),
        }],
        last_message: Some(LastMessage {
            id: format!("m-{i}"),
            direction: Direction::In,
            text: format!("Здравствуйте, вопрос по заказу {i}"),
            at: format!(
                "2026-11-{:02}T10:{:02}:{:02}.000Z",
                1 + i % 28,
                i % 60,
                (i / 60) % 60
            ),
        }),
        last_activity_at: format!(
            "2026-11-{:02}T10:{:02}:{:02}.000Z",
            1 + i % 28,
            i % 60,
            (i / 60) % 60
        ),
        unanswered: Badge {
            count: u32::from(color.is_some()),
            color,
        },
    }
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(n: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() -> anyhow::Result<()> {
    let chats: usize = std::env::var("BENCH_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("local.db");
    let store = LocalStore::open(&path)?;
    let t = Instant::now();
    store.apply(&SyncResponse {
        changes: (0..chats).map(|i| Change::Chat { chat: chat(i) }).collect(),
        cursor: 1,
        has_more: false,
    })?;
    let applied = t.elapsed();
    println!("applied {chats} chats in {applied:.2?}");
    let all = time(5, || {
        store.chat_list(ChatFilter::All).expect("list");
    });
    let mine = time(5, || {
        store.chat_list(ChatFilter::Mine).expect("list");
    });
    let counters = time(5, || {
        store.counters().expect("counters");
    });
    let bare = rusqlite::Connection::open(&path)?;
    let floor = time(5, || {
        let mut stmt = bare
            .prepare("SELECT id, last_activity_at FROM chats ORDER BY last_activity_at DESC, id")
            .expect("prepare");
        let n = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .expect("rows")
            .count();
        assert_eq!(n, chats);
    });
    println!("chat list, all {chats}: {all:.2?}; mine: {mine:.2?}; tray counters: {counters:.2?}");
    println!(
        "bare rusqlite read of the same rows: {floor:.2?} (list / bare: {:.1}×)",
        all.as_secs_f64() / floor.as_secs_f64()
    );
    perf_md::record(
        "local_list",
        &format!("desktop local store, {chats} chats (1 % red, 1 % grey)"),
        &format!(
            "chat list all {:.0} ms (bare read of the same rows {:.0} ms), \"mine\" {:.1} ms, tray counters {:.1} ms; one sync applying them all {:.2} s",
            all.as_secs_f64() * 1e3,
            floor.as_secs_f64() * 1e3,
            mine.as_secs_f64() * 1e3,
            counters.as_secs_f64() * 1e3,
            applied.as_secs_f64()
        ),
    );
    Ok(())
}

//! The desktop's local store at volume: `BENCH_CHATS` chats (default 100 000; 2 % waiting,
//! half of those red) applied as one sync answer; then a page of the chat list (at the top and
//! in the middle), a page of "mine", the tray's counters and one chat's row — and the floor,
//! same run, same file: a bare rusqlite read of the same page.
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
        escalated: false,
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
        ..SyncResponse::default()
    })?;
    let applied = t.elapsed();
    println!("applied {chats} chats in {applied:.2?}");
    const PAGE: u32 = 50;
    let deep = (chats as u32 / 2).saturating_sub(PAGE);
    let first = time(21, || {
        store.chat_list(ChatFilter::All, 0, PAGE).expect("page");
    });
    let middle = time(21, || {
        store.chat_list(ChatFilter::All, deep, PAGE).expect("page");
    });
    let mine = time(21, || {
        store.chat_list(ChatFilter::Mine, 0, PAGE).expect("page");
    });
    let counters = time(21, || {
        store.counters().expect("counters");
    });
    let row = time(21, || {
        store.chat_row("chat-7").expect("row");
    });
    // The floor: the same page's rows, bare (same file, same order and index).
    let bare = rusqlite::Connection::open(&path)?;
    let floor = |offset: u32| {
        time(21, || {
            let mut stmt = bare
                .prepare_cached(
                    "SELECT id, title, channel_id, last_text, last_from_client, last_activity_at, \
                     badge_count, badge_color, crm FROM chats \
                     ORDER BY last_activity_at DESC, id LIMIT ?1 OFFSET ?2",
                )
                .expect("prepare");
            let n = stmt
                .query_map([PAGE, offset], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(8)?,
                    ))
                })
                .expect("rows")
                .count();
            assert_eq!(n, PAGE as usize);
        })
    };
    let (floor_first, floor_middle) = (floor(0), floor(deep));
    println!(
        "page of {PAGE}, top: {first:.2?} (bare {floor_first:.2?}, {:.1}×); at {deep}: {middle:.2?} (bare {floor_middle:.2?}, {:.1}×)",
        first.as_secs_f64() / floor_first.as_secs_f64(),
        middle.as_secs_f64() / floor_middle.as_secs_f64()
    );
    println!("\"mine\" page: {mine:.2?}; tray counters: {counters:.2?}; one chat's row: {row:.2?}");
    perf_md::record(
        "local_list",
        &format!("desktop local store, {chats} chats (1 % red, 1 % grey)"),
        &format!(
            "a page of 50 at the top {:.2} ms (bare rusqlite {:.2} ms), at the middle {:.1} ms (bare {:.1} ms); \"mine\" {:.2} ms; tray counters {:.1} ms; one sync applying them all {:.2} s (medians of 21)",
            first.as_secs_f64() * 1e3,
            floor_first.as_secs_f64() * 1e3,
            middle.as_secs_f64() * 1e3,
            floor_middle.as_secs_f64() * 1e3,
            mine.as_secs_f64() * 1e3,
            counters.as_secs_f64() * 1e3,
            applied.as_secs_f64()
        ),
    );
    Ok(())
}

//! Linking at volume: a workspace whose CRM holds 20 000 leads and contacts (one or two phones
//! each, typed every which way) and 5 000 chats. Times what a CRM change costs (every chat
//! linked again: `relink_all`, run on a Bitrix24 event, a setting-2 flip, an edit) and what a
//! new client's first message costs (its chat linked). Both hold the hub's write lock, so both
//! delay every webhook behind them.
//! Run: `cargo bench -p switchboard-hub --bench relink` (prints figures; asserts nothing).

use rusqlite::params;
use std::time::Instant;
use switchboard_hub::store;

const ENTITIES: usize = 20_000;
const CHATS: usize = 5_000;

fn phone(i: usize) -> String {
    let n = 9_160_000_000u64 + i as u64 * 7;
    let s = n.to_string();
    match i % 4 {
        0 => format!("8 ({}) {}-{}-{}", &s[..3], &s[3..6], &s[6..8], &s[8..]),
        1 => format!("+7{s}"),
        2 => format!("7 {s}"),
        _ => format!("8{s}"),
    }
}

#[path = "support/perf_md.rs"]
mod perf_md;
#[path = "support/seed.rs"]
mod seed;

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let conn = switchboard_hub::db::open_hub(&dir.path().join("hub.db"))?;
    store::ensure_workspace(&conn)?;
    conn.execute(
        "INSERT INTO channels (id, transport, name, state, open_lines, sandbox) VALUES ('wa', 'whatsapp', 'WA', 'active', 0, 1)",
        [],
    )?;
    let tx = conn.unchecked_transaction()?;
    for i in 0..ENTITIES {
        let kind = if i % 2 == 0 { "lead" } else { "contact" };
        let phones = if i % 3 == 0 {
            serde_json::to_string(&[phone(i), phone(i + ENTITIES)])?
        } else {
            serde_json::to_string(&[phone(i)])?
        };
        tx.execute(
            "INSERT INTO crm_entities (kind, title, phones) VALUES (?1, ?2, ?3)",
            params![kind, format!("client {i}"), phones],
        )?;
    }
    for i in 0..CHATS {
        let n = format!("+7{}", 9_160_000_000u64 + (i * 4) as u64 * 7);
        tx.execute(
            "INSERT INTO chats (id, channel_id, chat_type, chat_id, title, client_phone, last_activity_at) \
             VALUES (?1, 'wa', 'whatsapp', ?2, ?3, ?4, '2026-11-25T10:00:00.000Z')",
            params![format!("chat-{i}"), n.trim_start_matches('+'), format!("chat {i}"), n],
        )?;
    }
    tx.commit()?;
    // The phone index, built as the hub does on its first start after the upgrade.
    conn.execute("UPDATE crm_index_state SET built = 0", [])?;
    let t = Instant::now();
    switchboard_hub::store::links::ensure_index(&conn)?;
    let index = t.elapsed();

    let t = Instant::now();
    store::relink_all(&conn)?;
    let first = t.elapsed();
    let t = Instant::now();
    store::relink_all(&conn)?;
    let again = t.elapsed();
    let linked: i64 = conn.query_row("SELECT count(DISTINCT chat) FROM chat_links", [], |r| {
        r.get(0)
    })?;

    let mut new_chat = Vec::new();
    for i in 0..20 {
        let n = 9_160_000_000u64 + (CHATS * 4 + i * 4) as u64 * 7;
        let t = Instant::now();
        store::ingest(
            &conn,
            &seed::inbound(format!("bench-{i}"), format!("7{n}"), "Здравствуйте".into()),
            &switchboard_hub::clock::now(),
        )?;
        new_chat.push(t.elapsed());
    }
    new_chat.sort();
    // One entity edited (its responsible and a new phone): only the chats it touches.
    let t = Instant::now();
    store::patch_entity(
        &conn,
        &switchboard_core::CrmRef {
            kind: switchboard_core::EntityKind::Contact,
            id: "2".into(),
        },
        &switchboard_hub::json::CrmEntityPatch {
            phones: Some(vec![phone(1), phone(5)]),
            ..Default::default()
        },
    )?;
    let edit = t.elapsed();
    println!(
        "{ENTITIES} entities, {CHATS} chats ({linked} linked): index built in {:.0} ms; relink_all first {:.0} ms, \
         again {:.0} ms; one entity edited {:.1} ms; a new client's first message p50 {:.1} ms, max {:.1} ms",
        index.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3,
        again.as_secs_f64() * 1e3,
        edit.as_secs_f64() * 1e3,
        new_chat[new_chat.len() / 2].as_secs_f64() * 1e3,
        new_chat[new_chat.len() - 1].as_secs_f64() * 1e3,
    );
    perf_md::record(
        "relink",
        &format!("linking at {ENTITIES} CRM entities × {CHATS} chats"),
        &format!(
            "relink all {:.2} s ({:.2} s when nothing moves), one edit {:.1} ms, a new client's chat {:.1} ms (p50)",
            first.as_secs_f64(),
            again.as_secs_f64(),
            edit.as_secs_f64() * 1e3,
            new_chat[new_chat.len() / 2].as_secs_f64() * 1e3,
        ),
    );
    Ok(())
}

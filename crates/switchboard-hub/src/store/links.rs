//! Which CRM entities a chat belongs to, and so who is responsible for it.
//!
//! Every CRM phone is read once, when its entity is written, under both values of setting 2
//! (`crm_numbers`), and every deal's contacts are listed (`crm_deal_contacts`). A chat then finds
//! its leads, contacts and deals by index lookups on its number — never by reading every phone
//! in the CRM — and a change to one entity relinks only the chats it can touch: those linked to
//! it now and those whose number it (or, for a deal, one of its contacts) carries.
//!
//! The index follows the workspace's CRM: `built_in` rows for the hub's own tables, `bitrix24`
//! rows for the portal's local index.

use crate::store::{self, Cached, Db};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeSet, HashSet};
use switchboard_core::{self as core, read_crm_phone, CrmKind, CrmRef, EntityKind, LinkedEntity};

/// The index the workspace's CRM uses.
pub fn source(conn: &Connection) -> rusqlite::Result<CrmKind> {
    Ok(if super::bitrix_index::bitrix(conn)?.is_some() {
        CrmKind::Bitrix24
    } else {
        CrmKind::BuiltIn
    })
}

/// (Re)indexes one entity: its phones under both settings, and a deal's contacts.
pub fn index_entity(
    conn: &Connection,
    source: CrmKind,
    kind: EntityKind,
    id: &str,
    phones: &[String],
    contacts: &[String],
) -> Db {
    unindex_entity(conn, source, kind, id)?;
    for eight in [false, true] {
        for raw in phones {
            if let Ok(n) = read_crm_phone(raw, eight) {
                conn.exec(
                    "INSERT OR IGNORE INTO crm_numbers (source, kind, id, eight_as_plus7, number) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![source.as_str(), kind.as_str(), id, eight, n.as_str()],
                )?;
            }
        }
    }
    if kind == EntityKind::Deal {
        for c in contacts {
            conn.exec(
                "INSERT OR IGNORE INTO crm_deal_contacts (source, deal, contact) VALUES (?1, ?2, ?3)",
                params![source.as_str(), id, c],
            )?;
        }
    }
    Ok(())
}

pub fn unindex_entity(conn: &Connection, source: CrmKind, kind: EntityKind, id: &str) -> Db {
    conn.exec(
        "DELETE FROM crm_numbers WHERE source = ?1 AND kind = ?2 AND id = ?3",
        params![source.as_str(), kind.as_str(), id],
    )?;
    if kind == EntityKind::Deal {
        conn.exec(
            "DELETE FROM crm_deal_contacts WHERE source = ?1 AND deal = ?2",
            params![source.as_str(), id],
        )?;
    }
    Ok(())
}

/// Drops a source's whole index (its entities are gone).
pub fn clear(conn: &Connection, source: CrmKind) -> Db {
    conn.exec(
        "DELETE FROM crm_numbers WHERE source = ?1",
        [source.as_str()],
    )?;
    conn.exec(
        "DELETE FROM crm_deal_contacts WHERE source = ?1",
        [source.as_str()],
    )?;
    Ok(())
}

/// Builds the index from the entities when it has never been built (a database from before it).
pub fn ensure_index(conn: &Connection) -> Db {
    let built: bool = conn.one("SELECT built FROM crm_index_state WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    if built {
        return Ok(());
    }
    clear(conn, CrmKind::BuiltIn)?;
    clear(conn, CrmKind::Bitrix24)?;
    let rows: Vec<(String, i64, String, Option<i64>)> = {
        let mut s = conn.prepare_cached("SELECT kind, id, phones, contact_id FROM crm_entities")?;
        let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (kind, id, phones, contact) in rows {
        let Some(kind) = EntityKind::parse(&kind) else {
            continue;
        };
        let phones: Vec<String> = serde_json::from_str(&phones).unwrap_or_default();
        let contacts: Vec<String> = contact.map(|c| c.to_string()).into_iter().collect();
        index_entity(
            conn,
            CrmKind::BuiltIn,
            kind,
            &id.to_string(),
            &phones,
            &contacts,
        )?;
    }
    let rows: Vec<(String, String, String, String)> = {
        let mut s =
            conn.prepare_cached("SELECT kind, id, phones, contact_ids FROM bitrix_entities")?;
        let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (kind, id, phones, contacts) in rows {
        let Some(kind) = EntityKind::parse(&kind) else {
            continue;
        };
        let phones: Vec<String> = serde_json::from_str(&phones).unwrap_or_default();
        let contacts: Vec<String> = serde_json::from_str(&contacts).unwrap_or_default();
        index_entity(conn, CrmKind::Bitrix24, kind, &id, &phones, &contacts)?;
    }
    conn.exec("UPDATE crm_index_state SET built = 1 WHERE id = 1", [])?;
    Ok(())
}

/// Responsible (an employee id) and closed, of one entity of the workspace's CRM.
pub fn link_facts(
    conn: &Connection,
    source: CrmKind,
    r: &CrmRef,
) -> rusqlite::Result<Option<(Option<String>, bool)>> {
    if source == CrmKind::Bitrix24 {
        return conn
            .query_row(
                "SELECT (SELECT e.id FROM employees e WHERE e.crm_user_id = b.assigned_by_id AND e.active = 1 ORDER BY e.id LIMIT 1), b.closed \
                 FROM bitrix_entities b WHERE b.kind = ?1 AND b.id = ?2",
                params![r.kind.as_str(), r.id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional();
    }
    let Ok(id) = r.id.parse::<i64>() else {
        return Ok(None);
    };
    conn.one(
        // A deactivated employee answers nobody: their clients are unassigned (and go to
        // those who receive new clients) until the CRM names someone else.
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM employees WHERE id = responsible_id AND active = 0) \
         THEN NULL ELSE responsible_id END, closed FROM crm_entities WHERE kind = ?1 AND id = ?2",
        params![r.kind.as_str(), id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
}

/// The open entities whose phones read (setting 2, `eight`) to `phone`, and the open deals of
/// any of those contacts; newest first within each kind.
pub fn linked_for_phone(
    conn: &Connection,
    source: CrmKind,
    eight: bool,
    phone: &str,
) -> rusqlite::Result<Vec<LinkedEntity>> {
    let mut refs: BTreeSet<(EntityKind, String)> = BTreeSet::new();
    {
        let mut s = conn.prepare_cached(
            "SELECT kind, id FROM crm_numbers WHERE source = ?1 AND eight_as_plus7 = ?2 AND number = ?3",
        )?;
        let rows = s.query_map(params![source.as_str(), eight, phone], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (kind, id) = row?;
            if let Some(kind) = EntityKind::parse(&kind) {
                refs.insert((kind, id));
            }
        }
    }
    let contacts: Vec<String> = refs
        .iter()
        .filter(|(k, _)| *k == EntityKind::Contact)
        .map(|(_, id)| id.clone())
        .collect();
    let mut out = Vec::new();
    for (kind, id) in &refs {
        push_open(conn, source, *kind, id, &mut out)?;
    }
    // Deals through their contacts (contacts are never closed; a deal is linked once).
    let mut deals: BTreeSet<String> = refs
        .iter()
        .filter(|(k, _)| *k == EntityKind::Deal)
        .map(|(_, id)| id.clone())
        .collect();
    let mut s = conn
        .prepare_cached("SELECT deal FROM crm_deal_contacts WHERE source = ?1 AND contact = ?2")?;
    for c in &contacts {
        let found: Vec<String> = s
            .query_map(params![source.as_str(), c], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for d in found {
            if deals.insert(d.clone()) {
                push_open(conn, source, EntityKind::Deal, &d, &mut out)?;
            }
        }
    }
    // Newest first within a kind (the responsible rule takes the first deal that has one).
    out.sort_by(|a, b| {
        let n = |l: &LinkedEntity| l.entity.id.parse::<i64>().unwrap_or(0);
        n(b).cmp(&n(a))
    });
    Ok(out)
}

fn push_open(
    conn: &Connection,
    source: CrmKind,
    kind: EntityKind,
    id: &str,
    out: &mut Vec<LinkedEntity>,
) -> Db {
    let r = CrmRef {
        kind,
        id: id.to_owned(),
    };
    if let Some((responsible_id, closed)) = link_facts(conn, source, &r)? {
        if !closed {
            out.push(LinkedEntity {
                entity: r,
                responsible_id,
                closed,
            });
        }
    }
    Ok(())
}

/// Which chats to relink.
pub enum Scope<'a> {
    All,
    Chats(&'a [String]),
}

/// Recomputes the CRM links and responsible of the chats in `scope`; records a change for each
/// chat that moved.
pub fn relink(conn: &Connection, scope: Scope<'_>) -> Db {
    let eight = store::settings(conn)?.eight_as_plus7;
    let src = source(conn)?;
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let row = |r: &rusqlite::Row| -> rusqlite::Result<Row> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    };
    let chats: Vec<Row> = match scope {
        Scope::All => {
            let mut stmt = conn
                .prepare_cached("SELECT id, client_phone, responsible_id, lead_for FROM chats")?;
            let rows = stmt.query_map([], row)?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        Scope::Chats(ids) => {
            let mut stmt = conn.prepare_cached(
                "SELECT id, client_phone, responsible_id, lead_for FROM chats WHERE id = ?1",
            )?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(r) = stmt.query_row([id], row).optional()? {
                    out.push(r);
                }
            }
            out
        }
    };
    for (chat, phone, old_responsible, lead_for) in chats {
        let linked = match &phone {
            Some(p) => linked_for_phone(conn, src, eight, p)?,
            None => Vec::new(),
        };
        let new_links: BTreeSet<CrmRef> = linked.iter().map(|l| l.entity.clone()).collect();
        let old_links: BTreeSet<CrmRef> = store::links(conn, &chat)?.into_iter().collect();
        // Written first to a number the portal did not know: the writer answers until its lead
        // is linked.
        let responsible = match (&lead_for, new_links.is_empty()) {
            // ... while they are active: a deactivated writer's client is unassigned.
            (Some(writer), true) => {
                let active: Option<bool> = conn
                    .query_row(
                        "SELECT active FROM employees WHERE id = ?1",
                        [writer],
                        |r| r.get(0),
                    )
                    .optional()?;
                active.unwrap_or(false).then(|| writer.clone())
            }
            _ => core::responsible(&linked),
        };
        if lead_for.is_some() && !new_links.is_empty() {
            conn.exec("UPDATE chats SET lead_for = NULL WHERE id = ?1", [&chat])?;
        }
        if new_links == old_links && responsible == old_responsible {
            continue;
        }
        conn.exec("DELETE FROM chat_links WHERE chat = ?1", [&chat])?;
        for l in &new_links {
            conn.exec(
                "INSERT INTO chat_links (chat, kind, entity_id) VALUES (?1, ?2, ?3)",
                params![chat, l.kind.as_str(), l.id],
            )?;
        }
        conn.exec(
            "UPDATE chats SET responsible_id = ?2 WHERE id = ?1",
            params![chat, responsible],
        )?;
        if responsible != old_responsible {
            store::record_lost(conn, &chat, old_responsible.as_deref())?;
        }
        store::record_change(conn, store::ChangeKind::Chat, &chat)?;
    }
    Ok(())
}

/// Relinks the chats a change to `entities` can touch (call after re-indexing them): those
/// linked to one of them now, and those whose number one of them — or, for a deal, one of its
/// contacts — carries under the current setting 2.
pub fn relink_entities(conn: &Connection, entities: &[CrmRef]) -> Db {
    let eight = store::settings(conn)?.eight_as_plus7;
    let src = source(conn)?;
    let mut chats: HashSet<String> = HashSet::new();
    let mut linked =
        conn.prepare_cached("SELECT chat FROM chat_links WHERE kind = ?1 AND entity_id = ?2")?;
    let mut by_number = conn.prepare_cached(
        "SELECT c.id FROM crm_numbers n JOIN chats c ON c.client_phone = n.number \
         WHERE n.source = ?1 AND n.eight_as_plus7 = ?2 AND n.kind = ?3 AND n.id = ?4",
    )?;
    let mut by_contacts = conn.prepare_cached(
        "SELECT c.id FROM crm_deal_contacts d \
         JOIN crm_numbers n ON n.source = d.source AND n.kind = 'contact' AND n.id = d.contact \
         JOIN chats c ON c.client_phone = n.number \
         WHERE d.source = ?1 AND d.deal = ?2 AND n.eight_as_plus7 = ?3",
    )?;
    for e in entities {
        for row in linked.query_map(params![e.kind.as_str(), e.id], |r| r.get::<_, String>(0))? {
            chats.insert(row?);
        }
        for row in by_number
            .query_map(params![src.as_str(), eight, e.kind.as_str(), e.id], |r| {
                r.get::<_, String>(0)
            })?
        {
            chats.insert(row?);
        }
        if e.kind == EntityKind::Deal {
            for row in by_contacts.query_map(params![src.as_str(), e.id, eight], |r| {
                r.get::<_, String>(0)
            })? {
                chats.insert(row?);
            }
        }
    }
    let mut ids: Vec<String> = chats.into_iter().collect();
    ids.sort();
    relink(conn, Scope::Chats(&ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("db");
        store::ensure_workspace(&conn).expect("workspace");
        (dir, conn)
    }

    #[test]
    fn an_index_from_before_is_built_at_start_and_finds_deals_through_contacts() {
        let (_dir, conn) = db();
        conn.execute_batch(
            "INSERT INTO crm_entities (id, kind, title, phones, contact_id) VALUES
               (1, 'contact', 'Ирина', '[\"8 (916) 456-98-12\"]', NULL),
               (2, 'deal', 'Поставка', '[]', 1),
               (3, 'lead', 'Павел', '[\"+7 903 123-45-67\", \"bad\"]', NULL);
             UPDATE crm_index_state SET built = 0;",
        )
        .expect("seed");
        ensure_index(&conn).expect("index");
        let refs = |eight, phone: &str| -> Vec<String> {
            let mut v: Vec<String> = linked_for_phone(&conn, CrmKind::BuiltIn, eight, phone)
                .expect("lookup")
                .into_iter()
                .map(|l| format!("{}:{}", l.entity.kind.as_str(), l.entity.id))
                .collect();
            v.sort();
            v
        };
        assert_eq!(refs(true, "+79164569812"), ["contact:1", "deal:2"]);
        // Setting 2 off: the 8-number no longer reads to +7.
        assert!(refs(false, "+79164569812").is_empty());
        assert_eq!(refs(false, "+79031234567"), ["lead:3"]);
    }

    #[test]
    fn a_deactivated_writer_no_longer_answers_the_chat_they_wrote_first() {
        let (_dir, conn) = db();
        conn.execute_batch(
            "INSERT INTO employees (id, name, role, receives_new_clients) VALUES ('w', 'Writer', 'seller', 0);
             INSERT INTO chats (id, channel_id, chat_type, chat_id, title, client_phone, responsible_id, lead_for, last_activity_at)
               VALUES ('c', 'ch', 'whatsapp', '79990001122', 'C', '+79990001122', 'w', 'w', 'x');",
        )
        .expect("seed");
        let responsible = |conn: &Connection| -> Option<String> {
            conn.query_row("SELECT responsible_id FROM chats WHERE id = 'c'", [], |r| {
                r.get(0)
            })
            .expect("row")
        };
        relink(&conn, Scope::All).expect("relink");
        assert_eq!(responsible(&conn).as_deref(), Some("w"));
        conn.execute("UPDATE employees SET active = 0 WHERE id = 'w'", [])
            .expect("deactivate");
        relink(&conn, Scope::All).expect("relink");
        assert_eq!(
            responsible(&conn),
            None,
            "unassigned while the writer is away"
        );
    }

    #[test]
    fn an_edit_relinks_the_chats_it_touches_old_and_new() {
        let (_dir, conn) = db();
        conn.execute_batch(
            "INSERT INTO chats (id, channel_id, chat_type, chat_id, title, client_phone, last_activity_at) VALUES
               ('a', 'ch', 'whatsapp', '79164569812', 'A', '+79164569812', 'x'),
               ('b', 'ch', 'whatsapp', '79031234567', 'B', '+79031234567', 'x');",
        )
        .expect("chats");
        let lead = store::insert_entity(
            &conn,
            EntityKind::Lead,
            &crate::json::NewCrmEntity {
                title: "Лид".into(),
                phones: vec!["+7 916 456-98-12".into()],
                responsible_id: Some("e1".into()),
                contact_id: None,
                closed: false,
                stage: None,
            },
        )
        .expect("lead");
        let linked = |chat: &str| store::links(&conn, chat).expect("links").len();
        assert_eq!((linked("a"), linked("b")), (1, 0));
        // The phone is corrected: chat a loses the lead, chat b gets it.
        let r = CrmRef {
            kind: EntityKind::Lead,
            id: lead,
        };
        store::patch_entity(
            &conn,
            &r,
            &crate::json::CrmEntityPatch {
                phones: Some(vec!["89031234567".into()]),
                ..Default::default()
            },
        )
        .expect("patch");
        assert_eq!((linked("a"), linked("b")), (0, 1));
        let responsible: Option<String> = conn
            .query_row("SELECT responsible_id FROM chats WHERE id = 'b'", [], |r| {
                r.get(0)
            })
            .expect("chat");
        assert_eq!(responsible.as_deref(), Some("e1"));
    }
}

//! The workspace's CRM: built-in, or Bitrix24 over an incoming webhook.
//!
//! With Bitrix24 connected the hub keeps a local index of the portal's leads, contacts and
//! deals (`bitrix_entities`): chats are matched against it in the same transaction that
//! stores a message, exactly as with the built-in CRM, so who sees a chat and who is notified
//! is decided at once and offline from the portal. The index is refreshed by polling the list
//! methods with a `DATE_MODIFY` cursor, and a new chat's number the index does not know is
//! asked of the portal with `crm.duplicate.findbycomm` (its deals through their contacts).
//! Timeline entries go to the portal through [`WorkspaceCrm`], which follows the connection.

use crate::bitrix::{Bitrix24, BitrixError, Rate};
use crate::crm::{BuiltInCrm, CrmFailure, CrmPort, TimelineJob};
use crate::json::CrmEntityView;
use crate::store::{self, Db};
use crate::Hub;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::EntityKind;

/// How often the index is refreshed (a new chat's number is looked up at once).
pub const POLL: Duration = Duration::from_secs(30);

/// The stored connection (the webhook URL is a secret and stays in the hub).
#[derive(Clone)]
pub struct BitrixConnection {
    pub webhook_url: String,
    pub portal: String,
    pub user_name: String,
}

pub fn bitrix(conn: &Connection) -> rusqlite::Result<Option<BitrixConnection>> {
    conn.query_row(
        "SELECT webhook_url, portal, user_name FROM crm_connection WHERE id = 1 AND kind = 'bitrix24'",
        [],
        |r| {
            Ok(BitrixConnection {
                webhook_url: r.get(0)?,
                portal: r.get(1)?,
                user_name: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Entries not yet written name the old CRM's entities: they are dropped, and their messages
/// say why they are not in the CRM.
fn settle_queue(conn: &Connection) -> Db {
    conn.execute(
        "UPDATE messages SET mirror_skip = 'crm_changed' WHERE id IN \
         (SELECT message_id FROM mirror_queue WHERE state <> 'written' AND message_id IS NOT NULL) \
         AND id NOT IN (SELECT message_id FROM mirror_queue WHERE state = 'written' AND message_id IS NOT NULL)",
        [],
    )?;
    let ids: Vec<String> = {
        let mut s = conn.prepare(
            "SELECT DISTINCT message_id FROM mirror_queue WHERE state <> 'written' AND message_id IS NOT NULL",
        )?;
        let rows = s.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    conn.execute("DELETE FROM mirror_queue WHERE state <> 'written'", [])?;
    for id in ids {
        store::record_change(conn, "message", &id)?;
    }
    Ok(())
}

/// Connects Bitrix24: the index starts empty and fills on the next sync.
pub fn connect(conn: &Connection, c: &BitrixConnection) -> Db {
    settle_queue(conn)?;
    conn.execute(
        "INSERT OR REPLACE INTO crm_connection (id, kind, webhook_url, portal, user_name, connected_at, cursor) \
         VALUES (1, 'bitrix24', ?1, ?2, ?3, ?4, '{}')",
        params![c.webhook_url, c.portal, c.user_name, store::now()],
    )?;
    conn.execute("DELETE FROM bitrix_entities", [])?;
    conn.execute("UPDATE chats SET crm_checked = 0", [])?;
    store::relink_all(conn)
}

/// Back to the built-in CRM.
pub fn disconnect(conn: &Connection) -> Db {
    settle_queue(conn)?;
    conn.execute("DELETE FROM crm_connection", [])?;
    conn.execute("DELETE FROM bitrix_entities", [])?;
    store::relink_all(conn)
}

/// The portal's entities as the linking rules read them (responsibles mapped to employees by
/// their CRM user id).
pub fn entities(conn: &Connection) -> rusqlite::Result<Vec<CrmEntityView>> {
    let mut stmt = conn.prepare(
        "SELECT b.kind, b.id, b.title, b.phones, e.id, b.contact_id, b.closed, e.name \
         FROM bitrix_entities b LEFT JOIN employees e ON e.crm_user_id = b.assigned_by_id \
         ORDER BY b.kind, CAST(b.id AS INTEGER) DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        let kind: String = r.get(0)?;
        let phones: String = r.get(3)?;
        Ok(CrmEntityView {
            kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
            id: r.get(1)?,
            title: r.get(2)?,
            phones: serde_json::from_str(&phones).unwrap_or_default(),
            responsible_id: r.get(4)?,
            contact_id: r.get(5)?,
            closed: r.get(6)?,
            numbers: Vec::new(),
            responsible_name: r.get(7)?,
            url: None,
        })
    })?;
    rows.collect()
}

/// The portal's link to an entity's card.
pub fn card_url(portal: &str, kind: EntityKind, id: &str) -> String {
    format!("https://{portal}/crm/{}/details/{id}/", kind.as_str())
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Stores entities of one kind as the list/get methods answer them.
pub fn upsert(conn: &Connection, kind: EntityKind, rows: &[Value]) -> Db {
    for r in rows {
        let Some(id) = text(r, "ID") else { continue };
        let title = text(r, "TITLE")
            .or_else(|| {
                let name = [text(r, "NAME"), text(r, "LAST_NAME")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!name.is_empty()).then_some(name)
            })
            .unwrap_or_else(|| format!("{} {id}", kind.as_str()));
        let phones: Vec<String> = r
            .get("PHONE")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|p| text(p, "VALUE")).collect())
            .unwrap_or_default();
        let closed = match kind {
            EntityKind::Deal => text(r, "CLOSED").as_deref() == Some("Y"),
            EntityKind::Lead => text(r, "STATUS_SEMANTIC_ID").is_some_and(|s| s != "P"),
            EntityKind::Contact => false,
        };
        conn.execute(
            "INSERT OR REPLACE INTO bitrix_entities (kind, id, title, phones, assigned_by_id, contact_id, closed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                kind.as_str(),
                id,
                title,
                serde_json::to_string(&phones).unwrap_or_else(|_| "[]".into()),
                text(r, "ASSIGNED_BY_ID"),
                text(r, "CONTACT_ID"),
                closed
            ],
        )?;
    }
    Ok(())
}

const SELECT: [&str; 11] = [
    "ID",
    "TITLE",
    "NAME",
    "LAST_NAME",
    "ASSIGNED_BY_ID",
    "PHONE",
    "CLOSED",
    "CONTACT_ID",
    "STATUS_SEMANTIC_ID",
    "STAGE_SEMANTIC_ID",
    "DATE_MODIFY",
];

/// Everything of `kind` modified since `since` (all when `None`), page by page.
async fn list(
    client: &Bitrix24,
    kind: EntityKind,
    since: Option<&str>,
) -> Result<Vec<Value>, BitrixError> {
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let mut params = json!({ "select": SELECT, "order": { "ID": "ASC" }, "start": start });
        if let Some(s) = since {
            params["filter"] = json!({ ">=DATE_MODIFY": s });
        }
        let a = client
            .call(&format!("crm.{}.list", kind.as_str()), &params)
            .await?;
        out.extend(a.result.as_array().cloned().unwrap_or_default());
        match a.next {
            Some(n) => start = n as usize,
            None => return Ok(out),
        }
    }
}

/// The ways a number may be typed in the portal, for `crm.duplicate.findbycomm`.
fn variants(e164: &str) -> Vec<String> {
    let digits = e164.trim_start_matches('+');
    let mut v = vec![digits.to_owned(), format!("+{digits}")];
    if let Some(rest) = digits.strip_prefix('7') {
        if rest.len() == 10 {
            v.push(format!("8{rest}"));
        }
    }
    v
}

/// One round: refresh the index from `cursor` (when `poll`), then ask the portal about new
/// chats' numbers.
async fn sync_round(hub: &Hub, client: &Bitrix24, poll: bool) -> Result<(), String> {
    let cursor: Value = hub
        .read(|c| {
            Ok(
                c.query_row("SELECT cursor FROM crm_connection WHERE id = 1", [], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
                .unwrap_or_default(),
            )
        })
        .await
        .map(|s| serde_json::from_str(&s).unwrap_or_else(|_| json!({})))
        .map_err(|e| e.message)?;
    // Never synced since connecting: poll now.
    let poll = poll || cursor.as_object().is_none_or(|m| m.is_empty());
    let mut fetched = Vec::new();
    let mut next_cursor = cursor.clone();
    for kind in [EntityKind::Lead, EntityKind::Contact, EntityKind::Deal] {
        if !poll {
            break;
        }
        let since = cursor.get(kind.as_str()).and_then(Value::as_str);
        let rows = list(client, kind, since).await.map_err(|e| e.to_string())?;
        if let Some(newest) = rows.iter().filter_map(|r| text(r, "DATE_MODIFY")).max() {
            next_cursor[kind.as_str()] = json!(newest);
        }
        fetched.push((kind, rows));
    }
    // New chats' numbers the index does not match yet.
    let unchecked: Vec<(String, String)> = hub
        .read(|c| {
            let mut s = c.prepare(
                "SELECT id, client_phone FROM chats WHERE crm_checked = 0 AND client_phone IS NOT NULL \
                 AND id NOT IN (SELECT chat FROM chat_links) LIMIT 20",
            )?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .map_err(|e| e.message)?;
    for group in unchecked.chunks(6) {
        let values: Vec<String> = group.iter().flat_map(|(_, p)| variants(p)).collect();
        let a = client
            .call(
                "crm.duplicate.findbycomm",
                &json!({ "type": "PHONE", "values": values }),
            )
            .await
            .map_err(|e| e.to_string())?;
        for (key, kind) in [("LEAD", EntityKind::Lead), ("CONTACT", EntityKind::Contact)] {
            for id in a
                .result
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let got = client
                    .call(&format!("crm.{}.get", kind.as_str()), &json!({ "id": id }))
                    .await
                    .map_err(|e| e.to_string())?;
                fetched.push((kind, vec![got.result]));
                if kind == EntityKind::Contact {
                    let deals = client
                        .call(
                            "crm.deal.list",
                            &json!({ "filter": { "CONTACT_ID": id }, "select": SELECT }),
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    fetched.push((
                        EntityKind::Deal,
                        deals.result.as_array().cloned().unwrap_or_default(),
                    ));
                }
            }
        }
    }
    if fetched.is_empty() && unchecked.is_empty() {
        return Ok(());
    }
    let checked: Vec<String> = unchecked.into_iter().map(|(id, _)| id).collect();
    hub.write(move |c| {
        for (kind, rows) in &fetched {
            upsert(c, *kind, rows)?;
        }
        c.execute(
            "UPDATE crm_connection SET cursor = ?1 WHERE id = 1",
            [next_cursor.to_string()],
        )?;
        for id in &checked {
            c.execute("UPDATE chats SET crm_checked = 1 WHERE id = ?1", [id])?;
        }
        store::relink_all(c)?;
        // The portal knew these clients: what they wrote before we found them goes to the CRM too.
        for id in &checked {
            store::mirror_unlinked(c, id)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| e.message)
}

/// Keeps the index fresh while Bitrix24 is connected: every [`POLL`], and at once when the
/// hub rings (a new chat, a new connection).
pub fn spawn(hub: Hub, crm: Arc<WorkspaceCrm>) {
    tokio::spawn(async move {
        let wake = hub.crm_wake();
        let mut closed = std::pin::pin!(hub.closed());
        let mut poll = true;
        loop {
            if let Some(client) = crm.bitrix_client().await {
                if let Err(e) = sync_round(&hub, &client, poll).await {
                    tracing::warn!(portal = %client.portal(), error = %e, "Bitrix24 sync failed; will retry");
                }
            }
            poll = tokio::select! {
                _ = wake.notified() => false,
                _ = tokio::time::sleep(POLL) => true,
                _ = &mut closed => return,
            };
        }
    });
}

/// The CRM port of the workspace: the built-in CRM, or the connected Bitrix24 portal.
pub struct WorkspaceCrm {
    hub: Hub,
    builtin: BuiltInCrm,
    rate: Rate,
    timeout: Duration,
    /// The client for the stored webhook URL (made again when the URL changes).
    client: Mutex<Option<(String, Arc<Bitrix24>)>>,
}

impl WorkspaceCrm {
    pub fn new(hub: Hub, rate: Rate, timeout: Duration) -> WorkspaceCrm {
        WorkspaceCrm {
            builtin: BuiltInCrm::new(hub.clone()),
            hub,
            rate,
            timeout,
            client: Mutex::new(None),
        }
    }

    /// The Bitrix24 client when the workspace is connected to a portal.
    pub async fn bitrix_client(&self) -> Option<Arc<Bitrix24>> {
        let conn = self.hub.read(|c| Ok(bitrix(c)?)).await.ok().flatten()?;
        let mut cached = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((url, client)) = cached.as_ref() {
            if *url == conn.webhook_url {
                return Some(client.clone());
            }
        }
        let client = Arc::new(Bitrix24::new(&conn.webhook_url, self.timeout, self.rate).ok()?);
        *cached = Some((conn.webhook_url, client.clone()));
        Some(client)
    }
}

impl CrmPort for WorkspaceCrm {
    async fn write_timeline(&self, job: &TimelineJob) -> Result<String, CrmFailure> {
        match self.bitrix_client().await {
            Some(b) => b.write_timeline(job).await,
            None => self.builtin.write_timeline(job).await,
        }
    }

    async fn find_timeline(&self, job: &TimelineJob) -> Result<Option<String>, CrmFailure> {
        match self.bitrix_client().await {
            Some(b) => b.find_timeline(job).await,
            None => self.builtin.find_timeline(job).await,
        }
    }

    async fn find_many(&self, jobs: &[TimelineJob]) -> Result<Vec<Option<String>>, CrmFailure> {
        match self.bitrix_client().await {
            Some(b) => b.find_many(jobs).await,
            None => self.builtin.find_many(jobs).await,
        }
    }

    fn max_batch(&self) -> usize {
        50
    }

    async fn write_batch(&self, jobs: &[TimelineJob]) -> Vec<Result<String, CrmFailure>> {
        match self.bitrix_client().await {
            Some(b) => b.write_batch(jobs).await,
            None => self.builtin.write_batch(jobs).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_crms_drops_unwritten_entries_and_says_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("db");
        store::ensure_workspace(&conn).expect("workspace");
        conn.execute_batch(
            "INSERT INTO chats (id, channel_id, chat_type, chat_id, title, last_activity_at) VALUES ('c', 'ch', 'whatsapp', '7', 't', 'x');
             INSERT INTO messages (id, chat, direction, text, at, status) VALUES ('m1', 'c', 'in', 'a', 'x', 'inbound'), ('m2', 'c', 'in', 'b', 'x', 'inbound');
             INSERT INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text, state) VALUES
               ('k1', 'message', 'lead', '1', 'c', 'm1', 'x', 'a', 'written'),
               ('k2', 'message', 'lead', '1', 'c', 'm2', 'x', 'b', 'pending');",
        )
        .expect("seed");
        let b = BitrixConnection {
            webhook_url: "https://p.bitrix24.ru/rest/1/c/".into(),
            portal: "p.bitrix24.ru".into(),
            user_name: "U".into(),
        };
        connect(&conn, &b).expect("connect");
        let m1 = store::message(&conn, "m1").expect("m1").expect("m1");
        let m2 = store::message(&conn, "m2").expect("m2").expect("m2");
        assert_eq!(m1.mirror.state, crate::json::MirrorState::Written);
        assert_eq!(
            m2.mirror.state,
            crate::json::MirrorState::Skipped(switchboard_core::MirrorSkip::CrmChanged)
        );
        let left: i64 = conn
            .query_row("SELECT count(*) FROM mirror_queue", [], |r| r.get(0))
            .expect("count");
        assert_eq!(left, 1);
    }
}

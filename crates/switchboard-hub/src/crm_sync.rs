//! The workspace's CRM: built-in, or Bitrix24 over an incoming webhook.
//!
//! With Bitrix24 connected the hub keeps a local index of the portal's leads, contacts and
//! deals (`bitrix_entities`): chats are matched against it in the same transaction that
//! stores a message, exactly as with the built-in CRM, so who sees a chat and who is notified
//! is decided at once and offline from the portal. The index is refreshed by polling the list
//! methods with a `DATE_MODIFY` cursor, and a new chat's number the index does not know is
//! asked of the portal with `crm.duplicate.findbycomm` (its deals through their contacts).
//! Timeline entries go to the portal through [`WorkspaceCrm`], which follows the connection.
//! Where the portal's outgoing webhook is set up, its CRM events (`ONCRMDEALUPDATE`, …, checked
//! against the application token) name the entities to fetch again at once.

use crate::bitrix::{BatchItem, Bitrix24, BitrixError, Rate};
use crate::clock;
use crate::crm::{BuiltInCrm, CrmFailure, CrmPort, TimelineJob};
use crate::store::bitrix_index::*;
use crate::store::{self};
use crate::Hub;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::EntityKind;

/// How often the index is refreshed (a new chat's number is looked up at once).
pub const POLL: Duration = Duration::from_secs(30);

const SELECT: [&str; 14] = [
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
    "STAGE_ID",
    "STATUS_ID",
    "CATEGORY_ID",
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

/// What a sync round learnt from the portal, stored in one transaction.
#[derive(Default)]
struct Learnt {
    entities: Vec<(EntityKind, Vec<Value>)>,
    gone: Vec<(EntityKind, String)>,
    contacts: Vec<(String, Value)>,
    stages: Option<Value>,
    /// Named entities the portal would not give this round (e.g. access denied): they stay on
    /// the list for the next round instead of failing this one for everyone.
    refused: Vec<(EntityKind, String)>,
}

/// One round: refresh the index from `cursor` (when `poll`), fetch what events named, then ask
/// the portal about new chats' numbers.
async fn sync_round(hub: &Hub, client: &Bitrix24, poll: bool) -> Result<(), String> {
    let cursor: Value = hub
        .store_read(|c| Ok(index_cursor(c)?))
        .await
        .map(|s| serde_json::from_str(&s).unwrap_or_else(|_| json!({})))
        .map_err(|e| e.to_string())?;
    // Never synced since connecting: poll now.
    let poll = poll || cursor.as_object().is_none_or(|m| m.is_empty());
    let mut learnt = Learnt::default();
    let mut next_cursor = cursor.clone();
    if poll {
        learnt.stages = Some(
            client
                .call("crm.status.list", &json!({}))
                .await
                .map_err(|e| e.to_string())?
                .result,
        );
        for kind in [EntityKind::Lead, EntityKind::Contact, EntityKind::Deal] {
            let since = cursor.get(kind.as_str()).and_then(Value::as_str);
            let rows = list(client, kind, since).await.map_err(|e| e.to_string())?;
            if let Some(newest) = rows.iter().filter_map(|r| text(r, "DATE_MODIFY")).max() {
                next_cursor[kind.as_str()] = json!(newest);
            }
            learnt.entities.push((kind, rows));
        }
    }
    // What the portal's events named. They stay on the list until the write that applies
    // them, so a round that fails at any step loses none (a deletion above all).
    let dirty: Vec<(EntityKind, String, bool, i64)> = hub
        .store_read(|c| Ok(dirty_due(c, clock::now_ms(), 50)?))
        .await
        .map_err(|e| e.to_string())?;
    let named: Vec<(EntityKind, String, bool)> = dirty
        .iter()
        .map(|(k, id, d, _)| (*k, id.clone(), *d))
        .collect();
    fetch_named(client, &named, &mut learnt).await?;
    // New chats' numbers the index does not match yet.
    let unchecked: Vec<(String, String)> = hub
        .store_read(|c| Ok(unchecked_chats(c, 20)?))
        .await
        .map_err(|e| e.to_string())?;
    for group in unchecked.chunks(6) {
        let values: Vec<String> = group.iter().flat_map(|(_, p)| variants(p)).collect();
        let a = client
            .call(
                "crm.duplicate.findbycomm",
                &json!({ "type": "PHONE", "values": values }),
            )
            .await
            .map_err(|e| e.to_string())?;
        let mut named = Vec::new();
        for (key, kind) in [("LEAD", EntityKind::Lead), ("CONTACT", EntityKind::Contact)] {
            for id in a
                .result
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = id
                    .as_u64()
                    .map(|n| n.to_string())
                    .or_else(|| id.as_str().map(str::to_owned))
                {
                    named.push((kind, id, false));
                }
            }
        }
        fetch_named(client, &named, &mut learnt).await?;
        for (kind, id, _) in &named {
            if *kind == EntityKind::Contact {
                let deals = client
                    .call(
                        "crm.deal.list",
                        &json!({ "filter": { "CONTACT_ID": id }, "select": SELECT }),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                learnt.entities.push((
                    EntityKind::Deal,
                    deals.result.as_array().cloned().unwrap_or_default(),
                ));
            }
        }
    }
    // Every deal seen this round: all its contacts (the list methods give only the primary).
    let deals: Vec<String> = learnt
        .entities
        .iter()
        .filter(|(k, _)| *k == EntityKind::Deal)
        .flat_map(|(_, rows)| rows.iter().filter_map(|r| text(r, "ID")))
        .collect();
    for chunk in deals.chunks(crate::bitrix::BATCH_MAX) {
        let cmds: Vec<String> = chunk
            .iter()
            .map(|id| format!("crm.deal.contact.items.get?id={id}"))
            .collect();
        let items = client
            .batch(&cmds, false)
            .await
            .map_err(|e| e.to_string())?;
        for (id, item) in chunk.iter().zip(items) {
            if let BatchItem::Done(v) = item {
                learnt.contacts.push((id.clone(), v));
            }
        }
    }
    if learnt.entities.is_empty()
        && learnt.gone.is_empty()
        && unchecked.is_empty()
        && dirty.is_empty()
    {
        return Ok(());
    }
    let checked: Vec<String> = unchecked.into_iter().map(|(id, _)| id).collect();
    // Every entity this round touched, to re-index and relink only what it can change.
    let mut touched: std::collections::BTreeSet<(EntityKind, String)> = learnt
        .entities
        .iter()
        .flat_map(|(k, rows)| {
            rows.iter()
                .filter_map(move |r| text(r, "ID").map(|id| (*k, id)))
        })
        .collect();
    touched.extend(learnt.gone.iter().cloned());
    touched.extend(
        learnt
            .contacts
            .iter()
            .map(|(deal, _)| (EntityKind::Deal, deal.clone())),
    );
    hub.store_write(move |c| {
        if let Some(stages) = &learnt.stages {
            set_stages(c, stages)?;
        }
        for (kind, rows) in &learnt.entities {
            upsert(c, *kind, rows)?;
        }
        for (kind, id) in &learnt.gone {
            forget_entity(c, *kind, id)?;
        }
        for (deal, items) in &learnt.contacts {
            set_contacts(c, deal, items)?;
        }
        set_index_cursor(c, &next_cursor.to_string())?;
        for id in &checked {
            set_crm_checked(c, id, true)?;
        }
        // Applied: off the list, unless the portal named the entity again meanwhile (or
        // would not give it this time).
        for (k, id, _, rev) in &dirty {
            if learnt.refused.iter().any(|(rk, rid)| rk == k && rid == id) {
                refused_again(c, *k, id, *rev, &clock::now())?;
                continue;
            }
            settle_dirty(c, *k, id, *rev)?;
        }
        let refs: Vec<switchboard_core::CrmRef> = touched
            .iter()
            .map(|(kind, id)| switchboard_core::CrmRef {
                kind: *kind,
                id: id.clone(),
            })
            .collect();
        for r in &refs {
            reindex(c, r.kind, &r.id)?;
        }
        crate::store::links::relink_entities(c, &refs)?;
        // The portal knew these clients: what they wrote before we found them goes to the CRM too.
        for id in &checked {
            store::mirror_unlinked(c, id)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())?;
    create_leads(hub, client).await
}

/// Chats written first to numbers the portal did not know (and was asked about): a lead for
/// each in the writer's name, then linked, and what was written so far goes to its timeline.
/// Before asking, the chat is marked to be looked up again, so a hub stopped after the portal
/// made the lead finds it (`crm.duplicate.findbycomm`) instead of making a second one.
async fn create_leads(hub: &Hub, client: &Bitrix24) -> Result<(), String> {
    let wanted = hub
        .store_read(|c| Ok(leads_wanted(c, 20)?))
        .await
        .map_err(|e| e.to_string())?;
    for LeadWanted {
        chat,
        phone,
        title,
        crm_user_id: user,
    } in wanted
    {
        let again = chat.clone();
        hub.store_write(move |c| Ok(set_crm_checked(c, &again, false)?))
            .await
            .map_err(|e| e.to_string())?;
        let mut fields = json!({
            "TITLE": title,
            "PHONE": [{ "VALUE": phone, "VALUE_TYPE": "WORK" }],
        });
        if let Some(u) = user {
            fields["ASSIGNED_BY_ID"] = json!(u);
        }
        let added = client
            .call("crm.lead.add", &json!({ "fields": fields }))
            .await
            .map_err(|e| e.to_string())?;
        let Some(id) = added
            .result
            .as_u64()
            .map(|n| n.to_string())
            .or_else(|| added.result.as_str().map(str::to_owned))
        else {
            return Err(format!("crm.lead.add answered {}", added.result));
        };
        let got = client
            .call("crm.lead.get", &json!({ "id": id }))
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(portal = %client.portal(), lead = %id, "lead made for a chat written first");
        hub.store_write(move |c| {
            upsert(c, EntityKind::Lead, std::slice::from_ref(&got.result))?;
            reindex(c, EntityKind::Lead, &id)?;
            set_crm_checked(c, &chat, true)?;
            crate::store::links::relink_entities(
                c,
                &[switchboard_core::CrmRef {
                    kind: EntityKind::Lead,
                    id: id.clone(),
                }],
            )?;
            store::mirror_unlinked(c, &chat)?;
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Fetches the named entities (`crm.<kind>.get` in batches); deleted or not found ones are gone.
async fn fetch_named(
    client: &Bitrix24,
    named: &[(EntityKind, String, bool)],
    learnt: &mut Learnt,
) -> Result<(), String> {
    let wanted: Vec<&(EntityKind, String, bool)> = named.iter().filter(|n| !n.2).collect();
    learnt.gone.extend(
        named
            .iter()
            .filter(|n| n.2)
            .map(|(k, id, _)| (*k, id.clone())),
    );
    for chunk in wanted.chunks(crate::bitrix::BATCH_MAX) {
        let cmds: Vec<String> = chunk
            .iter()
            .map(|(k, id, _)| format!("crm.{}.get?id={id}", k.as_str()))
            .collect();
        let items = client
            .batch(&cmds, false)
            .await
            .map_err(|e| e.to_string())?;
        for ((kind, id, _), item) in chunk.iter().zip(items) {
            match item {
                BatchItem::Done(v) => learnt.entities.push((*kind, vec![v])),
                BatchItem::Failed { description, .. }
                    if description
                        .trim_end_matches('.')
                        .eq_ignore_ascii_case("not found") =>
                {
                    learnt.gone.push((*kind, id.clone()));
                }
                BatchItem::Failed { code, description } => {
                    tracing::warn!(
                        kind = kind.as_str(),
                        %id, %code, %description,
                        "the portal would not give an entity; asked again next round"
                    );
                    learnt.refused.push((*kind, id.clone()));
                }
                BatchItem::NotReached => return Err("batch not finished".into()),
            }
        }
    }
    Ok(())
}

/// Keeps the index fresh while Bitrix24 is connected: every [`POLL`], and at once when the
/// hub rings (a new chat, a new connection).
pub fn spawn(hub: Hub, crm: Arc<WorkspaceCrm>) -> tokio::task::JoinHandle<()> {
    let bell = hub.crm_wake();
    crate::worker::spawn(
        hub,
        Some(bell),
        IndexWorker {
            crm,
            last_poll: None,
        },
    )
}

/// Whether a round reads the lists: at start, on the timer, and on a bell once a poll is due.
fn poll_due(
    woke: crate::worker::Woke,
    last_poll: Option<std::time::Instant>,
    now: std::time::Instant,
) -> bool {
    woke != crate::worker::Woke::Bell || last_poll.is_none_or(|t| now.duration_since(t) >= POLL)
}

/// Keeps the Bitrix24 index fresh: a poll every [`POLL`], and at once what the doorbell names
/// (new chats' numbers, events from the portal, a new connection).
struct IndexWorker {
    crm: Arc<WorkspaceCrm>,
    /// When the lists were last polled: a doorbell that keeps ringing (every webhook rings
    /// it) must not put the poll off for ever.
    last_poll: Option<std::time::Instant>,
}

impl crate::worker::Worker for IndexWorker {
    async fn round(&mut self, hub: &Hub, woke: crate::worker::Woke) -> Duration {
        // The bell asks about what it names; the start, the timer and a poll overdue read the
        // lists too.
        let poll = poll_due(woke, self.last_poll, std::time::Instant::now());
        if let Some(client) = self.crm.bitrix_client().await {
            if let Err(e) = sync_round(hub, &client, poll).await {
                tracing::warn!(portal = %client.portal(), error = %e, "Bitrix24 sync failed; will retry");
            }
        }
        if poll {
            self.last_poll = Some(std::time::Instant::now());
        }
        // The next poll is due POLL after the last one, however often the bell rang since.
        self.last_poll
            .map_or(POLL, |t| POLL.saturating_sub(t.elapsed()))
            .max(std::time::Duration::from_millis(10))
    }
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
        let conn = self
            .hub
            .store_read(|c| Ok(bitrix(c)?))
            .await
            .ok()
            .flatten()?;
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
    /// As the portal's client says (one request's timeout, a few times).
    fn attempt_limit(&self) -> Duration {
        self.timeout * 3
    }

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
    use rusqlite::OptionalExtension;

    /// A bell that keeps ringing (every webhook rings it) does not put the poll off for ever.
    #[test]
    fn a_ringing_bell_does_not_starve_the_poll() {
        use crate::worker::Woke;
        let t0 = std::time::Instant::now();
        assert!(poll_due(Woke::Start, None, t0));
        assert!(poll_due(Woke::Timer, Some(t0), t0));
        assert!(!poll_due(Woke::Bell, Some(t0), t0 + POLL / 2));
        assert!(poll_due(Woke::Bell, Some(t0), t0 + POLL));
        assert!(poll_due(Woke::Bell, None, t0));
    }

    #[test]
    fn an_entity_the_portal_refuses_backs_off_and_is_given_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("db");
        conn.execute(
            "INSERT INTO crm_dirty (kind, id, deleted, rev) VALUES ('deal', '7', 0, 3)",
            [],
        )
        .expect("seed");
        let row = |conn: &rusqlite::Connection| -> Option<(i64, i64)> {
            conn.query_row("SELECT attempts, next_try_ms FROM crm_dirty", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .expect("row")
        };
        let before = clock::now_ms();
        refused_again(&conn, EntityKind::Deal, "7", 3, &clock::now()).expect("refused");
        let (attempts, next) = row(&conn).expect("still listed");
        assert_eq!(attempts, 1);
        assert!(
            next >= before + 2000,
            "asked again later, not in this round"
        );
        for _ in 1..REFUSED_TRIES {
            refused_again(&conn, EntityKind::Deal, "7", 3, &clock::now()).expect("refused");
        }
        assert_eq!(row(&conn), None, "given up after {REFUSED_TRIES} tries");
    }

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
            event_token: None,
            events_secret: String::new(),
        };
        connect(&conn, &b, &clock::now()).expect("connect");
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

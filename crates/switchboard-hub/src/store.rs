//! Every query of the hub. Functions take a connection (or a transaction) and return
//! domain or wire values; the decisions themselves are switchboard-core's.

use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use switchboard_core::{
    self as core, read_crm_phone, Badge, Channel, ChannelState, ChatEvent, ChatFacts, CrmRef,
    Direction, Employee, EntityKind, Role, Settings, TimelineWrite, Transport,
};

pub type Db = rusqlite::Result<()>;

/// Now, as the hub writes times: RFC 3339 UTC with milliseconds (sorts as text).
pub fn now() -> String {
    format_time(chrono::Utc::now())
}

pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Milliseconds since the epoch of a time the hub wrote (0 if unreadable).
fn time_ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).map_or(0, |t| t.timestamp_millis())
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A fresh bearer token: 256 random bits, hex.
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Appends to the change log; returns the new cursor.
pub fn record_change(conn: &Connection, kind: &str, reference: &str) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO changes (kind, ref) VALUES (?1, ?2)",
        params![kind, reference],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn last_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })
}

// ---------- settings ----------

pub fn ensure_workspace(conn: &Connection) -> Db {
    let d = Settings::default();
    conn.execute(
        "INSERT OR IGNORE INTO settings (id, save_to_crm_timeline, eight_as_plus7, notify_supervisors_all) VALUES (1, ?1, ?2, ?3)",
        params![d.save_to_crm_timeline, d.eight_as_plus7, d.notify_supervisors_all],
    )?;
    crate::links::ensure_index(conn)
}

pub fn settings(conn: &Connection) -> rusqlite::Result<Settings> {
    conn.query_row(
        "SELECT save_to_crm_timeline, eight_as_plus7, notify_supervisors_all, escalate_after_minutes FROM settings WHERE id = 1",
        [],
        |r| {
            Ok(Settings {
                save_to_crm_timeline: r.get(0)?,
                eight_as_plus7: r.get(1)?,
                notify_supervisors_all: r.get(2)?,
                escalate_after_minutes: r.get(3)?,
            })
        },
    )
}

/// Applies a patch, audits each changed field, and relinks chats when setting 2 changed.
pub fn put_settings(
    conn: &Connection,
    patch: &SettingsPatch,
    by: &str,
) -> rusqlite::Result<Settings> {
    let old = settings(conn)?;
    let mut new = old;
    let fields = [
        (
            "save_to_crm_timeline",
            patch.save_to_crm_timeline,
            &mut new.save_to_crm_timeline,
        ),
        (
            "eight_as_plus7",
            patch.eight_as_plus7,
            &mut new.eight_as_plus7,
        ),
        (
            "notify_supervisors_all",
            patch.notify_supervisors_all,
            &mut new.notify_supervisors_all,
        ),
    ];
    let at = now();
    let audit = |field: &str, old: String, new: String| {
        conn.execute(
            "INSERT INTO settings_audit (at, by, field, old, new) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![at, by, field, old, new],
        )
    };
    for (field, value, slot) in fields {
        if let Some(v) = value.filter(|v| v != slot) {
            audit(field, slot.to_string(), v.to_string())?;
            *slot = v;
        }
    }
    if let Some(v) = patch
        .escalate_after_minutes
        .filter(|v| *v != new.escalate_after_minutes)
    {
        let show = |m: Option<u32>| m.map_or("off".to_owned(), |m| m.to_string());
        audit(
            "escalate_after_minutes",
            show(new.escalate_after_minutes),
            show(v),
        )?;
        new.escalate_after_minutes = v;
    }
    if new != old {
        conn.execute(
            "UPDATE settings SET save_to_crm_timeline = ?1, eight_as_plus7 = ?2, notify_supervisors_all = ?3, escalate_after_minutes = ?4 WHERE id = 1",
            params![new.save_to_crm_timeline, new.eight_as_plus7, new.notify_supervisors_all, new.escalate_after_minutes],
        )?;
        record_change(conn, "settings", "")?;
        if new.eight_as_plus7 != old.eight_as_plus7 {
            relink_all(conn)?;
        }
    }
    Ok(new)
}

pub fn audit(conn: &Connection) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt =
        conn.prepare("SELECT at, by, field, old, new FROM settings_audit ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok(AuditEntry {
            at: r.get(0)?,
            by: r.get(1)?,
            field: r.get(2)?,
            old: r.get(3)?,
            new: r.get(4)?,
        })
    })?;
    rows.collect()
}

// ---------- employees and tokens ----------

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    Employee(Employee),
}

fn employee_row(r: &Row) -> rusqlite::Result<Employee> {
    let role: String = r.get(2)?;
    Ok(Employee {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::None),
        receives_new_clients: r.get(3)?,
        priority_channel_id: r.get(4)?,
    })
}

const EMPLOYEE_COLS: &str = "id, name, role, receives_new_clients, priority_channel_id";

/// The active staff: whom the rules consider (visibility, notifications, escalation).
pub fn employees(conn: &Connection) -> rusqlite::Result<Vec<Employee>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {EMPLOYEE_COLS} FROM employees WHERE active = 1 ORDER BY name, id"
    ))?;
    let rows = stmt.query_map([], employee_row)?;
    rows.collect()
}

/// Every employee as the Employees screen lists them, deactivated ones too.
pub fn employee_list(conn: &Connection) -> rusqlite::Result<Vec<EmployeeView>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {EMPLOYEE_COLS}, crm_user_id, active FROM employees ORDER BY name, id"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(EmployeeView {
            crm_user_id: r.get(5)?,
            active: r.get(6)?,
            ..employee_view(&employee_row(r)?)
        })
    })?;
    rows.collect()
}

pub fn employee(conn: &Connection, id: &str) -> rusqlite::Result<Option<Employee>> {
    conn.query_row(
        &format!("SELECT {EMPLOYEE_COLS} FROM employees WHERE id = ?1"),
        [id],
        employee_row,
    )
    .optional()
}

/// Who a token names: the administrator, an active employee, or nobody (unknown, revoked, or
/// its employee deactivated).
pub fn caller_by_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<Caller>> {
    let row: Option<(Option<String>, Option<bool>)> = conn
        .query_row(
            "SELECT t.employee_id, e.active FROM tokens t LEFT JOIN employees e ON e.id = t.employee_id \
             WHERE t.hash = ?1",
            [token_hash(token)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((None, _)) => Ok(Some(Caller::Admin)),
        Some((Some(id), Some(true))) => Ok(employee(conn, &id)?.map(Caller::Employee)),
        Some((Some(_), _)) => Ok(None),
    }
}

/// Stores a token (hashed) for an employee, or for the administrator when `employee_id` is `None`.
pub fn store_token(conn: &Connection, token: &str, employee_id: Option<&str>) -> Db {
    conn.execute(
        "INSERT OR IGNORE INTO tokens (hash, employee_id, created_at, id) VALUES (?1, ?2, ?3, ?4)",
        params![
            token_hash(token),
            employee_id,
            now(),
            hex::encode(rand::random::<[u8; 8]>())
        ],
    )?;
    Ok(())
}

/// The administrator's token is the one the hub started with: any other stored before (a
/// rotated `SWITCHBOARD_ADMIN_TOKEN`) stops working.
pub fn replace_admin_token(conn: &Connection, token: &str) -> Db {
    conn.execute(
        "DELETE FROM tokens WHERE employee_id IS NULL AND hash <> ?1",
        [token_hash(token)],
    )?;
    store_token(conn, token, None)
}

/// An employee's tokens (their signed-in desktops), oldest first.
pub fn tokens_of(conn: &Connection, employee_id: &str) -> rusqlite::Result<Vec<TokenView>> {
    let mut stmt = conn.prepare(
        "SELECT id, created_at FROM tokens WHERE employee_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([employee_id], |r| {
        Ok(TokenView {
            id: r.get(0)?,
            created_at: r.get(1)?,
        })
    })?;
    rows.collect()
}

/// Revokes one employee token by its id; `false`: no such employee token.
pub fn revoke_token(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM tokens WHERE id = ?1 AND employee_id IS NOT NULL",
        [id],
    )? > 0)
}

/// Revokes the token itself (a desktop signing out).
pub fn revoke_own_token(conn: &Connection, token: &str) -> Db {
    conn.execute(
        "DELETE FROM tokens WHERE hash = ?1 AND employee_id IS NOT NULL",
        [token_hash(token)],
    )?;
    Ok(())
}

/// Whether an employee is active (`None`: no such employee).
pub fn is_active(conn: &Connection, id: &str) -> rusqlite::Result<Option<bool>> {
    conn.query_row("SELECT active FROM employees WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
}

pub fn insert_employee(conn: &Connection, e: &NewEmployee) -> rusqlite::Result<Employee> {
    let employee = Employee {
        id: new_id(),
        name: e.name.clone(),
        role: e.role,
        receives_new_clients: e.receives_new_clients,
        priority_channel_id: e.priority_channel_id.clone(),
    };
    conn.execute(
        &format!("INSERT INTO employees ({EMPLOYEE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
        params![
            employee.id,
            employee.name,
            employee.role.as_str(),
            employee.receives_new_clients,
            employee.priority_channel_id
        ],
    )?;
    if let Some(crm) = &e.crm_user_id {
        conn.execute(
            "UPDATE employees SET crm_user_id = ?2 WHERE id = ?1",
            params![employee.id, crm],
        )?;
    }
    record_change(conn, "employees", &employee.id)?;
    Ok(employee)
}

pub fn patch_employee(
    conn: &Connection,
    id: &str,
    p: &EmployeePatch,
) -> rusqlite::Result<Option<Employee>> {
    let Some(mut e) = employee(conn, id)? else {
        return Ok(None);
    };
    if let Some(name) = &p.name {
        e.name.clone_from(name);
    }
    if let Some(role) = p.role {
        e.role = role;
    }
    if let Some(r) = p.receives_new_clients {
        e.receives_new_clients = r;
    }
    if let Some(c) = &p.priority_channel_id {
        e.priority_channel_id.clone_from(c);
    }
    if let Some(crm) = &p.crm_user_id {
        conn.execute(
            "UPDATE employees SET crm_user_id = ?2 WHERE id = ?1",
            params![e.id, crm],
        )?;
        // Who is responsible for which chat may have changed.
        relink_all(conn)?;
    }
    if let Some(active) = p.active {
        conn.execute(
            "UPDATE employees SET active = ?2 WHERE id = ?1",
            params![e.id, active],
        )?;
        if !active {
            // Deactivated: every desktop of theirs is signed out now.
            conn.execute("DELETE FROM tokens WHERE employee_id = ?1", [&e.id])?;
        }
        // Their clients are unassigned while they are away (and theirs again after).
        relink_all(conn)?;
    }
    conn.execute(
        "UPDATE employees SET name = ?2, role = ?3, receives_new_clients = ?4, priority_channel_id = ?5 WHERE id = ?1",
        params![e.id, e.name, e.role.as_str(), e.receives_new_clients, e.priority_channel_id],
    )?;
    record_change(conn, "employees", &e.id)?;
    Ok(Some(e))
}

/// Employees' CRM user ids.
pub fn crm_user_ids(conn: &Connection) -> rusqlite::Result<HashMap<String, String>> {
    let mut stmt =
        conn.prepare("SELECT id, crm_user_id FROM employees WHERE crm_user_id IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// An employee as they see themselves (`/me`, sync): only an active employee's token works,
/// so `active` is true here; the Employees list reads it from the row (`employee_list`).
pub fn employee_view(e: &Employee) -> EmployeeView {
    EmployeeView {
        id: e.id.clone(),
        name: e.name.clone(),
        role: e.role,
        receives_new_clients: e.receives_new_clients,
        priority_channel_id: e.priority_channel_id.clone(),
        crm_user_id: None,
        active: true,
    }
}

// ---------- channels ----------

fn channel_row(r: &Row) -> rusqlite::Result<Channel> {
    let transport: String = r.get(1)?;
    let state: String = r.get(3)?;
    Ok(Channel {
        id: r.get(0)?,
        transport: Transport::parse(&transport).unwrap_or(Transport::Whatsapp),
        name: r.get(2)?,
        state: ChannelState::parse(&state),
        open_lines: r.get(4)?,
    })
}

pub fn channels(conn: &Connection) -> rusqlite::Result<Vec<Channel>> {
    let mut stmt = conn
        .prepare("SELECT id, transport, name, state, open_lines FROM channels ORDER BY name, id")?;
    let rows = stmt.query_map([], channel_row)?;
    rows.collect()
}

pub fn channel(conn: &Connection, id: &str) -> rusqlite::Result<Option<Channel>> {
    conn.query_row(
        "SELECT id, transport, name, state, open_lines FROM channels WHERE id = ?1",
        [id],
        channel_row,
    )
    .optional()
}

pub fn insert_channel(conn: &Connection, c: &NewChannel) -> rusqlite::Result<Channel> {
    let channel = Channel {
        id: new_id(),
        transport: c.transport,
        name: c.name.clone(),
        state: ChannelState::Active,
        open_lines: c.open_lines,
    };
    conn.execute(
        "INSERT INTO channels (id, transport, name, state, open_lines, sandbox) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
        params![channel.id, channel.transport.as_str(), channel.name, channel.state.as_str(), channel.open_lines],
    )?;
    record_change(conn, "channels", &channel.id)?;
    Ok(channel)
}

pub fn patch_channel(
    conn: &Connection,
    id: &str,
    p: &ChannelPatch,
) -> rusqlite::Result<Option<Channel>> {
    let Some(mut c) = channel(conn, id)? else {
        return Ok(None);
    };
    if let Some(s) = p.state {
        c.state = s;
    }
    if let Some(n) = &p.name {
        c.name.clone_from(n);
    }
    if let Some(o) = p.open_lines {
        c.open_lines = o;
    }
    conn.execute(
        "UPDATE channels SET state = ?2, name = ?3, open_lines = ?4 WHERE id = ?1",
        params![c.id, c.state.as_str(), c.name, c.open_lines],
    )?;
    record_change(conn, "channels", &c.id)?;
    Ok(Some(c))
}

pub fn channel_view(c: &Channel) -> ChannelView {
    ChannelView {
        id: c.id.clone(),
        transport: c.transport,
        name: c.name.clone(),
        state: c.state,
        open_lines: c.open_lines,
    }
}

// ---------- built-in CRM ----------

fn entity_row(r: &Row) -> rusqlite::Result<CrmEntityView> {
    let kind: String = r.get(0)?;
    let phones: String = r.get(3)?;
    Ok(CrmEntityView {
        kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
        id: r.get::<_, i64>(1)?.to_string(),
        title: r.get(2)?,
        phones: serde_json::from_str(&phones).unwrap_or_default(),
        responsible_id: r.get(4)?,
        contact_id: r.get::<_, Option<i64>>(5)?.map(|i| i.to_string()),
        other_contact_ids: Vec::new(),
        closed: r.get(6)?,
        stage: r.get(8)?,
        numbers: Vec::new(),
        responsible_name: r.get(7)?,
        url: None,
    })
}

/// Fills in how each phone reads under the current setting 2.
pub fn with_numbers(mut v: CrmEntityView, eight_as_plus7: bool) -> CrmEntityView {
    v.numbers = v
        .phones
        .iter()
        .map(|p| PhoneReading::of(p, eight_as_plus7))
        .collect();
    v
}

/// CRM entities whose title or phones contain `q` (digits compared without formatting),
/// open ones first, at most `limit`.
pub fn search_entities<E: From<rusqlite::Error>>(
    conn: &Connection,
    q: &str,
    limit: usize,
    visible: &mut dyn FnMut(&CrmEntityView) -> Result<bool, E>,
) -> Result<Vec<CrmEntityView>, E> {
    let q = q.trim().to_lowercase();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let mut all = entities(conn)?;
    all.sort_by(|a, b| {
        (a.closed, a.kind.as_str(), &a.title).cmp(&(b.closed, b.kind.as_str(), &b.title))
    });
    let mut found = Vec::new();
    for e in all {
        let phone_hit = digits.len() >= 3
            && e.phones.iter().any(|p| {
                p.chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .contains(&digits)
            });
        if (q.is_empty() || e.title.to_lowercase().contains(&q) || phone_hit) && visible(&e)? {
            found.push(e);
            if found.len() == limit {
                break;
            }
        }
    }
    Ok(found)
}

const ENTITY_COLS: &str = "kind, id, title, phones, responsible_id, contact_id, closed, \
     (SELECT name FROM employees WHERE employees.id = crm_entities.responsible_id), stage";

pub fn entities(conn: &Connection) -> rusqlite::Result<Vec<CrmEntityView>> {
    if crate::crm_sync::bitrix(conn)?.is_some() {
        return crate::crm_sync::entities(conn, None);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTITY_COLS} FROM crm_entities ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([], entity_row)?;
    rows.collect()
}

pub fn entity(conn: &Connection, r: &CrmRef) -> rusqlite::Result<Option<CrmEntityView>> {
    if let Some(b) = crate::crm_sync::bitrix(conn)? {
        return Ok(crate::crm_sync::entities(conn, Some(r))?
            .into_iter()
            .next()
            .map(|mut e| {
                e.url = Some(crate::crm_sync::card_url(&b.portal, e.kind, &e.id));
                e
            }));
    }
    // Only the id as the hub wrote it ("7", not "07" or "+7"): one entity, one name.
    let Some(id) = r.id.parse::<i64>().ok().filter(|n| n.to_string() == r.id) else {
        return Ok(None);
    };
    conn.query_row(
        &format!("SELECT {ENTITY_COLS} FROM crm_entities WHERE kind = ?1 AND id = ?2"),
        params![r.kind.as_str(), id],
        entity_row,
    )
    .optional()
}

pub fn insert_entity(
    conn: &Connection,
    kind: EntityKind,
    e: &NewCrmEntity,
) -> rusqlite::Result<String> {
    conn.execute(
        "INSERT INTO crm_entities (kind, title, phones, responsible_id, contact_id, closed, stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            kind.as_str(),
            e.title,
            serde_json::to_string(&e.phones).unwrap_or_else(|_| "[]".into()),
            e.responsible_id,
            e.contact_id.as_deref().and_then(|c| c.parse::<i64>().ok()),
            e.closed,
            e.stage
        ],
    )?;
    let id = conn.last_insert_rowid().to_string();
    let r = CrmRef {
        kind,
        id: id.clone(),
    };
    entity_written(conn, &r, &e.phones, e.contact_id.as_deref())?;
    Ok(id)
}

/// A built-in entity was written: its phones into the index, and the chats it touches relinked.
fn entity_written(conn: &Connection, r: &CrmRef, phones: &[String], contact: Option<&str>) -> Db {
    let contacts: Vec<String> = contact.map(str::to_owned).into_iter().collect();
    crate::links::index_entity(conn, "built_in", r.kind, &r.id, phones, &contacts)?;
    crate::links::relink_entities(conn, std::slice::from_ref(r))
}

pub fn patch_entity(
    conn: &Connection,
    r: &CrmRef,
    p: &CrmEntityPatch,
) -> rusqlite::Result<Option<CrmEntityView>> {
    let Some(mut e) = entity(conn, r)? else {
        return Ok(None);
    };
    if let Some(t) = &p.title {
        e.title.clone_from(t);
    }
    if let Some(ph) = &p.phones {
        e.phones.clone_from(ph);
    }
    if let Some(resp) = &p.responsible_id {
        e.responsible_id.clone_from(resp);
    }
    if let Some(c) = &p.contact_id {
        e.contact_id.clone_from(c);
    }
    if let Some(c) = p.closed {
        e.closed = c;
    }
    if let Some(st) = &p.stage {
        e.stage.clone_from(st);
    }
    conn.execute(
        "UPDATE crm_entities SET title = ?3, phones = ?4, responsible_id = ?5, contact_id = ?6, closed = ?7, stage = ?8 WHERE kind = ?1 AND id = ?2",
        params![
            r.kind.as_str(),
            r.id,
            e.title,
            serde_json::to_string(&e.phones).unwrap_or_else(|_| "[]".into()),
            e.responsible_id,
            e.contact_id.as_deref().and_then(|c| c.parse::<i64>().ok()),
            e.closed,
            e.stage
        ],
    )?;
    entity_written(conn, r, &e.phones, e.contact_id.as_deref())?;
    Ok(Some(e))
}

/// The message an idempotency key already names, as its send was answered, and its author.
pub fn sent_with_key(
    conn: &Connection,
    key: &str,
) -> rusqlite::Result<Option<(SendAccepted, Option<String>)>> {
    conn.query_row(
        "SELECT id, chat, status, author_id FROM messages WHERE idempotency_key = ?1",
        [key],
        |r| {
            Ok((
                SendAccepted {
                    message_id: r.get(0)?,
                    chat: r.get(1)?,
                    status: r.get(2)?,
                },
                r.get(3)?,
            ))
        },
    )
    .optional()
}

/// The responsibles of every chat with this client number (E.164), on any channel.
pub fn responsibles_of_number(
    conn: &Connection,
    phone: &str,
) -> rusqlite::Result<Vec<Option<String>>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT responsible_id FROM chats WHERE client_phone = ?1")?;
    let rows = stmt.query_map([phone], |r| r.get(0))?;
    rows.collect()
}

/// The responsibles of the chats linked to an entity (`None` for an unassigned chat).
pub fn linked_chat_responsibles(
    conn: &Connection,
    r: &CrmRef,
) -> rusqlite::Result<Vec<Option<String>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT c.responsible_id FROM chat_links l JOIN chats c ON c.id = l.chat \
         WHERE l.kind = ?1 AND l.entity_id = ?2",
    )?;
    let rows = stmt.query_map(params![r.kind.as_str(), r.id], |r| r.get(0))?;
    rows.collect()
}

pub fn timeline(conn: &Connection, r: &CrmRef) -> rusqlite::Result<Vec<TimelineEntry>> {
    let mut stmt = conn.prepare(
        "SELECT at, kind, chat, message_id, text FROM timeline WHERE entity_kind = ?1 AND entity_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![r.kind.as_str(), r.id], |r| {
        Ok(TimelineEntry {
            at: r.get(0)?,
            kind: r.get(1)?,
            chat: r.get(2)?,
            message_id: r.get(3)?,
            text: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// Recomputes every chat's CRM links and responsible; records a change for each chat that moved.
pub fn relink_all(conn: &Connection) -> Db {
    crate::links::relink(conn, crate::links::Scope::All)
}

pub fn links(conn: &Connection, chat: &str) -> rusqlite::Result<Vec<CrmRef>> {
    let mut stmt = conn.prepare(
        "SELECT kind, entity_id FROM chat_links WHERE chat = ?1 ORDER BY kind, entity_id",
    )?;
    let rows = stmt.query_map([chat], |r| {
        let kind: String = r.get(0)?;
        Ok(CrmRef {
            kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
            id: r.get(1)?,
        })
    })?;
    rows.collect()
}

// ---------- chats and messages ----------

#[derive(Debug, Clone)]
pub struct ChatRow {
    pub id: String,
    pub channel_id: String,
    pub chat_type: String,
    pub chat_id: String,
    pub title: String,
    pub responsible_id: Option<String>,
    pub unanswered: u32,
    pub escalated: bool,
    pub last_activity_at: String,
    pub last_message: Option<LastMessage>,
}

impl ChatRow {
    pub fn facts(&self) -> ChatFacts<'_> {
        ChatFacts {
            responsible: self.responsible_id.as_deref(),
            unanswered: self.unanswered,
            escalated: self.escalated,
        }
    }
}

const CHAT_SELECT: &str = "SELECT c.id, c.channel_id, c.chat_type, c.chat_id, c.title, c.responsible_id, c.unanswered, \
     c.last_activity_at, m.id, m.direction, m.text, m.at, c.escalated FROM chats c LEFT JOIN messages m ON m.id = c.last_message_id";

fn chat_row(r: &Row) -> rusqlite::Result<ChatRow> {
    let last_id: Option<String> = r.get(8)?;
    let last_message = match last_id {
        Some(id) => Some(LastMessage {
            id,
            direction: direction(&r.get::<_, String>(9)?),
            text: r.get(10)?,
            at: r.get(11)?,
        }),
        None => None,
    };
    Ok(ChatRow {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        chat_type: r.get(2)?,
        chat_id: r.get(3)?,
        title: r.get(4)?,
        responsible_id: r.get(5)?,
        unanswered: r.get(6)?,
        escalated: r.get(12)?,
        last_activity_at: r.get(7)?,
        last_message,
    })
}

fn direction(s: &str) -> Direction {
    if s == "in" {
        Direction::In
    } else {
        Direction::Out
    }
}

fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
    }
}

pub fn chat_row_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<ChatRow>> {
    conn.query_row(&format!("{CHAT_SELECT} WHERE c.id = ?1"), [id], chat_row)
        .optional()
}

/// The chat as `viewer` sees it, or `None` when they may not see it.
pub fn chat_view(
    conn: &Connection,
    viewer: &Employee,
    row: &ChatRow,
    settings: &Settings,
) -> rusqlite::Result<Option<ChatView>> {
    let Some(badge) = core::badge(viewer, &row.facts(), settings) else {
        return Ok(None);
    };
    Ok(Some(view_of(row, links(conn, &row.id)?, badge)))
}

fn view_of(row: &ChatRow, crm: Vec<CrmRef>, unanswered: Badge) -> ChatView {
    ChatView {
        id: row.id.clone(),
        channel_id: row.channel_id.clone(),
        chat_type: row.chat_type.clone(),
        chat_id: row.chat_id.clone(),
        title: row.title.clone(),
        responsible_id: row.responsible_id.clone(),
        crm,
        last_message: row.last_message.clone(),
        last_activity_at: row.last_activity_at.clone(),
        unanswered,
    }
}

/// Every chat `viewer` sees, newest activity first.
pub fn visible_chats(conn: &Connection, viewer: &Employee) -> rusqlite::Result<Vec<ChatView>> {
    let settings = settings(conn)?;
    let mut all_links: HashMap<String, Vec<CrmRef>> = HashMap::new();
    {
        let mut stmt =
            conn.prepare("SELECT chat, kind, entity_id FROM chat_links ORDER BY kind, entity_id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            all_links.entry(r.get(0)?).or_default().push(CrmRef {
                kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
                id: r.get(2)?,
            });
        }
    }
    let mut stmt = conn.prepare(&format!(
        "{CHAT_SELECT} ORDER BY c.last_activity_at DESC, c.id"
    ))?;
    let rows = stmt.query_map([], chat_row)?;
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if let Some(badge) = core::badge(viewer, &row.facts(), &settings) {
            let crm = all_links.remove(&row.id).unwrap_or_default();
            out.push(view_of(&row, crm, badge));
        }
    }
    Ok(out)
}

/// A message's columns, and its mirror state summed over its queue rows (failed beats
/// pending beats written).
const MESSAGE_COLS: &str = "id, chat, direction, text, content_uri, at, author_id, status, error, mirror_skip, \
     (SELECT CASE WHEN sum(q.state = 'failed') > 0 THEN 'failed' WHEN sum(q.state = 'pending') > 0 THEN 'pending' \
             WHEN count(*) > 0 THEN 'written' END FROM mirror_queue q WHERE q.message_id = messages.id), \
     (SELECT q.error FROM mirror_queue q WHERE q.message_id = messages.id AND q.state = 'failed' LIMIT 1)";

fn message_row(r: &Row) -> rusqlite::Result<MessageView> {
    Ok(MessageView {
        id: r.get(0)?,
        chat: r.get(1)?,
        direction: direction(&r.get::<_, String>(2)?),
        text: r.get(3)?,
        content_uri: r.get(4)?,
        at: r.get(5)?,
        author_id: r.get(6)?,
        status: r.get(7)?,
        error: r.get(8)?,
        mirror: mirror_view(
            r.get::<_, Option<String>>(9)?,
            r.get::<_, Option<String>>(10)?,
            r.get(11)?,
        ),
    })
}

fn mirror_view(skip: Option<String>, state: Option<String>, error: Option<String>) -> MirrorView {
    let state = match (
        state.as_deref(),
        skip.as_deref().and_then(core::MirrorSkip::parse),
    ) {
        (Some("failed"), _) => MirrorState::Failed,
        (Some("pending"), _) => MirrorState::Pending,
        (Some(_), _) => MirrorState::Written,
        (None, Some(skip)) => MirrorState::Skipped(skip),
        (None, None) => MirrorState::None,
    };
    MirrorView { state, error }
}

pub fn message(conn: &Connection, id: &str) -> rusqlite::Result<Option<MessageView>> {
    conn.query_row(
        &format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = ?1"),
        [id],
        message_row,
    )
    .optional()
}

/// A chat's messages, oldest first: the `limit` latest before `before` (a message id).
pub fn messages(
    conn: &Connection,
    chat: &str,
    before: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<MessageView>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE chat = ?1 \
         AND (?2 IS NULL OR (at, rowid) < (SELECT at, rowid FROM messages WHERE id = ?2)) \
         ORDER BY at DESC, rowid DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![chat, before, limit], message_row)?;
    let mut out: Vec<MessageView> = rows.collect::<rusqlite::Result<_>>()?;
    out.reverse();
    Ok(out)
}

/// One message as the provider reported it, validated.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub provider_message_id: String,
    pub channel_id: String,
    pub chat_type: String,
    pub chat_id: String,
    pub at: String,
    pub text: String,
    pub content_uri: Option<String>,
    /// `true`: written by an employee from the phone (an echo), not by the client.
    pub is_echo: bool,
    pub author_id: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

/// What storing one webhook message did.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub chat: String,
    pub message_id: String,
    /// Employees to notify now, with what.
    pub notify: Vec<(String, NotifyEvent)>,
}

/// How long a notification preview may be, in characters.
pub const PREVIEW_CHARS: usize = 120;

pub fn preview(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= PREVIEW_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(PREVIEW_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn find_chat(
    conn: &Connection,
    channel_id: &str,
    chat_type: &str,
    chat_id: &str,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT id FROM chats WHERE channel_id = ?1 AND chat_type = ?2 AND chat_id = ?3",
        params![channel_id, chat_type, chat_id],
        |r| r.get(0),
    )
    .optional()
}

/// Finds or opens the chat with a client; a new chat is linked to its CRM entities at once.
fn open_chat(
    conn: &Connection,
    channel: &Channel,
    chat_type: &str,
    chat_id: &str,
    title: &str,
    client_phone: Option<&str>,
    at: &str,
) -> rusqlite::Result<String> {
    if let Some(id) = find_chat(conn, &channel.id, chat_type, chat_id)? {
        return Ok(id);
    }
    let id = new_id();
    conn.execute(
        "INSERT INTO chats (id, channel_id, chat_type, chat_id, title, client_phone, last_activity_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, channel.id, chat_type, chat_id, title, client_phone, at],
    )?;
    record_change(conn, "chat", &id)?;
    crate::links::relink(conn, crate::links::Scope::Chats(std::slice::from_ref(&id)))?;
    Ok(id)
}

/// Opens (or finds) the chat for `writer` writing first to `phone` (E.164) on `channel`. A
/// new chat is titled after the CRM client it links to (contact, then lead, then deal). A
/// number the CRM does not know gets a lead with the writer responsible — the client goes
/// to the first responder, and the chat stays visible to the one who started it.
pub fn open_first_chat(
    conn: &Connection,
    channel: &Channel,
    chat_id: &str,
    phone: &str,
    writer: &str,
) -> rusqlite::Result<String> {
    let existed = find_chat(conn, &channel.id, channel.transport.chat_type(), chat_id)?;
    let shown =
        read_crm_phone(phone, false).map_or_else(|_| phone.to_owned(), |n| n.international());
    let id = open_chat(
        conn,
        channel,
        channel.transport.chat_type(),
        chat_id,
        &shown,
        Some(phone),
        &now(),
    )?;
    let bitrix = crate::links::source(conn)? == "bitrix24";
    if existed.is_none() && links(conn, &id)?.is_empty() && bitrix {
        // The portal gets the lead from the CRM sync (crm.lead.add, after one more look with
        // crm.duplicate.findbycomm); until it is linked, the writer answers the chat.
        conn.execute(
            "UPDATE chats SET lead_for = ?2, responsible_id = ?2, crm_checked = 0 WHERE id = ?1",
            params![id, writer],
        )?;
        record_change(conn, "chat", &id)?;
    } else if existed.is_none() && links(conn, &id)?.is_empty() {
        insert_entity(
            conn,
            EntityKind::Lead,
            &NewCrmEntity {
                title: shown.clone(),
                phones: vec![phone.to_owned()],
                responsible_id: Some(writer.to_owned()),
                contact_id: None,
                closed: false,
                stage: None,
            },
        )?;
    }
    if existed.is_none() {
        // Titled after its client: the contact, else the lead, else the deal.
        let mut linked = links(conn, &id)?;
        linked.sort_by_key(|r| match r.kind {
            EntityKind::Contact => 0,
            EntityKind::Lead => 1,
            EntityKind::Deal => 2,
        });
        let client = match linked.first() {
            Some(r) => entity(conn, r)?.map(|e| e.title),
            None => None,
        };
        if let Some(title) = client {
            conn.execute(
                "UPDATE chats SET title = ?2 WHERE id = ?1",
                params![id, title],
            )?;
            record_change(conn, "chat", &id)?;
        }
    }
    Ok(id)
}

/// The E.164 number of a client, from the chat id of a phone messenger or the contact's phone.
fn client_phone(
    transport: Transport,
    chat_id: &str,
    contact_phone: Option<&str>,
) -> Option<String> {
    let candidate = if transport.addresses_by_phone() {
        Some(chat_id)
    } else {
        contact_phone
    }?;
    let digits = candidate.trim_start_matches('+');
    read_crm_phone(&format!("+{digits}"), false)
        .ok()
        .map(|n| n.to_string())
}

/// Stores one provider message (idempotent on its `messageId`), updates the chat's
/// unanswered count, mirrors it to the built-in CRM and names whom to notify.
/// `Ok(None)`: already stored, or its channel is unknown (logged).
pub fn ingest(conn: &Connection, m: &Inbound) -> rusqlite::Result<Option<Ingested>> {
    let seen: Option<String> = conn
        .query_row(
            "SELECT id FROM messages WHERE provider_message_id = ?1",
            [&m.provider_message_id],
            |r| r.get(0),
        )
        .optional()?;
    if seen.is_some() {
        return Ok(None);
    }
    let Some(channel) = channel(conn, &m.channel_id)? else {
        tracing::warn!(channel = %m.channel_id, message = %m.provider_message_id, "webhook message for an unknown channel skipped");
        return Ok(None);
    };
    if m.is_echo {
        if let Some(chat) = find_chat(conn, &channel.id, &m.chat_type, &m.chat_id)? {
            if adopt_echo(conn, &chat, m)? {
                return Ok(None);
            }
        }
    }
    let phone = client_phone(channel.transport, &m.chat_id, m.contact_phone.as_deref());
    let title = m
        .contact_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| phone.clone())
        .unwrap_or_else(|| m.chat_id.clone());
    let chat = open_chat(
        conn,
        &channel,
        &m.chat_type,
        &m.chat_id,
        &title,
        phone.as_deref(),
        &m.at,
    )?;
    let (dir, status, event) = if m.is_echo {
        (Direction::Out, "sent", ChatEvent::EmployeeReply)
    } else {
        (Direction::In, "inbound", ChatEvent::ClientMessage)
    };
    let message_id = new_id();
    let first_client_message = dir == Direction::In
        && conn.query_row(
            "SELECT count(*) FROM messages WHERE chat = ?1 AND direction = 'in'",
            [&chat],
            |r| r.get::<_, i64>(0),
        )? == 0;
    insert_message(
        conn,
        &message_id,
        &chat,
        Some(&m.provider_message_id),
        None,
        dir,
        &m.text,
        m.content_uri.as_deref(),
        &m.at,
        m.author_id.as_deref(),
        status,
    )?;
    apply_chat_event(conn, &chat, event, &m.at)?;
    let settings = settings(conn)?;
    // Attachments go to the timeline as links.
    let body = match (&m.content_uri, m.text.is_empty()) {
        (Some(uri), true) => uri.clone(),
        (Some(uri), false) => format!("{}\n{uri}", m.text),
        (None, _) => m.text.clone(),
    };
    let author = if dir == Direction::In {
        title.clone()
    } else {
        author_name(conn, m.author_id.as_deref())?
    };
    mirror(
        conn,
        &channel,
        &chat,
        &message_id,
        dir,
        first_client_message,
        &body,
        &author,
        &m.at,
        &settings,
    )?;
    let mut notify = Vec::new();
    if let (Direction::In, Some(row)) = (dir, chat_row_by_id(conn, &chat)?) {
        let staff = employees(conn)?;
        let event = NotifyEvent {
            chat: chat.clone(),
            title: format!("{title} · {}", channel.name),
            text: preview(if m.text.is_empty() {
                m.content_uri.as_deref().unwrap_or("")
            } else {
                &m.text
            }),
            crm: notify_crm(conn, &chat)?,
        };
        for id in core::notify_recipients(&staff, &row.facts(), &settings) {
            notify.push((id, event.clone()));
        }
    }
    Ok(Some(Ingested {
        chat,
        message_id,
        notify,
    }))
}

#[allow(clippy::too_many_arguments, reason = "one row's columns")]
fn insert_message(
    conn: &Connection,
    id: &str,
    chat: &str,
    provider_message_id: Option<&str>,
    idempotency_key: Option<&str>,
    dir: Direction,
    text: &str,
    content_uri: Option<&str>,
    at: &str,
    author_id: Option<&str>,
    status: &str,
) -> Db {
    conn.execute(
        "INSERT INTO messages (id, chat, provider_message_id, idempotency_key, direction, text, content_uri, at, author_id, status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![id, chat, provider_message_id, idempotency_key, direction_str(dir), text, content_uri, at, author_id, status],
    )?;
    conn.execute(
        "UPDATE chats SET last_message_id = ?2, last_activity_at = max(last_activity_at, ?3) \
         WHERE id = ?1 AND (last_message_id IS NULL OR last_activity_at <= ?3)",
        params![chat, id, at],
    )?;
    record_change(conn, "message", id)?;
    Ok(())
}

/// Applies an unanswered-count event at time `at` to a chat (core decides the new count).
/// The first unanswered client message starts the wait; an answer ends it and any escalation.
pub fn apply_chat_event(conn: &Connection, chat: &str, event: ChatEvent, at: &str) -> Db {
    let count: u32 = conn.query_row("SELECT unanswered FROM chats WHERE id = ?1", [chat], |r| {
        r.get(0)
    })?;
    let new = core::unanswered_after(count, event);
    match (count, new) {
        (0, n) if n > 0 => conn.execute(
            "UPDATE chats SET unanswered = ?2, waiting_since = min(?3, ?4) WHERE id = ?1",
            params![chat, new, at, now()],
        )?,
        (_, 0) => conn.execute(
            "UPDATE chats SET unanswered = 0, waiting_since = NULL, escalated = 0 WHERE id = ?1",
            params![chat],
        )?,
        _ => conn.execute(
            "UPDATE chats SET unanswered = ?2 WHERE id = ?1",
            params![chat, new],
        )?,
    };
    record_change(conn, "chat", chat)?;
    Ok(())
}

/// How often the hub looks for chats due to escalate.
pub const ESCALATION_TICK: std::time::Duration = std::time::Duration::from_secs(5);

/// Escalates every chat due at `now_ms` (once each) and names the supervisors to notify.
pub fn escalation_tick(
    conn: &Connection,
    now_ms: i64,
) -> rusqlite::Result<Vec<(String, NotifyEvent)>> {
    let settings = settings(conn)?;
    if settings.escalate_after_minutes.is_none() {
        return Ok(Vec::new());
    }
    let waiting: Vec<(String, u32, String)> = {
        let mut stmt = conn.prepare(
            "SELECT id, unanswered, waiting_since FROM chats \
             WHERE unanswered > 0 AND escalated = 0 AND waiting_since IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let staff = employees(conn)?;
    let mut notify = Vec::new();
    for (chat, unanswered, since) in waiting {
        let since_ms = time_ms(&since);
        if !core::escalation_due(unanswered, since_ms, now_ms, &settings) {
            continue;
        }
        conn.execute("UPDATE chats SET escalated = 1 WHERE id = ?1", [&chat])?;
        record_change(conn, "chat", &chat)?;
        let Some(row) = chat_row_by_id(conn, &chat)? else {
            continue;
        };
        let minutes = (now_ms - since_ms) / 60_000;
        let last = row.last_message.as_ref().map_or("", |m| m.text.as_str());
        let event = NotifyEvent {
            chat: chat.clone(),
            title: row.title.clone(),
            text: preview(&format!("{minutes} min without a reply: {last}")),
            crm: notify_crm(conn, &chat)?,
        };
        for id in core::escalation_recipients(&staff, &row.facts(), &settings) {
            notify.push((id, event.clone()));
        }
    }
    Ok(notify)
}

/// The CRM entity a notification names: the chat's deal, else contact, else lead.
fn notify_crm(conn: &Connection, chat: &str) -> rusqlite::Result<Option<NotifyCrm>> {
    let linked = links(conn, chat)?;
    for kind in [EntityKind::Deal, EntityKind::Contact, EntityKind::Lead] {
        if let Some(r) = linked.iter().find(|r| r.kind == kind) {
            if let Some(e) = entity(conn, r)? {
                return Ok(Some(NotifyCrm {
                    kind,
                    id: e.id,
                    title: e.title,
                }));
            }
        }
    }
    Ok(None)
}

/// Queues a message for the CRM timelines core names (setting 1, Open Lines), one row per
/// entity with its idempotency key; or records why it is not mirrored. In the caller's
/// transaction, so a stored message always has its mirror rows.
#[allow(clippy::too_many_arguments, reason = "the facts the rule needs")]
fn mirror(
    conn: &Connection,
    channel: &Channel,
    chat: &str,
    message_id: &str,
    dir: Direction,
    first_client_message: bool,
    body: &str,
    author: &str,
    at: &str,
    settings: &Settings,
) -> Db {
    let linked = links(conn, chat)?;
    if let Some(skip) = core::mirror_skip(channel, &linked, settings) {
        conn.execute(
            "UPDATE messages SET mirror_skip = ?2 WHERE id = ?1",
            params![message_id, skip.as_str()],
        )?;
    }
    for write in core::timeline_writes(channel, &linked, dir, first_client_message, settings) {
        let (entity, kind, msg, text) = match &write {
            TimelineWrite::Message(e) => {
                let arrow = if dir == Direction::In { "→" } else { "←" };
                (
                    e,
                    "message",
                    Some(message_id),
                    format!("[{}] {arrow} {author}: {body}", channel.name),
                )
            }
            TimelineWrite::OpenLinesActivity(e) => (
                e,
                "open_lines_activity",
                None,
                format!("Open Lines chat started ({}): {author}", channel.name),
            ),
        };
        let key = format!(
            "{kind}:{}:{}:{}",
            entity.kind.as_str(),
            entity.id,
            msg.unwrap_or(chat)
        );
        conn.execute(
            "INSERT OR IGNORE INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![key, kind, entity.kind.as_str(), entity.id, chat, msg, at, text],
        )?;
    }
    Ok(())
}

/// Queues the messages of `chat` that were stored while it had no CRM link (the CRM index had
/// not seen its client yet), now that it has one. Messages from before a link that existed
/// only later (a deal created afterwards) are not back-filled: this is for clients the CRM
/// already had.
pub fn mirror_unlinked(conn: &Connection, chat: &str) -> Db {
    let Some(row) = chat_row_by_id(conn, chat)? else {
        return Ok(());
    };
    let Some(channel) = channel(conn, &row.channel_id)? else {
        return Ok(());
    };
    let settings = settings(conn)?;
    /// id, direction, text, content, at, author.
    type Waiting = (
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
    );
    let waiting: Vec<Waiting> = {
        let mut stmt = conn.prepare(
            "SELECT id, direction, text, content_uri, at, author_id FROM messages \
             WHERE chat = ?1 AND mirror_skip = 'not_linked' ORDER BY at, rowid",
        )?;
        let rows = stmt.query_map([chat], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (id, dir, text, uri, at, author) in waiting {
        let dir = direction(&dir);
        let body = match (uri, text.is_empty()) {
            (Some(u), true) => u,
            (Some(u), false) => format!("{text}\n{u}"),
            (None, _) => text,
        };
        let name = if dir == Direction::In {
            row.title.clone()
        } else {
            author_name(conn, author.as_deref())?
        };
        conn.execute(
            "UPDATE messages SET mirror_skip = NULL WHERE id = ?1",
            [&id],
        )?;
        mirror(
            conn, &channel, chat, &id, dir, false, &body, &name, &at, &settings,
        )?;
        record_change(conn, "message", &id)?;
    }
    Ok(())
}

/// The employee's name, or their id when unknown.
fn author_name(conn: &Connection, employee_id: Option<&str>) -> rusqlite::Result<String> {
    let Some(id) = employee_id else {
        return Ok("employee".into());
    };
    Ok(conn
        .query_row("SELECT name FROM employees WHERE id = ?1", [id], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .unwrap_or_else(|| id.to_owned()))
}

/// How far along an outgoing message is; a status never moves backwards.
fn status_rank(status: &str) -> u8 {
    match status {
        "pending" | "queued" => 0,
        "accepted" => 1,
        "sent" => 2,
        "delivered" => 3,
        "read" => 4,
        // error/failed end the walk; a later `read` cannot undo them, nor they a `read`.
        _ => 5,
    }
}

/// Applies a provider status (`sent`, `delivered`, `read`, `error` with its reason) to one
/// of our messages. Statuses arrive out of order and repeated: only a step forward counts.
/// `Ok(false)`: no such message.
pub fn apply_status(
    conn: &Connection,
    provider_message_id: &str,
    status: &str,
    error: Option<&str>,
) -> rusqlite::Result<bool> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT id, status FROM messages WHERE provider_message_id = ?1",
            [provider_message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, current)) = row else {
        return Ok(false);
    };
    let forward = if status == "error" {
        status_rank(&current) < 4
    } else {
        status != "edited" && status_rank(status) > status_rank(&current)
    };
    if forward {
        conn.execute(
            "UPDATE messages SET status = ?2, error = ?3 WHERE id = ?1",
            params![id, status, error],
        )?;
        record_change(conn, "message", &id)?;
    }
    Ok(true)
}

/// Raises an outgoing message to at least `status` (never backwards).
pub fn raise_status(conn: &Connection, id: &str, status: &str) -> Db {
    let current: Option<String> = conn
        .query_row("SELECT status FROM messages WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    if current.is_some_and(|c| status_rank(&c) < status_rank(status)) {
        conn.execute(
            "UPDATE messages SET status = ?2, error = NULL WHERE id = ?1",
            params![id, status],
        )?;
        record_change(conn, "message", id)?;
    }
    Ok(())
}

/// An echo of a message we sent ourselves, recognised when its `messageId` is not known yet
/// (the hub went down before it read the provider's answer): our oldest outgoing message in
/// that chat with the same text and no provider id. It takes the provider's id, and leaves
/// the outbox — it was delivered.
fn adopt_echo(conn: &Connection, chat: &str, m: &Inbound) -> rusqlite::Result<bool> {
    let ours: Option<String> = conn
        .query_row(
            "SELECT id FROM messages WHERE chat = ?1 AND direction = 'out' AND provider_message_id IS NULL \
             AND idempotency_key IS NOT NULL AND text = ?2 ORDER BY at, id LIMIT 1",
            params![chat, m.text],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = ours else {
        return Ok(false);
    };
    conn.execute(
        "UPDATE messages SET provider_message_id = ?2 WHERE id = ?1",
        params![id, m.provider_message_id],
    )?;
    conn.execute("DELETE FROM outbox WHERE message_id = ?1", [&id])?;
    let status: String =
        conn.query_row("SELECT status FROM messages WHERE id = ?1", [&id], |r| {
            r.get(0)
        })?;
    if status == "failed" {
        // It did go out after all.
        conn.execute(
            "UPDATE messages SET status = 'accepted', error = NULL WHERE id = ?1",
            [&id],
        )?;
    }
    raise_status(conn, &id, "accepted")?;
    record_change(conn, "message", &id)?;
    tracing::info!(message = %id, "echo of our own send recognised");
    Ok(true)
}

/// The provider's channel list: new channels are added (named after their transport and
/// account), states are refreshed, and provider channels no longer listed become `deleted`.
pub fn upsert_provider_channels(
    conn: &Connection,
    listed: &[crate::provider::ProviderChannel],
) -> Db {
    let mut seen = BTreeSet::new();
    for p in listed {
        let Some(transport) = Transport::parse(&p.transport) else {
            tracing::warn!(channel = %p.channel_id, transport = %p.transport, "provider channel of an unknown transport skipped");
            continue;
        };
        seen.insert(p.channel_id.clone());
        let state = ChannelState::parse(&p.state);
        let existing: Option<(String, Option<String>)> = conn
            .query_row(
                "SELECT state, plain_id FROM channels WHERE id = ?1",
                [&p.channel_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match existing {
            None => {
                let name = format!("{} {}", transport_label(transport), p.plain_id)
                    .trim()
                    .to_owned();
                conn.execute(
                    "INSERT INTO channels (id, transport, name, state, open_lines, sandbox, plain_id) VALUES (?1, ?2, ?3, ?4, 0, 0, ?5)",
                    params![p.channel_id, transport.as_str(), name, state.as_str(), p.plain_id],
                )?;
                record_change(conn, "channels", &p.channel_id)?;
            }
            Some((old_state, old_plain)) => {
                if old_state != state.as_str() || old_plain.as_deref() != Some(&p.plain_id) {
                    conn.execute(
                        "UPDATE channels SET state = ?2, plain_id = ?3 WHERE id = ?1",
                        params![p.channel_id, state.as_str(), p.plain_id],
                    )?;
                    record_change(conn, "channels", &p.channel_id)?;
                }
            }
        }
    }
    let gone: Vec<String> = {
        let mut stmt =
            conn.prepare("SELECT id FROM channels WHERE sandbox = 0 AND state <> 'deleted'")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        ids.collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect()
    };
    for id in gone {
        conn.execute("UPDATE channels SET state = 'deleted' WHERE id = ?1", [&id])?;
        record_change(conn, "channels", &id)?;
    }
    Ok(())
}

/// A `channelsUpdates` webhook item: the channel's new state (unknown channels are ignored).
pub fn set_channel_state(conn: &Connection, id: &str, state: &str) -> rusqlite::Result<bool> {
    let state = ChannelState::parse(state);
    let n = conn.execute(
        "UPDATE channels SET state = ?2 WHERE id = ?1 AND sandbox = 0 AND state <> ?2",
        params![id, state.as_str()],
    )?;
    if n > 0 {
        record_change(conn, "channels", id)?;
    }
    Ok(n > 0)
}

fn transport_label(t: Transport) -> &'static str {
    match t {
        Transport::Whatsapp => "WhatsApp",
        Transport::Wapi => "WhatsApp Business",
        Transport::Tgapi => "Telegram",
        Transport::Telegram => "Telegram bot",
        Transport::Viber => "Viber",
        Transport::Instagram => "Instagram",
        Transport::Vk => "VK",
        Transport::Avito => "Avito",
        Transport::Max => "MAX",
    }
}

/// An employee's reply in an existing chat. Sandbox channels have no provider: the message
/// counts as sent at once. Idempotent on `key`.
pub fn reply(
    conn: &Connection,
    chat: &ChatRow,
    author: &str,
    text: &str,
    key: &str,
) -> rusqlite::Result<SendAccepted> {
    if let Some((existing, _)) = sent_with_key(conn, key)? {
        return Ok(existing);
    }
    let id = new_id();
    let at = now();
    // Sandbox channels have no provider behind them: sent at once. Others go through the outbox.
    let sandbox: bool = conn
        .query_row(
            "SELECT sandbox FROM channels WHERE id = ?1",
            [&chat.channel_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(true);
    let status = if sandbox { "sent" } else { "queued" };
    insert_message(
        conn,
        &id,
        &chat.id,
        None,
        Some(key),
        Direction::Out,
        text,
        None,
        &at,
        Some(author),
        status,
    )?;
    if !sandbox {
        crate::outbox::enqueue(conn, &id, &chat.id)?;
    }
    apply_chat_event(conn, &chat.id, ChatEvent::EmployeeReply, &at)?;
    if let Some(channel) = channel(conn, &chat.channel_id)? {
        let settings = settings(conn)?;
        let name = author_name(conn, Some(author))?;
        mirror(
            conn,
            &channel,
            &chat.id,
            &id,
            Direction::Out,
            false,
            text,
            &name,
            &at,
            &settings,
        )?;
    }
    Ok(SendAccepted {
        message_id: id,
        chat: chat.id.clone(),
        status: status.into(),
    })
}

// ---------- sync ----------

/// How many change-log rows one sync answer covers at most.
const SYNC_BATCH: i64 = 500;
/// How many recent messages per chat a full snapshot carries.
const SNAPSHOT_MESSAGES: u32 = 50;

/// Everything `viewer` may see that changed after `cursor`, in order.
pub fn sync(conn: &Connection, viewer_id: &str, cursor: i64) -> rusqlite::Result<SyncResponse> {
    let Some(viewer) = employee(conn, viewer_id)? else {
        return Ok(SyncResponse {
            changes: vec![],
            cursor,
            has_more: false,
        });
    };
    let max = last_seq(conn)?;
    let mut stmt =
        conn.prepare("SELECT seq, kind, ref FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let batch: Vec<(i64, String, String)> = stmt
        .query_map(params![cursor, SYNC_BATCH], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let full = cursor <= 0
        || cursor > max
        || batch
            .iter()
            .any(|(_, kind, _)| matches!(kind.as_str(), "settings" | "employees" | "channels"));
    let settings = settings(conn)?;
    let mut changes = Vec::new();
    if full {
        // A snapshot of now: covers every change up to `max`.
        changes.push(Change::Me {
            employee: employee_view(&viewer),
        });
        changes.push(Change::Settings { settings });
        changes.push(Change::Channels {
            channels: channels(conn)?.iter().map(channel_view).collect(),
        });
        let chats = visible_chats(conn, &viewer)?;
        changes.push(Change::VisibleChats {
            ids: chats.iter().map(|c| c.id.clone()).collect(),
        });
        let visible: BTreeSet<String> = chats.iter().map(|c| c.id.clone()).collect();
        let mut sent: BTreeSet<String> = BTreeSet::new();
        if cursor <= 0 || cursor > max {
            for c in &chats {
                for m in messages(conn, &c.id, None, SNAPSHOT_MESSAGES)? {
                    sent.insert(m.id.clone());
                    changes.push(Change::Message { message: m });
                }
            }
        } else {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT ref FROM changes WHERE seq > ?1 AND kind = 'message' ORDER BY seq",
            )?;
            let ids: Vec<String> = stmt
                .query_map([cursor], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in ids {
                if let Some(m) = message(conn, &id)?
                    .filter(|m| visible.contains(&m.chat) && !sent.contains(&m.id))
                {
                    sent.insert(m.id.clone());
                    changes.push(Change::Message { message: m });
                }
            }
        }
        changes.extend(chats.into_iter().map(|chat| Change::Chat { chat }));
        return Ok(SyncResponse {
            changes,
            cursor: max,
            has_more: false,
        });
    }
    // Incremental: the latest state of each changed chat and message, in log order.
    let mut last_pos: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, (_, kind, reference)) in batch.iter().enumerate() {
        last_pos.insert((kind.as_str(), reference.as_str()), i);
    }
    let mut visible_cache: HashMap<String, bool> = HashMap::new();
    for (i, (_, kind, reference)) in batch.iter().enumerate() {
        if last_pos.get(&(kind.as_str(), reference.as_str())) != Some(&i) {
            continue;
        }
        match kind.as_str() {
            "chat" => match chat_row_by_id(conn, reference)? {
                Some(row) => match chat_view(conn, &viewer, &row, &settings)? {
                    Some(chat) => changes.push(Change::Chat { chat }),
                    None => changes.push(Change::ChatRemoved { id: row.id }),
                },
                None => changes.push(Change::ChatRemoved {
                    id: reference.clone(),
                }),
            },
            "message" => {
                if let Some(m) = message(conn, reference)? {
                    let visible = match visible_cache.get(&m.chat) {
                        Some(v) => *v,
                        None => {
                            let v = chat_row_by_id(conn, &m.chat)?.is_some_and(|row| {
                                core::can_see(&viewer, row.responsible_id.as_deref())
                            });
                            visible_cache.insert(m.chat.clone(), v);
                            v
                        }
                    };
                    if visible {
                        changes.push(Change::Message { message: m });
                    }
                }
            }
            _ => {}
        }
    }
    let new_cursor = batch.last().map_or(cursor, |b| b.0);
    Ok(SyncResponse {
        changes,
        cursor: new_cursor,
        has_more: batch.len() as i64 == SYNC_BATCH,
    })
}

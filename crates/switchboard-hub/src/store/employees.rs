//! Employees, their tokens (stored as digests) and who a token names.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::HashMap;
use switchboard_core::{Employee, Role};

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    Employee(Employee),
}

pub(super) fn employee_row(r: &Row) -> rusqlite::Result<Employee> {
    let role: String = r.get(2)?;
    Ok(Employee {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::None),
        receives_new_clients: r.get(3)?,
        priority_channel_id: r.get(4)?,
    })
}

pub(super) const EMPLOYEE_COLS: &str = "id, name, role, receives_new_clients, priority_channel_id";

/// The active staff: whom the rules consider (visibility, notifications, escalation).
pub fn employees(conn: &Connection) -> rusqlite::Result<Vec<Employee>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EMPLOYEE_COLS} FROM employees WHERE active = 1 ORDER BY name, id"
    ))?;
    let rows = stmt.query_map([], employee_row)?;
    rows.collect()
}

/// Every employee as the Employees screen lists them, deactivated ones too.
pub fn employee_list(conn: &Connection) -> rusqlite::Result<Vec<EmployeeView>> {
    let mut stmt = conn.prepare_cached(&format!(
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
    conn.one(
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
pub fn store_token(conn: &Connection, token: &str, employee_id: Option<&str>, now: &str) -> Db {
    conn.exec(
        "INSERT OR IGNORE INTO tokens (hash, employee_id, created_at, id) VALUES (?1, ?2, ?3, ?4)",
        params![
            token_hash(token),
            employee_id,
            now,
            hex::encode(rand::random::<[u8; 8]>())
        ],
    )?;
    Ok(())
}

/// The administrator's token is the one the hub started with: any other stored before (a
/// rotated `SWITCHBOARD_ADMIN_TOKEN`) stops working.
pub fn replace_admin_token(conn: &Connection, token: &str, now: &str) -> Db {
    conn.exec(
        "DELETE FROM tokens WHERE employee_id IS NULL AND hash <> ?1",
        [token_hash(token)],
    )?;
    store_token(conn, token, None, now)
}

/// An employee's tokens (their signed-in desktops), oldest first.
pub fn tokens_of(conn: &Connection, employee_id: &str) -> rusqlite::Result<Vec<TokenView>> {
    let mut stmt = conn.prepare_cached(
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
    Ok(conn.exec(
        "DELETE FROM tokens WHERE id = ?1 AND employee_id IS NOT NULL",
        [id],
    )? > 0)
}

/// Revokes the token itself (a desktop signing out).
pub fn revoke_own_token(conn: &Connection, token: &str) -> Db {
    conn.exec(
        "DELETE FROM tokens WHERE hash = ?1 AND employee_id IS NOT NULL",
        [token_hash(token)],
    )?;
    Ok(())
}

/// Whether an employee is active (`None`: no such employee).
pub fn is_active(conn: &Connection, id: &str) -> rusqlite::Result<Option<bool>> {
    conn.one("SELECT active FROM employees WHERE id = ?1", [id], |r| {
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
    conn.exec(
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
        conn.exec(
            "UPDATE employees SET crm_user_id = ?2 WHERE id = ?1",
            params![employee.id, crm],
        )?;
    }
    record_change(conn, ChangeKind::Employees, &employee.id)?;
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
        conn.exec(
            "UPDATE employees SET crm_user_id = ?2 WHERE id = ?1",
            params![e.id, crm],
        )?;
        // Who is responsible for which chat may have changed.
        relink_all(conn)?;
    }
    if let Some(active) = p.active {
        conn.exec(
            "UPDATE employees SET active = ?2 WHERE id = ?1",
            params![e.id, active],
        )?;
        if !active {
            // Deactivated: every desktop of theirs is signed out now.
            conn.exec("DELETE FROM tokens WHERE employee_id = ?1", [&e.id])?;
        }
        // Their clients are unassigned while they are away (and theirs again after).
        relink_all(conn)?;
    }
    conn.exec(
        "UPDATE employees SET name = ?2, role = ?3, receives_new_clients = ?4, priority_channel_id = ?5 WHERE id = ?1",
        params![e.id, e.name, e.role.as_str(), e.receives_new_clients, e.priority_channel_id],
    )?;
    record_change(conn, ChangeKind::Employees, &e.id)?;
    Ok(Some(e))
}

/// Employees' CRM user ids.
pub fn crm_user_ids(conn: &Connection) -> rusqlite::Result<HashMap<String, String>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, crm_user_id FROM employees WHERE crm_user_id IS NOT NULL")?;
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

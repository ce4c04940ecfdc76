-- Which CRM the workspace uses. kind 'bitrix24': the incoming webhook URL (a secret: only the hub
-- reads it), the portal and user Check connection showed, and the sync cursor.
CREATE TABLE crm_connection (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kind TEXT NOT NULL CHECK (kind IN ('built_in', 'bitrix24')),
    webhook_url TEXT,
    portal TEXT,
    user_name TEXT,
    connected_at TEXT,
    -- DATE_MODIFY of the newest entity synced (per kind, JSON object), for the next poll.
    cursor TEXT NOT NULL DEFAULT '{}'
);
-- The employee's user id in the CRM (Bitrix24's ASSIGNED_BY_ID), to map responsibles.
ALTER TABLE employees ADD COLUMN crm_user_id TEXT;
-- Bitrix24's leads, contacts and deals as last synced: the local index chats are matched against.
CREATE TABLE bitrix_entities (
    kind TEXT NOT NULL CHECK (kind IN ('lead', 'contact', 'deal')),
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    -- JSON array of raw phone values as typed in the portal.
    phones TEXT NOT NULL,
    assigned_by_id TEXT,
    -- A deal's primary contact.
    contact_id TEXT,
    closed INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
-- Chats whose number was asked of Bitrix24 (crm.duplicate.findbycomm) since it connected.
ALTER TABLE chats ADD COLUMN crm_checked INTEGER NOT NULL DEFAULT 0;

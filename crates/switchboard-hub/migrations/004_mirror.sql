-- Setting 1's durable queue: one row per message (or Open Lines chat) and CRM entity, written to
-- that entity's timeline exactly once, in id order per entity. Rows stay after they are written:
-- they are the message's mirror state.
CREATE TABLE mirror_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The idempotency key: "<kind>:<entity kind>:<entity id>:<message id or chat>".
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('message', 'open_lines_activity')),
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    chat TEXT NOT NULL,
    message_id TEXT,
    at TEXT NOT NULL,
    -- The timeline text (author and channel in it).
    text TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'written', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    -- The first attempt whose outcome is unknown (the CRM may have written it).
    unsure_since_ms INTEGER,
    error TEXT,
    -- The CRM's id of the written entry.
    crm_entry_id TEXT
);
CREATE INDEX mirror_by_entity ON mirror_queue (state, entity_kind, entity_id, id);
CREATE INDEX mirror_by_message ON mirror_queue (message_id);
-- Why a message is not mirrored (open_lines, setting_off, not_linked); NULL when it is queued.
ALTER TABLE messages ADD COLUMN mirror_skip TEXT;

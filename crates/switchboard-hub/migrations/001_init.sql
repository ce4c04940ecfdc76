CREATE TABLE settings (
    -- The workspace settings of "CRM integration → Additional": exactly one row.
    id INTEGER PRIMARY KEY CHECK (id = 1),
    save_to_crm_timeline INTEGER NOT NULL,
    eight_as_plus7 INTEGER NOT NULL,
    notify_supervisors_all INTEGER NOT NULL
);

CREATE TABLE settings_audit (
    -- Every settings change: who, when, old → new.
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    field TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL
);

CREATE TABLE employees (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('seller', 'supervisor', 'none')),
    receives_new_clients INTEGER NOT NULL,
    priority_channel_id TEXT
);

CREATE TABLE tokens (
    -- Bearer tokens, stored as SHA-256 hex digests. employee_id NULL is the administrator.
    hash TEXT PRIMARY KEY,
    employee_id TEXT REFERENCES employees(id),
    created_at TEXT NOT NULL
);

CREATE TABLE channels (
    -- Messenger accounts. sandbox = 1: created here, no provider behind it.
    id TEXT PRIMARY KEY,
    transport TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    open_lines INTEGER NOT NULL,
    sandbox INTEGER NOT NULL
);

CREATE TABLE crm_entities (
    -- The built-in CRM: leads, contacts and deals. phones is a JSON array of raw strings as typed.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('lead', 'contact', 'deal')),
    title TEXT NOT NULL,
    phones TEXT NOT NULL,
    responsible_id TEXT,
    contact_id INTEGER,
    closed INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE chats (
    -- One conversation with one client on one channel.
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    title TEXT NOT NULL,
    -- The client's number in E.164 when known (the chatId of phone messengers, or contact.phone).
    client_phone TEXT,
    responsible_id TEXT,
    unanswered INTEGER NOT NULL DEFAULT 0,
    last_message_id TEXT,
    last_activity_at TEXT NOT NULL,
    UNIQUE (channel_id, chat_type, chat_id)
);

CREATE TABLE chat_links (
    -- Which CRM entities a chat belongs to (matched by phone under setting 2).
    chat TEXT NOT NULL REFERENCES chats(id),
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    PRIMARY KEY (chat, kind, entity_id)
);

CREATE TABLE messages (
    -- provider_message_id makes webhooks idempotent; idempotency_key makes sends idempotent.
    id TEXT PRIMARY KEY,
    chat TEXT NOT NULL REFERENCES chats(id),
    provider_message_id TEXT UNIQUE,
    idempotency_key TEXT UNIQUE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    text TEXT NOT NULL,
    content_uri TEXT,
    at TEXT NOT NULL,
    author_id TEXT,
    status TEXT NOT NULL
);
CREATE INDEX messages_by_chat ON messages (chat, at);

CREATE TABLE timeline (
    -- The built-in CRM's event feed: mirrored messages and Open Lines activities.
    id INTEGER PRIMARY KEY,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('message', 'open_lines_activity')),
    at TEXT NOT NULL,
    chat TEXT NOT NULL,
    message_id TEXT,
    text TEXT NOT NULL
);
CREATE UNIQUE INDEX timeline_once_per_message ON timeline (entity_kind, entity_id, message_id) WHERE kind = 'message';
CREATE UNIQUE INDEX timeline_once_per_open_lines_chat ON timeline (entity_kind, entity_id, chat) WHERE kind = 'open_lines_activity';

CREATE TABLE changes (
    -- The change log that sync reads: seq is the cursor. kind: chat, message, settings, employees, channels.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL
);

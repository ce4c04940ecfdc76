CREATE TABLE meta (
    -- Key/value facts of this desktop: the connection (hub_url, token, mode) and the sync cursor.
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE chats (
    -- The chats this employee sees, as the hub last described them (view: the hub's ChatView JSON).
    id TEXT PRIMARY KEY,
    last_activity_at TEXT NOT NULL,
    view TEXT NOT NULL
);
CREATE INDEX chats_by_activity ON chats (last_activity_at DESC);

CREATE TABLE messages (
    -- Messages of those chats (view: the hub's MessageView JSON).
    id TEXT PRIMARY KEY,
    chat TEXT NOT NULL,
    at TEXT NOT NULL,
    view TEXT NOT NULL
);
CREATE INDEX messages_by_chat ON messages (chat, at);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    view TEXT NOT NULL
);

CREATE TABLE outbox (
    -- Messages written on this desktop and not yet taken by the hub, in the order written.
    -- key is the idempotency key the hub and the provider see: a resend is never a second message.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    -- A reply in a chat …
    chat TEXT,
    -- … or a first message: the channel and the client's number (E.164) with its display form.
    channel_id TEXT,
    phone TEXT,
    display TEXT,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- Why the hub refused it (NULL while it waits to be sent).
    error TEXT
);

-- The provider's own id of a channel's account (phone, username); NULL for sandbox channels.
ALTER TABLE channels ADD COLUMN plain_id TEXT;
-- Why a message failed (`failed`: the hub gave up or the provider refused; `error`: the provider's code).
ALTER TABLE messages ADD COLUMN error TEXT;

CREATE TABLE outbox (
    -- Our messages waiting for the provider to accept them, sent in id order within a chat.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE REFERENCES messages(id),
    chat TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Unix ms: not before.
    next_attempt_ms INTEGER NOT NULL,
    -- Unix ms of the first attempt whose outcome is unknown (the provider may hold the message):
    -- repeating is only safe while the provider still remembers our crmMessageId.
    unsure_since_ms INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_by_chat ON outbox (chat, id);

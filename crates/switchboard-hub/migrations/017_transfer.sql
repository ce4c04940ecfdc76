-- Handing a chat to a colleague (#15): whether the responsible seller may (supervisors always
-- may), and the record of every hand-over, for supervisors to read.
ALTER TABLE settings ADD COLUMN sellers_may_transfer INTEGER NOT NULL DEFAULT 0;
CREATE TABLE transfers (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    -- Who handed it over, and from whom to whom (from: nobody when the chat was unassigned).
    by_id TEXT NOT NULL,
    chat TEXT NOT NULL,
    from_id TEXT,
    to_id TEXT NOT NULL,
    -- The CRM entities whose responsible changed, as JSON `[{kind, id}]`.
    entities TEXT NOT NULL
);
CREATE INDEX transfers_by_chat ON transfers (chat, id);

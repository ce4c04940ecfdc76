-- What the employee was writing in a chat and has not sent: kept as they type, so it is there
-- after switching chats and after a restart; shown in the list; gone once sent.
CREATE TABLE drafts (
    chat TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    at TEXT NOT NULL
);

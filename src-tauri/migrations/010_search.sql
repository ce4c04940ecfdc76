-- Full-text search over every message this desktop holds (offline too): SQLite's FTS5 with the
-- trigram tokenizer, case- and accent-blind — any 3 characters match inside a word, so Russian
-- word forms, product names in any case and parts of numbers are found without a stemmer
-- (core::search). The index reads its text from `messages` and is kept by triggers.
-- 011 replaced this table the day it came, before any release. It was written with
-- `remove_diacritics 1`, an option of SQLite 3.45 that the system's SQLite (Debian 12: 3.40)
-- refuses, so a new store now creates it without. A store a development build of that day left
-- at version 10 cannot be upgraded on 3.40 (011 cannot drop the table): delete its local.db,
-- signing in syncs it again.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content = 'messages', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

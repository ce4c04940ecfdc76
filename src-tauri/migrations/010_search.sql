-- Full-text search over every message this desktop holds (offline too): SQLite's FTS5 with the
-- trigram tokenizer, case- and accent-blind — any 3 characters match inside a word, so Russian
-- word forms, product names in any case and parts of numbers are found without a stemmer
-- (core::search). The index reads its text from `messages` and is kept by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content = 'messages', content_rowid = 'rowid', tokenize = 'trigram remove_diacritics 1'
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

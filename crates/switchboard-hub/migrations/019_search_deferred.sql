-- The search index (018) is filled by a background worker, oldest first, in batches, instead of
-- by a trigger inside every webhook's transaction: the trigger cost a quarter of ingest
-- (`--bench ingest`), and the newest messages are on every desktop anyway. Messages are never
-- deleted in the hub, so their rowids only grow: `upto` is the last one indexed.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TABLE search_indexed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
INSERT INTO search_indexed (id, upto) VALUES (1, (SELECT coalesce(max(rowid), 0) FROM messages));
-- A row the index already holds is taken out (and put back with its new text) as it changes.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.rowid <= (SELECT upto FROM search_indexed WHERE id = 1) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.rowid <= (SELECT upto FROM search_indexed WHERE id = 1) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;

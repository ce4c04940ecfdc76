-- What a message carries (the provider's `type`) and its file as the hub keeps it: a client's
-- file is fetched from the provider's link at once (links may not last) into the data
-- directory's `media/`, and served to whoever may see the chat.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
-- NULL: no file. pending (being fetched), stored, too_big, failed.
ALTER TABLE messages ADD COLUMN media_state TEXT;
ALTER TABLE messages ADD COLUMN media_name TEXT;
ALTER TABLE messages ADD COLUMN media_mime TEXT;
ALTER TABLE messages ADD COLUMN media_size INTEGER;
ALTER TABLE messages ADD COLUMN media_error TEXT;

-- Files still to fetch, with their attempts and when the next is due (a lease while one runs).
CREATE TABLE media_queue (
    message_id TEXT PRIMARY KEY REFERENCES messages(id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX media_queue_due ON media_queue (next_attempt_ms);

-- Client files stored before this version: fetched now (their kind was not kept).
UPDATE messages SET kind = 'unknown', media_state = 'pending'
 WHERE content_uri IS NOT NULL AND direction = 'in';
INSERT INTO media_queue (message_id) SELECT id FROM messages WHERE media_state = 'pending';

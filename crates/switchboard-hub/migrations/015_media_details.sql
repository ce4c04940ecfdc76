-- What a client's file says beyond its type and size, read once it is kept: how long a voice
-- note or video plays, and a shared contact's name, phones and e-mails (JSON of
-- `core::ContactCard`). A location needs no column: it is read from the message's text and link.
ALTER TABLE messages ADD COLUMN media_duration_ms INTEGER;
ALTER TABLE messages ADD COLUMN media_contact TEXT;

-- A location's link is a map page, not a file: locations stored before this version are not
-- fetched (their place is read from their text and link).
DELETE FROM media_queue WHERE message_id IN (SELECT id FROM messages WHERE kind = 'geo');
UPDATE messages SET media_state = NULL, media_name = NULL, media_mime = NULL, media_size = NULL,
    media_error = NULL WHERE kind = 'geo';

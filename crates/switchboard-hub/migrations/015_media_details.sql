-- What a client's file says beyond its type and size, read once it is kept: how long a voice
-- note or video plays, and a shared contact's name, phones and e-mails (JSON of
-- `core::ContactCard`). A location needs no column: it is read from the message's text and link.
ALTER TABLE messages ADD COLUMN media_duration_ms INTEGER;
ALTER TABLE messages ADD COLUMN media_contact TEXT;

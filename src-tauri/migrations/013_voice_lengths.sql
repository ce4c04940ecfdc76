-- The list's preview of a voice note or video says how long it plays ("Voice message (0:14)").
ALTER TABLE chats ADD COLUMN last_media_ms INTEGER;
UPDATE chats SET last_media_ms = json_extract(view, '$.last_message.media_duration_ms')
 WHERE json_valid(view);

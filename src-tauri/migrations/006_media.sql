-- What a message carries and its file as the hub keeps it (`kind`, `media` as the hub's JSON);
-- the list's preview of a chat's last message names a file's kind and name.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE messages ADD COLUMN media TEXT;
ALTER TABLE chats ADD COLUMN last_kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE chats ADD COLUMN last_media_name TEXT;
UPDATE messages SET kind = coalesce(json_extract(view, '$.kind'), 'text'),
    media = json_extract(view, '$.media') WHERE json_valid(view);
UPDATE chats SET last_kind = coalesce(json_extract(view, '$.last_message.kind'), 'text'),
    last_media_name = json_extract(view, '$.last_message.media_name') WHERE json_valid(view);

-- The chat list and the tray read columns, not the hub's JSON (issue 13): filters and counters
-- are SQL over an index; `view` keeps the whole ChatView (fields this desktop does not know
-- survive, and the conversation header reads it).
ALTER TABLE chats ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE chats ADD COLUMN channel_id TEXT NOT NULL DEFAULT '';
ALTER TABLE chats ADD COLUMN badge_count INTEGER NOT NULL DEFAULT 0;
-- 'red', 'grey', or NULL when nothing waits.
ALTER TABLE chats ADD COLUMN badge_color TEXT;
ALTER TABLE chats ADD COLUMN last_text TEXT NOT NULL DEFAULT '';
ALTER TABLE chats ADD COLUMN last_from_client INTEGER NOT NULL DEFAULT 0;
-- The linked CRM entities, as JSON (a few per chat).
ALTER TABLE chats ADD COLUMN crm TEXT NOT NULL DEFAULT '[]';
UPDATE chats SET
    title = coalesce(json_extract(view, '$.title'), ''),
    channel_id = coalesce(json_extract(view, '$.channel_id'), ''),
    badge_count = coalesce(json_extract(view, '$.unanswered.count'), 0),
    badge_color = json_extract(view, '$.unanswered.color'),
    last_text = coalesce(json_extract(view, '$.last_message.text'), ''),
    last_from_client = coalesce(json_extract(view, '$.last_message.direction') = 'in', 0),
    crm = coalesce(json_extract(view, '$.crm'), '[]');
CREATE INDEX chats_by_colour ON chats (badge_color, last_activity_at DESC, id);
DROP INDEX chats_by_activity;
CREATE INDEX chats_by_activity ON chats (last_activity_at DESC, id);

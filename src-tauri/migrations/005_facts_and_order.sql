-- Badges are coloured on this desktop from each chat's facts (`core::badge` under the settings
-- and the employee it holds), so a settings change recolours here without the hub resending
-- chats (issue 13).
ALTER TABLE chats ADD COLUMN responsible_id TEXT;
ALTER TABLE chats ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
UPDATE chats SET
    responsible_id = json_extract(view, '$.responsible_id'),
    escalated = coalesce(json_extract(view, '$.escalated'), 0);
-- The list's order: chats waiting for an answer first, then by newest activity.
CREATE INDEX chats_in_list_order ON chats (badge_count > 0 DESC, last_activity_at DESC, id);
DROP INDEX chats_by_activity;
-- Messages read as columns; `view` keeps the hub's whole MessageView (fields this desktop does
-- not know survive).
ALTER TABLE messages ADD COLUMN direction TEXT NOT NULL DEFAULT 'in';
ALTER TABLE messages ADD COLUMN text TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'inbound';
ALTER TABLE messages ADD COLUMN error TEXT;
-- The CRM timeline copy's state, as the hub's MirrorView JSON (a state and an error).
ALTER TABLE messages ADD COLUMN mirror TEXT NOT NULL DEFAULT '{"state":{"kind":"none"},"error":null}';
UPDATE messages SET
    direction = coalesce(json_extract(view, '$.direction'), 'in'),
    text = coalesce(json_extract(view, '$.text'), ''),
    status = coalesce(json_extract(view, '$.status'), 'inbound'),
    error = json_extract(view, '$.error'),
    mirror = coalesce(json_extract(view, '$.mirror'), mirror);
-- Chats stored before carry no `escalated` fact: the next sync is a snapshot, which sends every
-- chat with its facts (what is here stays meanwhile, coloured as the hub said).
DELETE FROM meta WHERE key = 'cursor';

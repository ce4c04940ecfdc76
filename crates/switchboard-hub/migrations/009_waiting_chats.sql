-- The chats that carry a badge colour (something unanswered, or escalated): what a settings
-- change may recolour. A sync reads them through this index instead of every chat.
CREATE INDEX chats_waiting ON chats (last_activity_at DESC, id) WHERE unanswered > 0 OR escalated;

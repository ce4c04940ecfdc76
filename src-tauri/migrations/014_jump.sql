-- Ctrl+K finds a chat by its client's number or address (the provider's chatId: E.164 digits,
-- or a Telegram username) as well as by its title: a column read in one pass, not the chat's
-- JSON parsed for every chat at every keystroke.
ALTER TABLE chats ADD COLUMN client TEXT NOT NULL DEFAULT '';
UPDATE chats SET client = coalesce(json_extract(view, '$.chat_id'), '') WHERE json_valid(view);

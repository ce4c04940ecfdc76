-- A timeline entry of a message with a file gets a link to the hub's copy (setting 1): made
-- when the entry is first written (the hub's public address is known then), then kept in
-- `text` so a repeated attempt writes the same words.
ALTER TABLE mirror_queue ADD COLUMN file_link INTEGER NOT NULL DEFAULT 0;

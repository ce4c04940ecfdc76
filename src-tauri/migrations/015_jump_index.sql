-- Ctrl+K reads only the index (title, address, activity, id), not the rows: every chat's whole
-- JSON view lies before those columns in a row, and a scan of the table would read it too.
CREATE INDEX chats_jump ON chats (title, client, last_activity_at, id);

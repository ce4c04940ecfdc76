-- A file written on this desktop and not yet taken by the hub: its bytes wait in the data
-- directory's `outbox/<key>` (owner-only), its name, type (read from its bytes) and size here.
-- A caption is its own outbox row, after the file's (the provider takes text or a file).
ALTER TABLE outbox ADD COLUMN file_name TEXT;
ALTER TABLE outbox ADD COLUMN file_mime TEXT;
ALTER TABLE outbox ADD COLUMN file_size INTEGER;

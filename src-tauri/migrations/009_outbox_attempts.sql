-- Attempts at handing a file to the hub that failed on the way (a broken or stalled upload):
-- past a few, the file is held as refused, with Retry and Discard, instead of being sent again
-- and again while what comes after it in its chat waits.
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

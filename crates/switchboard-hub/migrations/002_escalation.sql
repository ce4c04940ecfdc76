-- "Escalate to supervisors after N minutes without a reply" (NULL: off).
ALTER TABLE settings ADD COLUMN escalate_after_minutes INTEGER;
-- When the oldest unanswered client message of a chat arrived; NULL while answered.
ALTER TABLE chats ADD COLUMN waiting_since TEXT;
-- 1 once the chat crossed the escalation threshold (supervisors were told); an answer clears it.
ALTER TABLE chats ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;

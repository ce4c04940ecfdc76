-- Why the hub refused an outbox message, beyond its text: the hub's stable error code
-- (`client_taken`, `no_chat_access`, …; `access_ended` when this desktop's sign-in ended before
-- the hub took it) and, for `client_taken`, the name of the employee whose client it is.
-- The window explains known codes in its own language and shows the hub's message otherwise.
ALTER TABLE outbox ADD COLUMN error_code TEXT;
ALTER TABLE outbox ADD COLUMN error_owner TEXT;

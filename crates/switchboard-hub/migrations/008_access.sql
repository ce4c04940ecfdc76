-- Access that can be taken back (issue 11).
-- A deactivated employee's tokens are revoked and no new ones are issued until reactivated.
ALTER TABLE employees ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
-- Tokens get an id that names them without the secret (list / revoke one sign-in).
ALTER TABLE tokens ADD COLUMN id TEXT;
UPDATE tokens SET id = substr(hash, 1, 16) WHERE id IS NULL;
CREATE UNIQUE INDEX tokens_by_id ON tokens (id);
CREATE INDEX tokens_by_employee ON tokens (employee_id);
-- Bitrix24 events: every event bumps its entity's rev; a sync round removes an entity from the
-- list only in the transaction that applied it, and only if no newer event came meanwhile.
ALTER TABLE crm_dirty ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
-- An entity the portal would not give (access denied) is asked again later, backing off, and
-- given up after a while; it never holds up the others (deletions go first).
ALTER TABLE crm_dirty ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crm_dirty ADD COLUMN next_try_ms INTEGER NOT NULL DEFAULT 0;
-- The Bitrix24 events handler has a secret of its own (not the provider's ingress secret): made
-- when the portal is connected, shown to supervisors in the handler's address.
ALTER TABLE crm_connection ADD COLUMN events_secret TEXT;
UPDATE crm_connection SET events_secret = lower(hex(randomblob(32))) WHERE kind = 'bitrix24';

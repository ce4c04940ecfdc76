-- Links to a kept file that need no sign-in: the provider downloads a file we send from one
-- (it cannot send a token), and people who open the CRM's timeline follow one. Each is a
-- random token, stored only as its SHA-256 digest, valid until `expires_ms`.
CREATE TABLE public_files (
    token_hash TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages(id),
    expires_ms INTEGER NOT NULL
);
CREATE INDEX public_files_expiry ON public_files (expires_ms);

-- Quick replies: the workspace's (owner_id NULL, kept by supervisors) and each employee's own.
-- Desktops keep a copy to use offline; every change is logged as `quick_replies` (its ref the
-- owner, empty for the workspace's).
CREATE TABLE quick_replies (
    id TEXT PRIMARY KEY,
    owner_id TEXT REFERENCES employees(id),
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX quick_replies_by_owner ON quick_replies (owner_id, title);

-- What a quick reply's {company} reads as: the workspace's company, named by its supervisors.
ALTER TABLE settings ADD COLUMN company_name TEXT;

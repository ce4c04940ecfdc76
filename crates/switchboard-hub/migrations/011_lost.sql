-- A chat that moved away from a viewer is now said to be gone only through a `lost` entry
-- (sync no longer names every changed chat a viewer cannot see). Moves logged before this
-- version have none: an empty `employees` entry makes every desktop's next sync from before it
-- a snapshot, whose visible-chat list drops them. (A new database has no desktop behind it.)
INSERT INTO changes (kind, ref) SELECT 'employees', '' WHERE EXISTS (SELECT 1 FROM changes);

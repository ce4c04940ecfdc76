-- A snapshot is sent in pages, waiting chats first (through `chats_waiting`), then the others by
-- newest activity: this index walks them page after page instead of sorting every chat per page.
CREATE INDEX chats_by_activity ON chats (last_activity_at DESC, id);

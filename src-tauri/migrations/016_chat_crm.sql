-- Which chats each CRM entity is linked to (from each chat's `crm` JSON), so Ctrl+K can find a
-- chat by its lead's, contact's or deal's title (the hub's CRM search names the entities) with
-- an index step instead of reading every chat. Kept by triggers: `INSERT OR REPLACE` fires no
-- delete trigger here, so an insert first drops what the chat had.
CREATE TABLE chat_crm (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    chat TEXT NOT NULL,
    PRIMARY KEY (kind, id, chat)
) WITHOUT ROWID;
CREATE INDEX chat_crm_by_chat ON chat_crm (chat);
CREATE TRIGGER chats_crm_insert AFTER INSERT ON chats BEGIN
    DELETE FROM chat_crm WHERE chat = new.id;
    INSERT OR IGNORE INTO chat_crm (kind, id, chat)
        SELECT json_extract(value, '$.kind'), json_extract(value, '$.id'), new.id
        FROM json_each(coalesce(new.crm, '[]'))
        WHERE json_extract(value, '$.kind') IS NOT NULL AND json_extract(value, '$.id') IS NOT NULL;
END;
CREATE TRIGGER chats_crm_update AFTER UPDATE OF crm ON chats BEGIN
    DELETE FROM chat_crm WHERE chat = new.id;
    INSERT OR IGNORE INTO chat_crm (kind, id, chat)
        SELECT json_extract(value, '$.kind'), json_extract(value, '$.id'), new.id
        FROM json_each(coalesce(new.crm, '[]'))
        WHERE json_extract(value, '$.kind') IS NOT NULL AND json_extract(value, '$.id') IS NOT NULL;
END;
CREATE TRIGGER chats_crm_delete AFTER DELETE ON chats BEGIN
    DELETE FROM chat_crm WHERE chat = old.id;
END;
INSERT OR IGNORE INTO chat_crm (kind, id, chat)
    SELECT json_extract(j.value, '$.kind'), json_extract(j.value, '$.id'), c.id
    FROM chats c, json_each(coalesce(c.crm, '[]')) j
    WHERE json_valid(coalesce(c.crm, '[]'))
      AND json_extract(j.value, '$.kind') IS NOT NULL AND json_extract(j.value, '$.id') IS NOT NULL;

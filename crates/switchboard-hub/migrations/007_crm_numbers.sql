-- Every CRM phone as read under each value of setting 2 (read in Rust when the entity is
-- written), so a chat finds its lead, contact and deal by index instead of reading every phone.
CREATE TABLE crm_numbers (
    source TEXT NOT NULL CHECK (source IN ('built_in', 'bitrix24')),
    kind TEXT NOT NULL CHECK (kind IN ('lead', 'contact', 'deal')),
    id TEXT NOT NULL,
    eight_as_plus7 INTEGER NOT NULL,
    number TEXT NOT NULL,
    -- Looked up by number: the key starts with it.
    PRIMARY KEY (source, eight_as_plus7, number, kind, id)
) WITHOUT ROWID;
CREATE INDEX crm_numbers_by_entity ON crm_numbers (source, kind, id);
-- A deal's contacts (built-in: its contact; Bitrix24: all of them), to find deals through a contact.
CREATE TABLE crm_deal_contacts (
    source TEXT NOT NULL,
    deal TEXT NOT NULL,
    contact TEXT NOT NULL,
    PRIMARY KEY (source, deal, contact)
);
CREATE INDEX crm_deal_contacts_by_contact ON crm_deal_contacts (source, contact);
-- Whether the index has been built from the entities (the hub builds it at start when not).
CREATE TABLE crm_index_state (id INTEGER PRIMARY KEY CHECK (id = 1), built INTEGER NOT NULL);
INSERT INTO crm_index_state (id, built) VALUES (1, 0);
CREATE INDEX chats_by_client_phone ON chats (client_phone);
CREATE INDEX chat_links_by_entity ON chat_links (kind, entity_id);
-- Bitrix24: the employee who wrote first to a number the portal does not know. They answer the
-- chat until the lead the hub creates for it in the portal (crm.lead.add) is linked.
ALTER TABLE chats ADD COLUMN lead_for TEXT;

-- Bitrix24's outgoing webhook: the application token the portal shows for it, to verify its events.
ALTER TABLE crm_connection ADD COLUMN event_token TEXT;
-- Entities an event named since the last sync round: fetched again (or dropped when deleted).
CREATE TABLE crm_dirty (
    kind TEXT NOT NULL CHECK (kind IN ('lead', 'contact', 'deal')),
    id TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, id)
);
-- The stage as the portal names it: STAGE_ID / STATUS_ID and the status list it belongs to
-- (DEAL_STAGE, DEAL_STAGE_<funnel>, STATUS for leads); names come from crm.status.list.
ALTER TABLE bitrix_entities ADD COLUMN stage TEXT;
ALTER TABLE bitrix_entities ADD COLUMN stage_list TEXT;
-- Every contact of a deal (crm.deal.contact.items.get), JSON array; contact_id stays the primary.
ALTER TABLE bitrix_entities ADD COLUMN contact_ids TEXT NOT NULL DEFAULT '[]';
CREATE TABLE bitrix_stages (
    list TEXT NOT NULL,
    status_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (list, status_id)
);
-- The built-in CRM's stage, as whoever edits the entity names it.
ALTER TABLE crm_entities ADD COLUMN stage TEXT;

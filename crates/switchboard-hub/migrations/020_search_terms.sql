-- The index's words, each once (switchboard-db's `SearchTerms`, as on the desktop): a typed
-- beginning is searched as the words it begins, which FTS5 reads from the newest end, instead
-- of as a beginning, which FTS5 answers only after merging every such word's list. Filled here
-- from the index; kept by the index's worker as it indexes messages.
CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE temp.search_terms_index USING fts5vocab(main, messages_fts, row);
INSERT INTO search_terms (term) SELECT term FROM temp.search_terms_index;
DROP TABLE temp.search_terms_index;

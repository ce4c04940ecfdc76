-- A number typed in the search finds its chat (read under setting 2): the client's number as the
-- provider addresses them (`chat_id`, E.164 digits on WhatsApp and Viber), looked up by index.
CREATE INDEX chats_by_number ON chats (json_extract(view, '$.chat_id'));

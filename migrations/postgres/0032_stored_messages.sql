-- Texts the application writes for a reader (a work order's title and notes
-- when an alert, an audit or the kind made them, a default checklist item, an
-- audit finding's recorded place when it is a status) are kept as message keys
-- with their arguments, a serialised `i18n::Msg` in JSON, and shown in the
-- reader's language. The plain text beside them stays as written (in the
-- creator's language) for search and for rows written before this: those keep
-- no message and are shown as they are. User-typed text has no message.
alter table work_orders add column title_msg text;
-- A JSON array of messages, one per line.
alter table work_orders add column notes_msg text;
alter table work_order_checks add column text_msg text;
alter table stocktake_findings add column recorded_msg text;

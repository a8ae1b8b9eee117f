-- Serials are stored as received and matched in any case of their ASCII
-- letters (inventory::units::Serial): a scan of s4newd000123 finds
-- S4NEWD000123, and a receipt of one of them refuses the other. lower()
-- folds ASCII only on SQLite, and on PostgreSQL's collate "C" serial column.
-- The exact-case index served the searches and look-ups, which now read
-- lower(serial).
drop index units_serial;
create index units_lower_serial on units (lower(serial));
create unique index units_manufacturer_lower_serial on units (manufacturer, lower(serial));

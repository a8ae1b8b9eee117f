-- Serials, asset tags and hostnames are identifiers: compare them by code
-- point whatever the database's locale, so the prefix ranges of the searches
-- (units::search, assets::list) mean "starts with" as they do on SQLite.
alter table units alter column serial type text collate "C";
alter table assets alter column asset_tag type text collate "C";
alter table assets alter column hostname type text collate "C";

-- Prefix search over asset tags and hostnames in any case (assets::list).
create index assets_lower_tag on assets (lower(asset_tag));
create index assets_lower_hostname on assets (lower(hostname));

-- Receipts insert the movements of a receipt line from its units in one statement.
create index units_receipt_line_id on units (receipt_line_id);

-- Prefix search over asset tags and hostnames in any case (assets::list).
create index assets_lower_tag on assets (lower(asset_tag));
create index assets_lower_hostname on assets (lower(hostname));

-- Receipts insert the movements of a receipt line from its units in one statement.
create index units_receipt_line_id on units (receipt_line_id);

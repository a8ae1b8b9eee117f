-- Every unit received writes a stock movement, so each index on the ledger
-- is written 100,000 times by a large packing list. Kept are the two that
-- queries read:
-- * unit_id: a unit's movements (the unit page);
-- * from_location_id, now only where a movement leaves a location: receipts
--   come from no location and held a null entry each, while stock levels
--   read only the movements out of a location through it.
-- Dropped are part_model_id and to_location_id: no query reads them (stock
-- levels scan the ledger whole), and no part model or location is ever
-- deleted, so no foreign key check needs them either.
drop index stock_movements_from_location_id;
create index stock_movements_from_location_id on stock_movements (from_location_id)
    where from_location_id is not null;
drop index stock_movements_part_model_id;
drop index stock_movements_to_location_id;

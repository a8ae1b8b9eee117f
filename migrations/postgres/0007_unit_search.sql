-- Serial prefix search and per-location stock sums.
create index units_serial on units (serial);
create index stock_movements_to_location_id on stock_movements (to_location_id);
create index stock_movements_from_location_id on stock_movements (from_location_id);
-- Packing list imports remember whether more than ordered was accepted.
alter table import_batches add column allow_over boolean not null default false;

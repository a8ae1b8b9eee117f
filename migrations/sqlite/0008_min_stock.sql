-- Minimum stock per part model per site (a top-level location) and the
-- preferred supplier to reorder from.
alter table part_models add column preferred_supplier_id integer references suppliers (id);

create table min_stock (
    id integer primary key,
    part_model_id integer not null references part_models (id) on delete cascade,
    location_id integer not null references stock_locations (id) on delete cascade,
    min_quantity integer not null check (min_quantity >= 0),
    created_at text not null,
    updated_at text not null,
    unique (part_model_id, location_id)
);

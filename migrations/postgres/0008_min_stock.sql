-- Minimum stock per part model per site (a top-level location) and the
-- preferred supplier to reorder from.
alter table part_models add column preferred_supplier_id bigint references suppliers (id);

create table min_stock (
    id bigint generated always as identity primary key,
    part_model_id bigint not null references part_models (id) on delete cascade,
    location_id bigint not null references stock_locations (id) on delete cascade,
    min_quantity bigint not null check (min_quantity >= 0),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (part_model_id, location_id)
);

-- Warranty months per supplier and part model (overridable on an order line),
-- each unit's warranty end, and part models' end of life.
create table warranty_terms (
    id integer primary key,
    supplier_id integer not null references suppliers (id) on delete cascade,
    part_model_id integer not null references part_models (id) on delete cascade,
    months integer not null check (months >= 0),
    created_at text not null,
    updated_at text not null,
    unique (supplier_id, part_model_id)
);

alter table po_lines add column warranty_months integer;
alter table units add column warranty_end text;
alter table part_models add column end_of_life text;
create index units_warranty_end on units (warranty_end);

-- Warranty months per supplier and part model (overridable on an order line),
-- each unit's warranty end, and part models' end of life.
create table warranty_terms (
    id bigint generated always as identity primary key,
    supplier_id bigint not null references suppliers (id) on delete cascade,
    part_model_id bigint not null references part_models (id) on delete cascade,
    months bigint not null check (months >= 0),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (supplier_id, part_model_id)
);

alter table po_lines add column warranty_months bigint;
alter table units add column warranty_end date;
alter table part_models add column end_of_life date;
create index units_warranty_end on units (warranty_end);

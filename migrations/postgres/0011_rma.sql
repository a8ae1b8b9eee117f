-- Faulty units sent back to the supplier they were bought from.
create table rmas (
    id bigint generated always as identity primary key,
    unit_id bigint not null references units (id),
    supplier_id bigint not null references suppliers (id),
    po_id bigint references purchase_orders (id),
    under_warranty boolean not null,
    status text not null check (status in ('shipped', 'replaced', 'credited', 'rejected')),
    reason text not null default '',
    replacement_unit_id bigint references units (id),
    credit_amount numeric(20, 6),
    credit_currency text,
    created_by bigint references users (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index rmas_unit_id on rmas (unit_id);
create index rmas_status on rmas (status);

-- Faulty units sent back to the supplier they were bought from.
create table rmas (
    id integer primary key,
    unit_id integer not null references units (id),
    supplier_id integer not null references suppliers (id),
    po_id integer references purchase_orders (id),
    under_warranty integer not null,
    status text not null check (status in ('shipped', 'replaced', 'credited', 'rejected')),
    reason text not null default '',
    replacement_unit_id integer references units (id),
    credit_amount text,
    credit_currency text,
    created_by integer references users (id) on delete set null,
    created_at text not null,
    updated_at text not null
);
create index rmas_unit_id on rmas (unit_id);
create index rmas_status on rmas (status);

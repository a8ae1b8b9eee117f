-- Exchange rates, stock locations, purchase orders with extra costs, receipts,
-- units and the stock movement ledger.
create table fx_rates (
    id integer primary key,
    currency text not null,
    base_currency text not null,
    rate_date text not null,
    rate text not null,
    source text not null default '',
    created_at text not null,
    updated_at text not null,
    unique (currency, base_currency, rate_date)
);

create table stock_locations (
    id integer primary key,
    parent_id integer references stock_locations (id),
    name text not null,
    kind text not null check (kind in ('warehouse', 'cabinet', 'shelf', 'bin')),
    created_at text not null,
    updated_at text not null,
    unique (parent_id, name)
);

create table purchase_orders (
    id integer primary key,
    number text not null unique,
    supplier_id integer not null references suppliers (id),
    currency text not null,
    fx_rate text not null,
    fx_rate_date text not null,
    fx_source text not null default '',
    status text not null check (status in ('draft', 'ordered', 'partially_received', 'received', 'closed', 'cancelled')),
    order_date text,
    expected_date text,
    notes text not null default '',
    created_at text not null,
    updated_at text not null
);
create index purchase_orders_supplier_id on purchase_orders (supplier_id);
create index purchase_orders_status on purchase_orders (status);

create table po_lines (
    id integer primary key,
    po_id integer not null references purchase_orders (id) on delete cascade,
    line_no integer not null,
    part_model_id integer not null references part_models (id),
    quantity integer not null check (quantity > 0),
    unit_price text not null,
    unit_weight_g integer,
    created_at text not null,
    updated_at text not null,
    unique (po_id, line_no)
);
create index po_lines_part_model_id on po_lines (part_model_id);

create table po_costs (
    id integer primary key,
    po_id integer not null references purchase_orders (id) on delete cascade,
    kind text not null check (kind in ('freight', 'insurance', 'customs_duty', 'brokerage', 'other', 'import_vat')),
    description text not null default '',
    amount text not null,
    currency text not null,
    fx_rate text not null,
    basis text not null check (basis in ('value', 'quantity', 'weight')),
    created_at text not null,
    updated_at text not null
);
create index po_costs_po_id on po_costs (po_id);

create table receipts (
    id integer primary key,
    po_id integer not null references purchase_orders (id),
    location_id integer not null references stock_locations (id),
    received_by integer references users (id) on delete set null,
    notes text not null default '',
    created_at text not null,
    updated_at text not null
);
create index receipts_po_id on receipts (po_id);

create table receipt_lines (
    id integer primary key,
    receipt_id integer not null references receipts (id) on delete cascade,
    po_line_id integer not null references po_lines (id),
    quantity integer not null check (quantity > 0),
    first_position integer not null,
    landed_cost_minor bigint not null,
    created_at text not null,
    updated_at text not null
);
create index receipt_lines_po_line_id on receipt_lines (po_line_id);

create table units (
    id integer primary key,
    part_model_id integer not null references part_models (id),
    manufacturer text not null,
    serial text not null,
    po_line_id integer references po_lines (id),
    receipt_line_id integer references receipt_lines (id),
    position integer,
    location_id integer references stock_locations (id),
    status text not null check (status in ('in_stock', 'reserved', 'installed', 'faulty', 'at_rma', 'scrapped')),
    landed_cost_minor bigint not null,
    cost_currency text not null,
    created_at text not null,
    updated_at text not null,
    unique (manufacturer, serial)
);
create index units_part_model_id on units (part_model_id);
create index units_po_line_id on units (po_line_id);

create table stock_movements (
    id integer primary key,
    part_model_id integer not null references part_models (id),
    unit_id integer references units (id),
    from_location_id integer references stock_locations (id),
    to_location_id integer references stock_locations (id),
    quantity integer not null check (quantity > 0),
    reason text not null,
    receipt_line_id integer references receipt_lines (id),
    user_id integer references users (id) on delete set null,
    created_at text not null,
    updated_at text not null
);
create index stock_movements_part_model_id on stock_movements (part_model_id);
create index stock_movements_unit_id on stock_movements (unit_id);

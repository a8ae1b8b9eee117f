-- Exchange rates, stock locations, purchase orders with extra costs, receipts,
-- units and the stock movement ledger.
create table fx_rates (
    id bigint generated always as identity primary key,
    currency text not null,
    base_currency text not null,
    rate_date date not null,
    rate numeric(24, 10) not null,
    source text not null default '',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (currency, base_currency, rate_date)
);

create table stock_locations (
    id bigint generated always as identity primary key,
    parent_id bigint references stock_locations (id),
    name text not null,
    kind text not null check (kind in ('warehouse', 'cabinet', 'shelf', 'bin')),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (parent_id, name)
);

create table purchase_orders (
    id bigint generated always as identity primary key,
    number text not null unique,
    supplier_id bigint not null references suppliers (id),
    currency text not null,
    fx_rate numeric(24, 10) not null,
    fx_rate_date date not null,
    fx_source text not null default '',
    status text not null check (status in ('draft', 'ordered', 'partially_received', 'received', 'closed', 'cancelled')),
    order_date date,
    expected_date date,
    notes text not null default '',
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index purchase_orders_supplier_id on purchase_orders (supplier_id);
create index purchase_orders_status on purchase_orders (status);

create table po_lines (
    id bigint generated always as identity primary key,
    po_id bigint not null references purchase_orders (id) on delete cascade,
    line_no bigint not null,
    part_model_id bigint not null references part_models (id),
    quantity bigint not null check (quantity > 0),
    unit_price numeric(20, 6) not null,
    unit_weight_g bigint,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (po_id, line_no)
);
create index po_lines_part_model_id on po_lines (part_model_id);

create table po_costs (
    id bigint generated always as identity primary key,
    po_id bigint not null references purchase_orders (id) on delete cascade,
    kind text not null check (kind in ('freight', 'insurance', 'customs_duty', 'brokerage', 'other', 'import_vat')),
    description text not null default '',
    amount numeric(20, 6) not null,
    currency text not null,
    fx_rate numeric(24, 10) not null,
    basis text not null check (basis in ('value', 'quantity', 'weight')),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index po_costs_po_id on po_costs (po_id);

create table receipts (
    id bigint generated always as identity primary key,
    po_id bigint not null references purchase_orders (id),
    location_id bigint not null references stock_locations (id),
    received_by bigint references users (id) on delete set null,
    notes text not null default '',
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index receipts_po_id on receipts (po_id);

create table receipt_lines (
    id bigint generated always as identity primary key,
    receipt_id bigint not null references receipts (id) on delete cascade,
    po_line_id bigint not null references po_lines (id),
    quantity bigint not null check (quantity > 0),
    first_position bigint not null,
    landed_cost_minor bigint not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index receipt_lines_po_line_id on receipt_lines (po_line_id);

create table units (
    id bigint generated always as identity primary key,
    part_model_id bigint not null references part_models (id),
    manufacturer text not null,
    serial text not null,
    po_line_id bigint references po_lines (id),
    receipt_line_id bigint references receipt_lines (id),
    position bigint,
    location_id bigint references stock_locations (id),
    status text not null check (status in ('in_stock', 'reserved', 'installed', 'faulty', 'at_rma', 'scrapped')),
    landed_cost_minor bigint not null,
    cost_currency text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (manufacturer, serial)
);
create index units_part_model_id on units (part_model_id);
create index units_po_line_id on units (po_line_id);

create table stock_movements (
    id bigint generated always as identity primary key,
    part_model_id bigint not null references part_models (id),
    unit_id bigint references units (id),
    from_location_id bigint references stock_locations (id),
    to_location_id bigint references stock_locations (id),
    quantity bigint not null check (quantity > 0),
    reason text not null,
    receipt_line_id bigint references receipt_lines (id),
    user_id bigint references users (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index stock_movements_part_model_id on stock_movements (part_model_id);
create index stock_movements_unit_id on stock_movements (unit_id);

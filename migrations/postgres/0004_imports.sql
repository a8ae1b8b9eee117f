-- Supplier file imports: each upload is a batch previewed before it is committed,
-- and column mappings saved per supplier as named profiles.
create table import_profiles (
    id bigint generated always as identity primary key,
    supplier_id bigint not null references suppliers (id) on delete cascade,
    name text not null,
    kind text not null check (kind in ('price_list', 'order_confirmation', 'packing_list')),
    profile_toml text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (supplier_id, name)
);

create table import_batches (
    id bigint generated always as identity primary key,
    kind text not null check (kind in ('price_list', 'order_confirmation', 'packing_list')),
    file_name text not null,
    content bytea not null,
    content_sha256 text not null,
    supplier_id bigint references suppliers (id),
    po_id bigint references purchase_orders (id),
    location_id bigint references stock_locations (id),
    profile_id bigint references import_profiles (id) on delete set null,
    status text not null check (status in ('queued', 'previewing', 'previewed', 'committing', 'committed', 'refused', 'failed')),
    rows_total bigint,
    rows_done bigint not null default 0,
    summary_json text,
    created_by bigint references users (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index import_batches_content_sha256 on import_batches (content_sha256);

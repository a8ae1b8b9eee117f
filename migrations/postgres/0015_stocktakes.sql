-- Audits (stocktakes): a technician walks a rack or a stock location scanning
-- asset tags and serials; finishing compares the scans with the records and
-- keeps what was missing, unexpected or unknown, and what was done about it.
create table stocktakes (
    id bigint generated always as identity primary key,
    rack_id bigint references racks (id),
    location_id bigint references stock_locations (id),
    status text not null check (status in ('open', 'finished')),
    started_by bigint references users (id) on delete set null,
    finished_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    check ((rack_id is null) <> (location_id is null))
);

create table stocktake_scans (
    id bigint generated always as identity primary key,
    stocktake_id bigint not null references stocktakes (id) on delete cascade,
    code text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (stocktake_id, code)
);

create table stocktake_findings (
    id bigint generated always as identity primary key,
    stocktake_id bigint not null references stocktakes (id) on delete cascade,
    finding text not null check (finding in ('ok', 'missing', 'unexpected', 'unknown')),
    code text not null,
    asset_id bigint references assets (id),
    unit_id bigint references units (id),
    recorded_place text not null default '',
    resolution text check (resolution in ('fixed', 'work_order')),
    work_order_id bigint references work_orders (id),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index stocktake_findings_stocktake_id on stocktake_findings (stocktake_id);

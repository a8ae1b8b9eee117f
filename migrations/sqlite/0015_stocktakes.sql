-- Audits (stocktakes): a technician walks a rack or a stock location scanning
-- asset tags and serials; finishing compares the scans with the records and
-- keeps what was missing, unexpected or unknown, and what was done about it.
create table stocktakes (
    id integer primary key,
    rack_id integer references racks (id),
    location_id integer references stock_locations (id),
    status text not null check (status in ('open', 'finished')),
    started_by integer references users (id) on delete set null,
    finished_at text,
    created_at text not null,
    updated_at text not null,
    check ((rack_id is null) <> (location_id is null))
);

create table stocktake_scans (
    id integer primary key,
    stocktake_id integer not null references stocktakes (id) on delete cascade,
    code text not null,
    created_at text not null,
    updated_at text not null,
    unique (stocktake_id, code)
);

create table stocktake_findings (
    id integer primary key,
    stocktake_id integer not null references stocktakes (id) on delete cascade,
    finding text not null check (finding in ('ok', 'missing', 'unexpected', 'unknown')),
    code text not null,
    asset_id integer references assets (id),
    unit_id integer references units (id),
    recorded_place text not null default '',
    resolution text check (resolution in ('fixed', 'work_order')),
    work_order_id integer references work_orders (id),
    created_at text not null,
    updated_at text not null
);
create index stocktake_findings_stocktake_id on stocktake_findings (stocktake_id);

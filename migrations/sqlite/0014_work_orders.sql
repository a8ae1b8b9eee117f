-- Work orders: install, move, replace a part, decommission, other. Each carries
-- the changes it will apply when completed (a placement, a part swap, an asset
-- status), a checklist, and where it came from (by hand, an alert, an audit).
-- A stock location may belong to a datacenter site, so pick lists can prefer
-- spares at the site of the work.
alter table stock_locations add column site_id integer references sites (id);

create table work_orders (
    id integer primary key,
    kind text not null check (kind in ('install', 'move', 'replace', 'decommission', 'other')),
    title text not null,
    notes text not null default '',
    status text not null check (status in ('open', 'in_progress', 'done', 'cancelled')),
    asset_id integer references assets (id),
    assignee_id integer references users (id) on delete set null,
    due_date text,
    rack_id integer references racks (id),
    u_position integer,
    face text check (face in ('front', 'rear')),
    depth text check (depth in ('full', 'half')),
    slot_name text,
    part_model_id integer references part_models (id),
    target_status text check (target_status in ('building', 'burn_in', 'racked', 'in_service', 'maintenance', 'decommissioned')),
    source text not null default 'manual' check (source in ('manual', 'alert', 'audit')),
    dedup_key text,
    spare_unit_id integer references units (id),
    removed_unit_id integer references units (id),
    created_by integer references users (id) on delete set null,
    completed_by integer references users (id) on delete set null,
    completed_at text,
    created_at text not null,
    updated_at text not null
);
create index work_orders_status on work_orders (status);
create index work_orders_asset_id on work_orders (asset_id);
-- One open work order per alert episode (a poll that sees the same fault again
-- finds it instead of opening another).
create unique index work_orders_open_dedup on work_orders (dedup_key) where status in ('open', 'in_progress');

create table work_order_checks (
    id integer primary key,
    work_order_id integer not null references work_orders (id) on delete cascade,
    position integer not null,
    text text not null,
    done_at text,
    done_by integer references users (id) on delete set null,
    created_at text not null,
    updated_at text not null
);
create index work_order_checks_work_order_id on work_order_checks (work_order_id);

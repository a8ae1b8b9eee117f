-- Build templates (bills of materials with slots), assembly orders that
-- reserve units, assets built from them, and the install history.
create table build_templates (
    id integer primary key,
    name text not null unique,
    asset_kind text not null check (asset_kind in ('server', 'switch', 'storage', 'pdu', 'other')),
    height_u integer not null check (height_u > 0),
    nameplate_watts integer not null check (nameplate_watts >= 0),
    assembly_labour_minor integer not null default 0,
    notes text not null default '',
    created_at text not null,
    updated_at text not null
);

create table template_slots (
    id integer primary key,
    template_id integer not null references build_templates (id) on delete cascade,
    position integer not null,
    slot_name text not null,
    optional integer not null default 0,
    created_at text not null,
    updated_at text not null,
    unique (template_id, slot_name)
);

create table slot_part_models (
    id integer primary key,
    slot_id integer not null references template_slots (id) on delete cascade,
    part_model_id integer not null references part_models (id),
    created_at text not null,
    updated_at text not null,
    unique (slot_id, part_model_id)
);

create table assets (
    id integer primary key,
    asset_tag text not null unique,
    hostname text unique,
    template_id integer references build_templates (id),
    kind text not null,
    status text not null check (status in ('building', 'burn_in', 'racked', 'in_service', 'maintenance', 'decommissioned')),
    assembly_labour_minor integer not null default 0,
    created_at text not null,
    updated_at text not null
);

create table assembly_orders (
    id integer primary key,
    template_id integer not null references build_templates (id),
    asset_tag text not null,
    hostname text,
    status text not null check (status in ('open', 'completed', 'cancelled')),
    asset_id integer references assets (id),
    created_by integer references users (id) on delete set null,
    created_at text not null,
    updated_at text not null
);
create index assembly_orders_status on assembly_orders (status);

create table installations (
    id integer primary key,
    asset_id integer not null references assets (id),
    unit_id integer not null references units (id),
    slot_name text not null,
    installed_at text not null,
    removed_at text,
    removal_reason text,
    created_at text not null,
    updated_at text not null
);
create index installations_asset_id on installations (asset_id);
create index installations_unit_id on installations (unit_id);

alter table units add column assembly_order_id integer references assembly_orders (id);
alter table units add column asset_id integer references assets (id);
alter table units add column slot_name text;
create index units_assembly_order_id on units (assembly_order_id);
create index units_asset_id on units (asset_id);

-- Build templates (bills of materials with slots), assembly orders that
-- reserve units, assets built from them, and the install history.
create table build_templates (
    id bigint generated always as identity primary key,
    name text not null unique,
    asset_kind text not null check (asset_kind in ('server', 'switch', 'storage', 'pdu', 'other')),
    height_u bigint not null check (height_u > 0),
    nameplate_watts bigint not null check (nameplate_watts >= 0),
    assembly_labour_minor bigint not null default 0,
    notes text not null default '',
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table template_slots (
    id bigint generated always as identity primary key,
    template_id bigint not null references build_templates (id) on delete cascade,
    position bigint not null,
    slot_name text not null,
    optional boolean not null default false,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (template_id, slot_name)
);

create table slot_part_models (
    id bigint generated always as identity primary key,
    slot_id bigint not null references template_slots (id) on delete cascade,
    part_model_id bigint not null references part_models (id),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (slot_id, part_model_id)
);

create table assets (
    id bigint generated always as identity primary key,
    asset_tag text not null unique,
    hostname text unique,
    template_id bigint references build_templates (id),
    kind text not null,
    status text not null check (status in ('building', 'burn_in', 'racked', 'in_service', 'maintenance', 'decommissioned')),
    assembly_labour_minor bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table assembly_orders (
    id bigint generated always as identity primary key,
    template_id bigint not null references build_templates (id),
    asset_tag text not null,
    hostname text,
    status text not null check (status in ('open', 'completed', 'cancelled')),
    asset_id bigint references assets (id),
    created_by bigint references users (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index assembly_orders_status on assembly_orders (status);

create table installations (
    id bigint generated always as identity primary key,
    asset_id bigint not null references assets (id),
    unit_id bigint not null references units (id),
    slot_name text not null,
    installed_at timestamptz not null,
    removed_at timestamptz,
    removal_reason text,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index installations_asset_id on installations (asset_id);
create index installations_unit_id on installations (unit_id);

alter table units add column assembly_order_id bigint references assembly_orders (id);
alter table units add column asset_id bigint references assets (id);
alter table units add column slot_name text;
create index units_assembly_order_id on units (assembly_order_id);
create index units_asset_id on units (asset_id);

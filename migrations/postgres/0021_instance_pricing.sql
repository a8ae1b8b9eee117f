-- Instance types, pricing tiers, and competitors' price lists.
create table instance_types (
    id bigint generated always as identity primary key,
    name text not null unique,
    vcpus bigint not null check (vcpus > 0),
    ram_gib bigint not null check (ram_gib > 0),
    disk_gb bigint not null check (disk_gb >= 0),
    included_traffic_gb bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table pricing_tiers (
    id bigint generated always as identity primary key,
    name text not null unique,
    instance_type_id bigint not null references instance_types (id) on delete cascade,
    price_per_day numeric(20, 6) not null,
    included_traffic_gb bigint not null default 0,
    extra_gb_price numeric(20, 6) not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index pricing_tiers_instance_type_id on pricing_tiers (instance_type_id);

create table competitors (
    id bigint generated always as identity primary key,
    name text not null unique,
    currency text not null,
    fx_rate numeric(24, 10) not null,
    egress_per_gb numeric(20, 6) not null,
    free_egress_gb bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table competitor_prices (
    id bigint generated always as identity primary key,
    competitor_id bigint not null references competitors (id) on delete cascade,
    instance_type_id bigint not null references instance_types (id) on delete cascade,
    their_name text not null default '',
    price numeric(20, 6) not null,
    per text not null check (per in ('hour', 'month')),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (competitor_id, instance_type_id)
);

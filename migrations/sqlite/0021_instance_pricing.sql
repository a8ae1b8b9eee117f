-- Instance types, pricing tiers, and competitors' price lists.
create table instance_types (
    id integer primary key,
    name text not null unique,
    vcpus integer not null check (vcpus > 0),
    ram_gib integer not null check (ram_gib > 0),
    disk_gb integer not null check (disk_gb >= 0),
    included_traffic_gb integer not null default 0,
    created_at text not null,
    updated_at text not null
);

create table pricing_tiers (
    id integer primary key,
    name text not null unique,
    instance_type_id integer not null references instance_types (id) on delete cascade,
    price_per_day text not null,
    included_traffic_gb integer not null default 0,
    extra_gb_price text not null,
    created_at text not null,
    updated_at text not null
);
create index pricing_tiers_instance_type_id on pricing_tiers (instance_type_id);

create table competitors (
    id integer primary key,
    name text not null unique,
    currency text not null,
    fx_rate text not null,
    egress_per_gb text not null,
    free_egress_gb integer not null default 0,
    created_at text not null,
    updated_at text not null
);

create table competitor_prices (
    id integer primary key,
    competitor_id integer not null references competitors (id) on delete cascade,
    instance_type_id integer not null references instance_types (id) on delete cascade,
    their_name text not null default '',
    price text not null,
    per text not null check (per in ('hour', 'month')),
    created_at text not null,
    updated_at text not null,
    unique (competitor_id, instance_type_id)
);

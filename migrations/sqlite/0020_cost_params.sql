-- Cost parameters, versioned: a version is in force from its effective day
-- until the next one. Versions are added, never changed, so history is kept.
-- Money is integer won (minor units); rates and ratios are exact decimal text.
create table cost_params (
    id integer primary key,
    effective_from text not null unique,
    depreciation_method text not null check (depreciation_method in ('straight_line', 'declining_balance')),
    vcpus_per_core text not null,
    cpu_overcommit text not null,
    ram_overcommit text not null,
    host_reserved_vcpus text not null,
    host_reserved_ram_gib text not null,
    ceph_replication text not null,
    ceph_target_fill text not null,
    utilisation text not null,
    watts_window_days integer not null default 7,
    note text not null default '',
    created_by integer references users (id) on delete set null,
    created_at text not null,
    updated_at text not null
);

create table cost_param_sites (
    id integer primary key,
    params_id integer not null references cost_params (id) on delete cascade,
    site_id integer not null references sites (id) on delete cascade,
    electricity_per_kwh text not null,
    pue text not null,
    rack_monthly_minor integer not null default 0,
    network_monthly_minor integer not null default 0,
    network_share text not null check (network_share in ('per_asset', 'per_u', 'per_port_speed')),
    traffic_gb_month integer not null default 0,
    created_at text not null,
    updated_at text not null,
    unique (params_id, site_id)
);

create table cost_param_classes (
    id integer primary key,
    params_id integer not null references cost_params (id) on delete cascade,
    asset_kind text not null,
    depreciation_months integer not null check (depreciation_months > 0),
    support_monthly_minor integer not null default 0,
    created_at text not null,
    updated_at text not null,
    unique (params_id, asset_kind)
);

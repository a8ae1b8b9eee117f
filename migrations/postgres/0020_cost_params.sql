-- Cost parameters, versioned: a version is in force from its effective day
-- until the next one. Versions are added, never changed, so history is kept.
-- Money is integer won (minor units); rates and ratios are exact numerics.
create table cost_params (
    id bigint generated always as identity primary key,
    effective_from date not null unique,
    depreciation_method text not null check (depreciation_method in ('straight_line', 'declining_balance')),
    vcpus_per_core numeric(20, 6) not null,
    cpu_overcommit numeric(20, 6) not null,
    ram_overcommit numeric(20, 6) not null,
    host_reserved_vcpus numeric(20, 6) not null,
    host_reserved_ram_gib numeric(20, 6) not null,
    ceph_replication numeric(20, 6) not null,
    ceph_target_fill numeric(20, 6) not null,
    utilisation numeric(20, 6) not null,
    watts_window_days bigint not null default 7,
    note text not null default '',
    created_by bigint references users (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table cost_param_sites (
    id bigint generated always as identity primary key,
    params_id bigint not null references cost_params (id) on delete cascade,
    site_id bigint not null references sites (id) on delete cascade,
    electricity_per_kwh numeric(20, 6) not null,
    pue numeric(20, 6) not null,
    rack_monthly_minor bigint not null default 0,
    network_monthly_minor bigint not null default 0,
    network_share text not null check (network_share in ('per_asset', 'per_u', 'per_port_speed')),
    traffic_gb_month bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (params_id, site_id)
);

create table cost_param_classes (
    id bigint generated always as identity primary key,
    params_id bigint not null references cost_params (id) on delete cascade,
    asset_kind text not null,
    depreciation_months bigint not null check (depreciation_months > 0),
    support_monthly_minor bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (params_id, asset_kind)
);

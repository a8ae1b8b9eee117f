-- Latest health per asset (the collected facts as JSON), state changes as
-- events, and alerts: one row per component episode (open_key = dedup_key
-- while open, null once resolved, so one open alert per component).
create table health_latest (
    asset_id integer primary key references assets (id) on delete cascade,
    polled_at text not null,
    power_state text,
    health text,
    health_rollup text,
    worst text not null,
    power_watts integer,
    max_temp_c real,
    snapshot text not null,
    created_at text not null,
    updated_at text not null
);

create table health_events (
    id integer primary key,
    asset_id integer not null references assets (id) on delete cascade,
    at text not null,
    kind text not null,
    component text not null default '',
    from_value text,
    to_value text,
    created_at text not null,
    updated_at text not null
);
create index health_events_asset_at on health_events (asset_id, at);

create table health_alerts (
    id integer primary key,
    asset_id integer not null references assets (id) on delete cascade,
    dedup_key text not null,
    component_kind text not null,
    component text not null,
    slot text,
    serial text,
    model text,
    severity text not null check (severity in ('warning', 'critical')),
    opened_at text not null,
    last_seen_at text not null,
    resolved_at text,
    work_order_id integer,
    open_key text,
    created_at text not null,
    updated_at text not null,
    unique (asset_id, open_key)
);
create index health_alerts_asset on health_alerts (asset_id);

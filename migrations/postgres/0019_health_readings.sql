-- Readings over time per asset: raw samples for recent days, hourly averages
-- beyond (see health::history).
create table health_readings (
    id bigint generated always as identity primary key,
    asset_id bigint not null references assets (id) on delete cascade,
    at timestamptz not null,
    resolution text not null check (resolution in ('raw', 'hour')),
    samples bigint not null default 1,
    power_watts bigint,
    inlet_temp_c double precision,
    max_temp_c double precision,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index health_readings_asset_at on health_readings (asset_id, at);

-- Readings over time per asset: raw samples for recent days, hourly averages
-- beyond (see health::history).
create table health_readings (
    id integer primary key,
    asset_id integer not null references assets (id) on delete cascade,
    at text not null,
    resolution text not null check (resolution in ('raw', 'hour')),
    samples integer not null default 1,
    power_watts integer,
    inlet_temp_c real,
    max_temp_c real,
    created_at text not null,
    updated_at text not null
);
create index health_readings_asset_at on health_readings (asset_id, at);

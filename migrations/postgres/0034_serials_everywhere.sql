-- Every serial the product stores matches in any case of its ASCII letters,
-- as units' serials do since 0026, and the search box finds each of them
-- through an index on the lowered serial (no full scan of millions of rows).
-- On PostgreSQL the columns are collate "C", so lower() folds ASCII only,
-- as SQLite's does, whatever the database's locale.

-- The chassis serial an asset was registered with (NetBox import).
alter table assets alter column serial type text collate "C";
create index assets_lower_serial on assets (lower(serial));

-- The serial of an alerting component (matched with units in the alert list).
alter table health_alerts alter column serial type text collate "C";

-- The serials a BMC last reported for its asset: the system, the chassis and
-- every component with one (health::serials keeps it in step with the
-- latest snapshot), so a serial only a BMC knows can be searched.
create table bmc_serials (
    id bigint generated always as identity primary key,
    asset_id bigint not null references assets (id) on delete cascade,
    kind text not null,
    slot text not null,
    serial text collate "C" not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index bmc_serials_asset on bmc_serials (asset_id);
create index bmc_serials_lower_serial on bmc_serials (lower(serial));

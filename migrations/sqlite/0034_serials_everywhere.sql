-- Every serial the product stores matches in any case of its ASCII letters,
-- as units' serials do since 0026, and the search box finds each of them
-- through an index on the lowered serial (no full scan of millions of rows).
-- On PostgreSQL the columns are collate "C", so lower() folds ASCII only,
-- as SQLite's does, whatever the database's locale.

-- The chassis serial an asset was registered with (NetBox import).
create index assets_lower_serial on assets (lower(serial));

-- The serials a BMC last reported for its asset: the system, the chassis and
-- every component with one (health::serials keeps it in step with the
-- latest snapshot), so a serial only a BMC knows can be searched.
create table bmc_serials (
    id integer primary key,
    asset_id integer not null references assets (id) on delete cascade,
    kind text not null,
    slot text not null,
    serial text not null,
    created_at text not null,
    updated_at text not null
);
create index bmc_serials_asset on bmc_serials (asset_id);
create index bmc_serials_lower_serial on bmc_serials (lower(serial));

-- One row the health probe updates to learn whether the database can still write.
create table write_probes (
    id bigint primary key,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

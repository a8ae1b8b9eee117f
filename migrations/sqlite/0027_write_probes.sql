-- One row the health probe updates to learn whether the database can still write.
create table write_probes (
    id integer primary key,
    created_at text not null,
    updated_at text not null
);

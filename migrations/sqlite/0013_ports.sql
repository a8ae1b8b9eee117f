-- Network ports of assets (from their template) and the cables between them.
-- Each cable end is a row, and a port has at most one: the database enforces it.
alter table build_templates add column ports text not null default '';

create table ports (
    id integer primary key,
    asset_id integer not null references assets (id) on delete cascade,
    name text not null,
    speed text not null default '',
    created_at text not null,
    updated_at text not null,
    unique (asset_id, name)
);

create table cables (
    id integer primary key,
    label text not null default '',
    created_at text not null,
    updated_at text not null
);

create table cable_ends (
    id integer primary key,
    cable_id integer not null references cables (id) on delete cascade,
    port_id integer not null unique references ports (id) on delete cascade,
    created_at text not null,
    updated_at text not null
);
create index cable_ends_cable_id on cable_ends (cable_id);

-- Sites, rooms, rows and racks, and where each asset sits in a rack.
create table sites (
    id integer primary key,
    name text not null unique,
    created_at text not null,
    updated_at text not null
);

create table rooms (
    id integer primary key,
    site_id integer not null references sites (id) on delete cascade,
    name text not null,
    created_at text not null,
    updated_at text not null,
    unique (site_id, name)
);

create table rack_rows (
    id integer primary key,
    room_id integer not null references rooms (id) on delete cascade,
    name text not null,
    created_at text not null,
    updated_at text not null,
    unique (room_id, name)
);

create table racks (
    id integer primary key,
    row_id integer not null references rack_rows (id) on delete cascade,
    name text not null,
    height_u integer not null check (height_u between 1 and 60),
    power_budget_watts integer not null default 0,
    monthly_cost_minor integer not null default 0,
    numbering text not null default 'bottom_up' check (numbering in ('bottom_up', 'top_down')),
    created_at text not null,
    updated_at text not null,
    unique (row_id, name)
);

create table placements (
    id integer primary key,
    asset_id integer not null unique references assets (id) on delete cascade,
    rack_id integer not null references racks (id),
    u_position integer not null check (u_position >= 1),
    height_u integer not null check (height_u >= 1),
    face text not null check (face in ('front', 'rear')),
    depth text not null check (depth in ('full', 'half')),
    created_at text not null,
    updated_at text not null
);
create index placements_rack_id on placements (rack_id);

-- Sites, rooms, rows and racks, and where each asset sits in a rack.
create table sites (
    id bigint generated always as identity primary key,
    name text not null unique,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table rooms (
    id bigint generated always as identity primary key,
    site_id bigint not null references sites (id) on delete cascade,
    name text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (site_id, name)
);

create table rack_rows (
    id bigint generated always as identity primary key,
    room_id bigint not null references rooms (id) on delete cascade,
    name text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (room_id, name)
);

create table racks (
    id bigint generated always as identity primary key,
    row_id bigint not null references rack_rows (id) on delete cascade,
    name text not null,
    height_u bigint not null check (height_u between 1 and 60),
    power_budget_watts bigint not null default 0,
    monthly_cost_minor bigint not null default 0,
    numbering text not null default 'bottom_up' check (numbering in ('bottom_up', 'top_down')),
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (row_id, name)
);

create table placements (
    id bigint generated always as identity primary key,
    asset_id bigint not null unique references assets (id) on delete cascade,
    rack_id bigint not null references racks (id),
    u_position bigint not null check (u_position >= 1),
    height_u bigint not null check (height_u >= 1),
    face text not null check (face in ('front', 'rear')),
    depth text not null check (depth in ('full', 'half')),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index placements_rack_id on placements (rack_id);

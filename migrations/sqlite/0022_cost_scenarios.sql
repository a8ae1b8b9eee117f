-- Named what-if scenarios: overrides as JSON, applied in memory only.
create table cost_scenarios (
    id integer primary key,
    name text not null unique,
    overrides text not null,
    created_by integer references users (id) on delete set null,
    created_at text not null,
    updated_at text not null
);

-- Named what-if scenarios: overrides as JSON, applied in memory only.
create table cost_scenarios (
    id bigint generated always as identity primary key,
    name text not null unique,
    overrides text not null,
    created_by bigint references users (id) on delete set null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

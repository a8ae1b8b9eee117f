-- Suppliers and the part catalogue (the start of procurement).
create table suppliers (
    id bigint generated always as identity primary key,
    name text not null unique,
    country text not null,
    currency text not null,
    lead_time_days integer not null default 0,
    payment_terms text not null default '',
    contact text not null default '',
    notes text not null default '',
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table part_models (
    id bigint generated always as identity primary key,
    manufacturer text not null,
    mpn text not null,
    category text not null,
    description text not null default '',
    serial_tracked boolean not null,
    last_price numeric(20, 6),
    last_price_currency text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (manufacturer, mpn)
);
create index part_models_category on part_models (category);

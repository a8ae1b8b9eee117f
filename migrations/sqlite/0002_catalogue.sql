-- Suppliers and the part catalogue (the start of procurement).
create table suppliers (
    id integer primary key,
    name text not null unique,
    country text not null,
    currency text not null,
    lead_time_days integer not null default 0,
    payment_terms text not null default '',
    contact text not null default '',
    notes text not null default '',
    created_at text not null,
    updated_at text not null
);

create table part_models (
    id integer primary key,
    manufacturer text not null,
    mpn text not null,
    category text not null,
    description text not null default '',
    serial_tracked integer not null,
    last_price text,
    last_price_currency text,
    created_at text not null,
    updated_at text not null,
    unique (manufacturer, mpn)
);
create index part_models_category on part_models (category);

-- BMCs (Redfish endpoints) of assets: where, how to log in (password encrypted
-- at rest), which TLS policy, and the poller's schedule and lease.
create table bmcs (
    id integer primary key,
    asset_id integer not null unique references assets (id) on delete cascade,
    url text not null,
    username text not null default '',
    password_key_id text,
    password_nonce text,
    password_ciphertext text,
    tls_policy text not null check (tls_policy in ('verify', 'pinned', 'insecure')),
    ca_cert_pem text,
    enabled integer not null default 1,
    next_poll_at text not null,
    leased_by text,
    leased_until text,
    consecutive_failures integer not null default 0,
    last_polled_at text,
    last_success_at text,
    last_error text,
    failing_since text,
    created_at text not null,
    updated_at text not null
);
create index bmcs_next_poll_at on bmcs (next_poll_at);

-- BMCs (Redfish endpoints) of assets: where, how to log in (password encrypted
-- at rest), which TLS policy, and the poller's schedule and lease.
create table bmcs (
    id bigint generated always as identity primary key,
    asset_id bigint not null unique references assets (id) on delete cascade,
    url text not null,
    username text not null default '',
    password_key_id text,
    password_nonce text,
    password_ciphertext text,
    tls_policy text not null check (tls_policy in ('verify', 'pinned', 'insecure')),
    ca_cert_pem text,
    enabled boolean not null default true,
    next_poll_at timestamptz not null,
    leased_by text,
    leased_until timestamptz,
    consecutive_failures bigint not null default 0,
    last_polled_at timestamptz,
    last_success_at timestamptz,
    last_error text,
    failing_since timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index bmcs_next_poll_at on bmcs (next_poll_at);

-- Accounts, sessions, API tokens, login attempts and the audit log.
create table users (
    id integer primary key,
    username text not null unique,
    display_name text not null,
    password_hash text not null,
    role text not null check (role in ('admin', 'procurement', 'technician', 'manager', 'viewer')),
    disabled integer not null default 0,
    lang text check (lang in ('en', 'ko')),
    time_zone text not null default 'Asia/Seoul',
    created_at text not null,
    updated_at text not null
);

create table sessions (
    id text primary key,
    user_id integer not null references users (id) on delete cascade,
    csrf_token text not null,
    expires_at text not null,
    created_at text not null,
    updated_at text not null
);
create index sessions_user_id on sessions (user_id);

create table api_tokens (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    name text not null,
    token_hash text not null unique,
    token_prefix text not null,
    last_used_at text,
    revoked_at text,
    created_at text not null,
    updated_at text not null
);
create index api_tokens_user_id on api_tokens (user_id);

create table login_attempts (
    id integer primary key,
    username text not null,
    remote_addr text not null,
    succeeded integer not null,
    created_at text not null,
    updated_at text not null
);
create index login_attempts_username on login_attempts (username, created_at);
create index login_attempts_remote_addr on login_attempts (remote_addr, created_at);

create table audit_log (
    id integer primary key,
    user_id integer references users (id) on delete set null,
    actor text not null,
    action text not null check (action in ('create', 'update', 'delete')),
    entity text not null,
    entity_id text not null,
    before_json text,
    after_json text,
    created_at text not null,
    updated_at text not null
);
create index audit_log_entity on audit_log (entity, entity_id);
create index audit_log_user_id on audit_log (user_id);
create index audit_log_created_at on audit_log (created_at);

-- Login back-off (auth::throttle) replaces the attempt log and its counts:
-- one row per user name and client address (scope 'user') and one per client
-- address (scope 'address', user name ''). An attempt is claimed on its row in
-- one statement before the password is checked; see docs/architecture.md.
create table login_throttles (
    id integer primary key,
    scope text not null check (scope in ('user', 'address')),
    username text not null,
    remote_addr text not null,
    failures integer not null,
    next_attempt_at text not null,
    created_at text not null,
    updated_at text not null
);
create unique index login_throttles_key on login_throttles (scope, username, remote_addr);
create index login_throttles_next_attempt_at on login_throttles (next_attempt_at);
drop table login_attempts;

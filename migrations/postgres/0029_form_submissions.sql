-- One row per form sent (auth::submissions): the `_once` token each rendered
-- form carries is claimed before the handler runs, so a form sent twice
-- (a double click, a retry after a timeout) is recorded once and the second
-- answer is the first one's redirect. An API call sent with an
-- `Idempotency-Key` header is kept the same way (token `key:<user>:<key>`), with
-- its status and JSON answer, which a retry gets back.
create table form_submissions (
    token text primary key,
    user_id bigint not null,
    state text not null check (state in ('running', 'done')),
    location text,
    status bigint,
    body text,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index form_submissions_created_at on form_submissions (created_at);

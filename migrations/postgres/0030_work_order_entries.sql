-- A work order's log of what happened to it after it was opened
-- (workorders::entries): the BMC reporting the failed part healthy again, or
-- failing again while the work order is open. The text is a message key with
-- its arguments (JSON), shown in the reader's language.
create table work_order_entries (
    id bigint generated always as identity primary key,
    work_order_id bigint not null references work_orders (id) on delete cascade,
    kind text not null check (kind in ('healthy_again', 'gone', 'failed_again')),
    message text not null,
    alert_id bigint references health_alerts (id) on delete set null,
    at timestamptz not null,
    created_at timestamptz not null
);
create index work_order_entries_work_order_id on work_order_entries (work_order_id, at);

-- How a done work order ended: null when its changes were applied, or
-- 'no_fault_found' when it was closed without a swap (the BMC reported the
-- part healthy again).
alter table work_orders add column outcome text check (outcome in ('no_fault_found'));

-- Alerts still waiting for their work order: the poller looks for them after
-- every batch of polls that raised one, and without this index read every
-- alert ever raised each time (the poll benchmark: 2,000 first polls).
create index health_alerts_awaiting_work_order on health_alerts (opened_at, id)
    where resolved_at is null and work_order_id is null;

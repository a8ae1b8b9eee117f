-- A user's home site: the technician's home shows alerts, unassigned work
-- orders and audits at this site. Null = fleet-wide (with a hint to choose).
alter table users add column home_site_id integer references sites (id) on delete set null;

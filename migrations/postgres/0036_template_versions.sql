-- Build templates are versioned: an edit saves a new version (a new row of
-- the same family) and marks the old one superseded, so assets and assembly
-- orders keep the version they were built from.
alter table build_templates add column family_id bigint references build_templates (id);
alter table build_templates add column version bigint not null default 1;
alter table build_templates add column superseded_at timestamptz;
update build_templates set family_id = id;
create index build_templates_family_id on build_templates (family_id);

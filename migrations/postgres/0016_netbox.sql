-- NetBox import: a build template's manufacturer (a NetBox device type is a
-- manufacturer and a model), and the serial of an asset registered as it
-- stands (imported, not assembled here from received units).
alter table build_templates add column manufacturer text not null default '';
alter table assets add column serial text;

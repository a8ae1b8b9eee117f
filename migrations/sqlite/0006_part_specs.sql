-- Typed key specs of part models (which ones apply depends on the category).
alter table part_models add column cores integer;
alter table part_models add column memory_gib integer;
alter table part_models add column capacity_gb integer;
alter table part_models add column power_watts integer;
alter table part_models add column speed text;
alter table part_models add column form_factor text;

-- Usable U of a rack: patch panels, PDUs and cable managers take space, so the
-- rack's cost is shared over the U that can hold equipment. Null = full height.
-- The service keeps it within 1..=height_u.
alter table racks add column usable_u bigint check (usable_u is null or usable_u >= 1);

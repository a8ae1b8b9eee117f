-- Case-insensitive MPN lookups (imports match part numbers regardless of case).
create index part_models_mpn_lower on part_models (lower(mpn));

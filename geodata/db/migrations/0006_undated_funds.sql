-- A fund may be undated (schema.UNDATED_KINDS): the fixed rule of 0001 allowed
-- only organisations. The rule is now generated from the schema by
-- geodata.db.migrate.generated_checks (constraint year_unless_undated_kind).
ALTER TABLE records DROP CONSTRAINT IF EXISTS year_unless_organisation;

-- How a record's point was obtained (schema field location_basis, added with the
-- content of 2026-12: "address in source", "cpca 0.5.5 centroid of 绵阳市" ...).
ALTER TABLE records ADD COLUMN location_basis text;
-- The organisations view lists the records' columns as they were when it was made.
CREATE OR REPLACE VIEW organisations WITH (security_barrier, security_invoker) AS
    SELECT * FROM records WHERE kind = 'organisation';

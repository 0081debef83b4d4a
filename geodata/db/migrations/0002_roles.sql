-- CMF Atlas team store, migration 0002: the cluster's roles (also run by `db restore`
-- before restoring, since roles live outside any one database's dump).
-- Group roles (no login): viewer < editor < reviewer < admin, each a member of the
-- one before it. The dashboard connects as cmf_app (NOINHERIT: it has no data
-- rights of its own) and, after a sign-in, runs SET ROLE to the account's role.
-- Roles are per cluster, so they are created only when missing.

DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cmf_viewer', 'cmf_editor', 'cmf_reviewer', 'cmf_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cmf_app') THEN
        CREATE ROLE cmf_app NOLOGIN NOINHERIT;
    END IF;
END $$;
GRANT cmf_viewer TO cmf_editor;
GRANT cmf_editor TO cmf_reviewer;
GRANT cmf_reviewer TO cmf_admin;
GRANT cmf_viewer, cmf_editor, cmf_reviewer, cmf_admin TO cmf_app;


-- CMF Atlas team store, migration 0003: who may do what, enforced by the database
-- (grants and row-level security for the roles of 0002).

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO cmf_viewer, cmf_app;

-- Viewers read; the vocabularies and file headers are read-only for everyone.
GRANT SELECT ON vocab_kind, vocab_category, vocab_status, vocab_domain, vocab_province,
    vocab_location_precision, vocab_date_type, vocab_sponsor_level, vocab_confidence,
    vocab_source_type, vocab_link_type, vocab_designation_list, vocab_designation_relation,
    vocab_match_basis, vocab_review_outcome, vocab_link_end, dataset_files,
    records, organisations, links, sources, designations TO cmf_viewer;
-- Editors write records, links and sources, and append to history; nobody deletes a record.
GRANT INSERT, UPDATE ON records, links, sources, designations TO cmf_editor;
GRANT DELETE ON sources TO cmf_editor;
GRANT SELECT, INSERT ON history TO cmf_editor;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO cmf_editor;
-- Reviewers may also remove links and designations.
GRANT DELETE ON links, designations TO cmf_reviewer;
-- Admins manage accounts and read the sign-in log.
GRANT SELECT, INSERT, UPDATE ON accounts TO cmf_admin;
GRANT SELECT ON sign_in_attempts TO cmf_admin;
-- The app itself only checks passwords and logs attempts (before any SET ROLE).
GRANT SELECT ON accounts TO cmf_app;
GRANT SELECT, INSERT ON sign_in_attempts TO cmf_app;
GRANT USAGE ON SEQUENCE sign_in_attempts_id_seq TO cmf_app;

-- Row-level security: viewers see published, unretired records and what hangs
-- off them; editors see everything; an editor's write is always a draft.
ALTER TABLE records ENABLE ROW LEVEL SECURITY;
CREATE POLICY viewer_reads_published ON records FOR SELECT TO cmf_viewer
    USING (review_status = 'published' AND retired_at IS NULL);
CREATE POLICY editor_reads_all ON records FOR SELECT TO cmf_editor USING (true);
CREATE POLICY editor_inserts_drafts ON records FOR INSERT TO cmf_editor
    WITH CHECK (review_status = 'draft');
CREATE POLICY editor_updates_to_drafts ON records FOR UPDATE TO cmf_editor
    USING (true) WITH CHECK (review_status = 'draft');
CREATE POLICY reviewer_inserts ON records FOR INSERT TO cmf_reviewer WITH CHECK (true);
CREATE POLICY reviewer_updates ON records FOR UPDATE TO cmf_reviewer
    USING (true) WITH CHECK (true);

-- A link, source or designation is visible when the records it names are
-- (the sub-selects run under the reader's own policies).
ALTER TABLE links ENABLE ROW LEVEL SECURITY;
CREATE POLICY viewer_reads_visible ON links FOR SELECT TO cmf_viewer USING (
    EXISTS (SELECT 1 FROM records r WHERE r.id = from_id)
    AND EXISTS (SELECT 1 FROM records r WHERE r.id = to_id));
CREATE POLICY editor_all ON links FOR ALL TO cmf_editor USING (true) WITH CHECK (true);

ALTER TABLE sources ENABLE ROW LEVEL SECURITY;
CREATE POLICY viewer_reads_visible ON sources FOR SELECT TO cmf_viewer USING (
    (record_id IS NULL OR EXISTS (SELECT 1 FROM records r WHERE r.id = record_id))
    AND (link_id IS NULL OR EXISTS (SELECT 1 FROM links l WHERE l.id = link_id)));
CREATE POLICY editor_all ON sources FOR ALL TO cmf_editor USING (true) WITH CHECK (true);

ALTER TABLE designations ENABLE ROW LEVEL SECURITY;
CREATE POLICY viewer_reads_visible ON designations FOR SELECT TO cmf_viewer USING (
    EXISTS (SELECT 1 FROM records r WHERE r.id = record));
CREATE POLICY editor_all ON designations FOR ALL TO cmf_editor USING (true) WITH CHECK (true);

-- CMF Atlas team store, migration 0005: viewers read what a reviewer approved.
--
-- Before this, editing a published record turned its only row into a draft and
-- hid it from viewers until a reviewer approved the edit. Now each approved
-- record has a snapshot here (its YAML document, sources included, keys in the
-- written order) taken at approval; `records` is the working copy that editors
-- change. Viewers read the snapshots only; editors and reviewers read both.
-- geodata.db.published fills the table (import, publish, and a backfill of the
-- records already published when this migration runs).

CREATE TABLE published_records (
    id text PRIMARY KEY REFERENCES records,
    -- records.version that was approved
    version integer NOT NULL CHECK (version >= 1),
    kind text NOT NULL REFERENCES vocab_kind,
    -- json (not jsonb) keeps the keys in their written order, numbers as written.
    doc json NOT NULL,
    dataset_file text NOT NULL REFERENCES dataset_files,
    file_position integer NOT NULL,
    geom geometry(Point, 4326) GENERATED ALWAYS AS (
        CASE WHEN doc->>'lat' IS NULL OR doc->>'lon' IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint((doc->>'lon')::float8, (doc->>'lat')::float8), 4326)
        END) STORED,
    published_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_by text NOT NULL,
    CONSTRAINT doc_is_the_record CHECK (doc->>'id' = id AND doc->>'kind' = kind)
);
CREATE INDEX published_records_geom_gist ON published_records USING gist (geom);

-- Links are changes too: an editor's new link is a draft until its record is approved.
-- A reviewer may also discard a draft ('discard': back to the approved version).
ALTER TABLE links ADD COLUMN review_status text NOT NULL DEFAULT 'published'
    CHECK (review_status IN ('draft', 'published'));
ALTER TABLE history DROP CONSTRAINT history_action_check;
ALTER TABLE history ADD CONSTRAINT history_action_check
    CHECK (action IN ('create', 'edit', 'retire', 'publish', 'revert', 'link', 'discard'));
ALTER TABLE history DROP CONSTRAINT change_has_source;
ALTER TABLE history ADD CONSTRAINT change_has_source CHECK (
    action NOT IN ('create', 'edit', 'retire', 'link') OR source IS NOT NULL);

-- Viewers no longer read the working rows (a draft's text is not theirs to see).
DROP POLICY viewer_reads_published ON records;
REVOKE SELECT ON records, organisations FROM cmf_viewer;
GRANT SELECT ON records, organisations TO cmf_editor;
GRANT SELECT ON published_records TO cmf_viewer;
-- Publishing (reviewers) writes the snapshots; nobody else does.
GRANT INSERT, UPDATE, DELETE ON published_records TO cmf_reviewer;

DROP POLICY viewer_reads_visible ON links;
CREATE POLICY viewer_reads_published ON links FOR SELECT TO cmf_viewer USING (
    review_status = 'published'
    AND EXISTS (SELECT 1 FROM published_records p WHERE p.id = from_id)
    AND EXISTS (SELECT 1 FROM published_records p WHERE p.id = to_id));
DROP POLICY editor_all ON links;
CREATE POLICY editor_reads_links ON links FOR SELECT TO cmf_editor USING (true);
CREATE POLICY editor_adds_draft_links ON links FOR INSERT TO cmf_editor
    WITH CHECK (review_status = 'draft');
CREATE POLICY reviewer_all ON links FOR ALL TO cmf_reviewer USING (true) WITH CHECK (true);

-- A record's sources are in its snapshot; viewers read the sources of visible links.
DROP POLICY viewer_reads_visible ON sources;
CREATE POLICY viewer_reads_link_sources ON sources FOR SELECT TO cmf_viewer USING (
    record_id IS NULL AND EXISTS (SELECT 1 FROM links l WHERE l.id = link_id));

DROP POLICY viewer_reads_visible ON designations;
CREATE POLICY viewer_reads_published ON designations FOR SELECT TO cmf_viewer USING (
    EXISTS (SELECT 1 FROM published_records p WHERE p.id = record));

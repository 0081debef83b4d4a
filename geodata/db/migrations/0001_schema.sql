-- CMF Atlas team store, migration 0001: the tables.
-- Vocabulary tables are created empty here; geodata.db.migrate fills them from
-- geodata/model/schema.py after every migration run (declared once, in Python).

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE vocab_kind (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_category (
    kind text NOT NULL REFERENCES vocab_kind, key text NOT NULL, label text NOT NULL,
    PRIMARY KEY (kind, key));
-- for_zones: zone statuses are only for zones, the others only for the other kinds.
CREATE TABLE vocab_status (
    key text PRIMARY KEY, label text NOT NULL, for_zones boolean NOT NULL,
    UNIQUE (key, for_zones));
CREATE TABLE vocab_domain (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_province (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_location_precision (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_date_type (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_sponsor_level (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_confidence (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_source_type (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_link_type (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_designation_list (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_designation_relation (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_match_basis (key text PRIMARY KEY, label text NOT NULL);
CREATE TABLE vocab_review_outcome (key text PRIMARY KEY, label text NOT NULL);
-- Which kinds may stand at each end of a link type (geodata.model.relations.LINK_ENDS);
-- no row for a (type, end) means any kind.
CREATE TABLE vocab_link_end (
    type text NOT NULL REFERENCES vocab_link_type,
    end_name text NOT NULL CHECK (end_name IN ('from', 'to')),
    kind text NOT NULL REFERENCES vocab_kind,
    PRIMARY KEY (type, end_name, kind));

-- The YAML files the records came from, with their comment headers, so an
-- export writes them back unchanged.
CREATE TABLE dataset_files (
    name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]*\.yaml$'),
    content text NOT NULL CHECK (content IN ('records', 'links', 'designations')),
    header text NOT NULL DEFAULT '');

CREATE TABLE records (
    id text PRIMARY KEY,
    kind text NOT NULL REFERENCES vocab_kind,
    category text NOT NULL,
    name_en text NOT NULL CHECK (btrim(name_en) <> ''),
    name_zh text NOT NULL CHECK (btrim(name_zh) <> ''),
    aliases text[] NOT NULL DEFAULT '{}',
    name_en_ours boolean NOT NULL DEFAULT false,
    province text REFERENCES vocab_province,
    city text,
    -- numeric keeps the written form (30 stays 30, 23.0215 stays 23.0215).
    lat numeric CHECK (lat BETWEEN -90 AND 90),
    lon numeric CHECK (lon BETWEEN -180 AND 180),
    geom geometry(Point, 4326) GENERATED ALWAYS AS (
        CASE WHEN lat IS NULL OR lon IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint(lon::float8, lat::float8), 4326) END) STORED,
    location_precision text REFERENCES vocab_location_precision,
    unplaced_reason text,
    year integer,
    year_basis text REFERENCES vocab_date_type,
    -- json (not jsonb) keeps each event's keys in their written order.
    dates json NOT NULL DEFAULT '[]',
    date_as_published text,
    fund_size_rmb_bn numeric CHECK (fund_size_rmb_bn > 0),
    fund_size_as_published text,
    region_as_published text,
    domains text[] NOT NULL CHECK (cardinality(domains) >= 1),
    status text,
    status_for_zones boolean GENERATED ALWAYS AS (kind = 'zone') STORED,
    sponsor_level text REFERENCES vocab_sponsor_level,
    confidence text REFERENCES vocab_confidence,
    confidence_reason text,
    address text,
    supervising_agencies text[] NOT NULL DEFAULT '{}',
    research_topics text[] NOT NULL DEFAULT '{}',
    laboratories text[] NOT NULL DEFAULT '{}',
    org_tags text[] NOT NULL DEFAULT '{}',
    subsidiaries_as_published text[] NOT NULL DEFAULT '{}',
    description text NOT NULL CHECK (char_length(btrim(description)) >= 20),
    notes text,
    -- The team store's own columns.
    review_status text NOT NULL DEFAULT 'draft'
        CHECK (review_status IN ('draft', 'published')),
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    retired_at timestamptz,
    retired_by text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT current_user,
    dataset_file text NOT NULL REFERENCES dataset_files,
    file_position integer NOT NULL,
    field_order text[] NOT NULL,
    FOREIGN KEY (kind, category) REFERENCES vocab_category (kind, key),
    FOREIGN KEY (status, status_for_zones) REFERENCES vocab_status (key, for_zones),
    CONSTRAINT zone_has_status CHECK (kind <> 'zone' OR status IS NOT NULL),
    CONSTRAINT lat_lon_together CHECK ((lat IS NULL) = (lon IS NULL)),
    CONSTRAINT placed_has_place CHECK (
        lat IS NULL OR (province IS NOT NULL AND location_precision IS NOT NULL
                        AND unplaced_reason IS NULL)),
    CONSTRAINT only_organisations_unplaced CHECK (
        lat IS NOT NULL OR (kind = 'organisation' AND unplaced_reason IS NOT NULL)),
    CONSTRAINT year_unless_organisation CHECK (kind = 'organisation' OR year IS NOT NULL),
    CONSTRAINT organisation_only_fields CHECK (
        kind = 'organisation' OR (
            supervising_agencies = '{}' AND research_topics = '{}' AND laboratories = '{}'
            AND org_tags = '{}' AND subsidiaries_as_published = '{}'
            AND unplaced_reason IS NULL AND address IS NULL)),
    CONSTRAINT reason_needs_confidence CHECK (confidence_reason IS NULL OR confidence IS NOT NULL),
    CONSTRAINT fund_size_only_funds CHECK (kind = 'fund' OR fund_size_rmb_bn IS NULL),
    CONSTRAINT year_basis_needs_year CHECK (year_basis IS NULL OR year IS NOT NULL),
    CONSTRAINT retired_together CHECK ((retired_at IS NULL) = (retired_by IS NULL)),
    UNIQUE (dataset_file, file_position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX records_geom_gist ON records USING gist (geom);
CREATE INDEX records_kind ON records (kind);

-- Organisations are records of kind organisation.
CREATE VIEW organisations WITH (security_barrier, security_invoker) AS
    SELECT * FROM records WHERE kind = 'organisation';

CREATE TABLE links (
    id bigserial PRIMARY KEY,
    from_id text NOT NULL REFERENCES records,
    to_id text NOT NULL REFERENCES records,
    type text NOT NULL REFERENCES vocab_link_type,
    dates json NOT NULL DEFAULT '[]',
    notes text,
    dataset_file text NOT NULL REFERENCES dataset_files,
    file_position integer NOT NULL,
    field_order text[] NOT NULL,
    CONSTRAINT not_a_loop CHECK (from_id <> to_id),
    UNIQUE (from_id, to_id, type),
    UNIQUE (dataset_file, file_position) DEFERRABLE INITIALLY DEFERRED
);

-- A source cited by a record or by a link, in its written order (position).
CREATE TABLE sources (
    id bigserial PRIMARY KEY,
    record_id text REFERENCES records,
    link_id bigint REFERENCES links ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 0),
    publisher text NOT NULL CHECK (btrim(publisher) <> ''),
    title text NOT NULL CHECK (btrim(title) <> ''),
    date text CHECK (date ~ '^\d{4}(-\d{2}(-\d{2})?)?$'),
    url text CHECK (url ~ '^https?://[^\s<>"'']+$'),
    via text,
    accessed date CHECK (accessed <= current_date),
    locator text,
    type text REFERENCES vocab_source_type,
    field_order text[] NOT NULL,
    CONSTRAINT one_owner CHECK (num_nonnulls(record_id, link_id) = 1),
    UNIQUE (record_id, position),
    UNIQUE (link_id, position)
);

CREATE TABLE designations (
    id bigserial PRIMARY KEY,
    record text NOT NULL REFERENCES records,
    list text NOT NULL REFERENCES vocab_designation_list,
    entry_name text NOT NULL CHECK (btrim(entry_name) <> ''),
    relation text NOT NULL REFERENCES vocab_designation_relation,
    listed_parent text REFERENCES records,
    date_added text CHECK (date_added ~ '^\d{4}(-\d{2}(-\d{2})?)?$'),
    date_removed text CHECK (date_removed ~ '^\d{4}(-\d{2}(-\d{2})?)?$'),
    basis text NOT NULL REFERENCES vocab_match_basis,
    review text NOT NULL REFERENCES vocab_review_outcome,
    review_note text NOT NULL CHECK (btrim(review_note) <> ''),
    dataset_file text NOT NULL REFERENCES dataset_files,
    file_position integer NOT NULL,
    field_order text[] NOT NULL,
    CONSTRAINT parent_only_for_subsidiaries CHECK (
        (relation = 'subsidiary_of_listed') = (listed_parent IS NOT NULL)),
    UNIQUE (record, list, entry_name),
    UNIQUE (dataset_file, file_position) DEFERRABLE INITIALLY DEFERRED
);

-- Rules a CHECK cannot state (they read other tables): vocabulary members in
-- arrays and JSON, link ends, designations on organisations only.
CREATE FUNCTION check_record_vocab() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad text;
BEGIN
    SELECT d INTO bad FROM unnest(NEW.domains) d
        WHERE d NOT IN (SELECT key FROM vocab_domain) LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'record %: unknown domain %', NEW.id, bad USING ERRCODE = '23514';
    END IF;
    IF cardinality(NEW.domains) <> (SELECT count(DISTINCT d) FROM unnest(NEW.domains) d) THEN
        RAISE EXCEPTION 'record %: domains repeat', NEW.id USING ERRCODE = '23514';
    END IF;
    SELECT e->>'type' INTO bad FROM json_array_elements(NEW.dates) e
        WHERE e->>'type' IS NULL OR e->>'type' NOT IN (SELECT key FROM vocab_date_type) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'record %: unknown date type %', NEW.id, bad USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER records_vocab BEFORE INSERT OR UPDATE ON records
    FOR EACH ROW EXECUTE FUNCTION check_record_vocab();

CREATE FUNCTION check_link_ends() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE which_end text; rid text; rkind text;
BEGIN
    FOREACH which_end IN ARRAY ARRAY['from', 'to'] LOOP
        rid := CASE which_end WHEN 'from' THEN NEW.from_id ELSE NEW.to_id END;
        SELECT kind INTO rkind FROM records WHERE id = rid;
        IF EXISTS (SELECT 1 FROM vocab_link_end v WHERE v.type = NEW.type AND v.end_name = which_end)
           AND NOT EXISTS (SELECT 1 FROM vocab_link_end v WHERE v.type = NEW.type
                           AND v.end_name = which_end AND v.kind = rkind) THEN
            RAISE EXCEPTION 'a % link cannot have a % at its % end (%)', NEW.type, rkind,
                which_end, rid USING ERRCODE = '23514';
        END IF;
    END LOOP;
    RETURN NEW;
END $$;
CREATE TRIGGER links_ends BEFORE INSERT OR UPDATE ON links
    FOR EACH ROW EXECUTE FUNCTION check_link_ends();

CREATE FUNCTION check_designation_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT kind FROM records WHERE id = NEW.record) <> 'organisation' THEN
        RAISE EXCEPTION 'designation of %: designations are for organisations', NEW.record
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER designations_record BEFORE INSERT OR UPDATE ON designations
    FOR EACH ROW EXECUTE FUNCTION check_designation_record();

-- Every change to a record, appended; never updated or deleted.
CREATE TABLE history (
    id bigserial PRIMARY KEY,
    record_id text NOT NULL REFERENCES records,
    version integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    who text NOT NULL,
    action text NOT NULL
        CHECK (action IN ('create', 'edit', 'retire', 'publish', 'revert')),
    fields text[] NOT NULL,
    old_values jsonb NOT NULL,
    new_values jsonb NOT NULL,
    source jsonb,
    note text,
    reverts bigint REFERENCES history,
    CONSTRAINT change_has_source CHECK (
        action NOT IN ('create', 'edit', 'retire') OR source IS NOT NULL),
    CONSTRAINT revert_names_entry CHECK ((action = 'revert') = (reverts IS NOT NULL))
);
CREATE INDEX history_record ON history (record_id, id);

CREATE FUNCTION history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only: % refused', TG_OP USING ERRCODE = '42501';
END $$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION history_is_append_only();

-- Local accounts of the dashboard; passwords as argon2id hashes (argon2-cffi).
CREATE TABLE accounts (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_.-]{1,62}$'),
    role text NOT NULL CHECK (role IN ('viewer', 'editor', 'reviewer', 'admin')),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);
-- Sign-in attempts, for rate limiting and audit; never the password.
CREATE TABLE sign_in_attempts (
    id bigserial PRIMARY KEY,
    account text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    succeeded boolean NOT NULL,
    outcome text NOT NULL
);
CREATE INDEX sign_in_attempts_recent ON sign_in_attempts (account, at);

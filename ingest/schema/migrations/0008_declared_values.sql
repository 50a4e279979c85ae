-- Declared rows of the acceptance tables: what an authorised person entered for a row the
-- devices cannot measure (fibre households, 5G area, the platform, services …), by whom,
-- when, and the evidence files attached. A correction is a new entry: every table here is
-- append-only (信息安全: 操作记录不可篡改、不可删除), so the history of a row is all of its
-- entries and the latest one is its value.

-- One stored evidence file, named by the SHA-256 of its bytes. The bytes live on disk under
-- the evidence directory (SCG_EVIDENCE_DIR) at sha256/<first two hex digits>/<sha256>; the
-- same bytes uploaded twice are stored once.
CREATE TABLE evidence_files (
    sha256        text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size          bigint NOT NULL CHECK (size >= 0),
    content_type  text NOT NULL,                  -- as sent with the first upload
    stored_at     timestamptz NOT NULL
);

CREATE TABLE declarations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community   text NOT NULL REFERENCES communities (id),
    tier        text NOT NULL,                     -- catalogue: basic | growth | benchmark | db37
    row_id      text NOT NULL,                     -- catalogue row id, e.g. growth-01
    field_values jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(field_values) = 'object'),
    text        text NOT NULL DEFAULT '',
    entered_by  text NOT NULL CHECK (btrim(entered_by) <> ''),
    entered_at  timestamptz NOT NULL,              -- the server's clock when entered
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX declarations_row_latest
    ON declarations (community, tier, row_id, entered_at DESC, id DESC);

-- The files attached to an entry, in upload order, with the name and type they had then.
CREATE TABLE declaration_evidence (
    declaration   bigint NOT NULL REFERENCES declarations (id),
    position      integer NOT NULL CHECK (position >= 0),
    sha256        text NOT NULL REFERENCES evidence_files (sha256),
    name          text NOT NULL,
    content_type  text NOT NULL,
    PRIMARY KEY (declaration, position)
);
CREATE INDEX declaration_evidence_sha256 ON declaration_evidence (sha256);

-- refuse_rewrite() comes from 0007_alarms.
CREATE TRIGGER evidence_files_append_only BEFORE UPDATE OR DELETE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER evidence_files_no_truncate BEFORE TRUNCATE ON evidence_files
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER declarations_append_only BEFORE UPDATE OR DELETE ON declarations
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER declarations_no_truncate BEFORE TRUNCATE ON declarations
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER declaration_evidence_append_only BEFORE UPDATE OR DELETE ON declaration_evidence
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER declaration_evidence_no_truncate BEFORE TRUNCATE ON declaration_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

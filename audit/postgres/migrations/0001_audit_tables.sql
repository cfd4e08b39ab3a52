-- One hash chain per writer (a phigate process) and the signed checkpoints
-- over each chain. Rows are only ever inserted: the triggers below reject
-- UPDATE, DELETE and TRUNCATE for every role, the owner included, and the
-- writer role is granted only INSERT and SELECT.

CREATE TABLE phigate_audit.records (
    writer_id   text        NOT NULL,
    seq         bigint      NOT NULL CHECK (seq > 0),
    hash        text        NOT NULL,
    prev_hash   text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    request_id  text        NOT NULL,
    kind        text        NOT NULL,
    provider    text,
    tenant      text,
    -- The record as its hash chain covers it: the canonical JSON line,
    -- hash included, byte for byte. The columns above repeat fields of it
    -- for queries; phigate audit verify checks that they agree.
    record      bytea       NOT NULL,
    PRIMARY KEY (writer_id, seq)
);

CREATE INDEX records_request_id ON phigate_audit.records (request_id);
CREATE INDEX records_recorded_at ON phigate_audit.records (recorded_at);
CREATE INDEX records_provider ON phigate_audit.records (provider, recorded_at);
CREATE INDEX records_tenant ON phigate_audit.records (tenant, recorded_at);

CREATE TABLE phigate_audit.checkpoints (
    writer_id  text        NOT NULL,
    -- The number of the writer's records the note signs, from seq 1.
    tree_size  bigint      NOT NULL CHECK (tree_size > 0),
    -- A C2SP tlog-checkpoint signed note.
    note       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (writer_id, tree_size)
);

CREATE FUNCTION phigate_audit.reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'phigate audit table %.% is append-only: % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit rows are never changed or removed. Copy them elsewhere to archive them.';
END
$$;

CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON phigate_audit.records
    FOR EACH ROW EXECUTE FUNCTION phigate_audit.reject_change();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON phigate_audit.records
    FOR EACH STATEMENT EXECUTE FUNCTION phigate_audit.reject_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON phigate_audit.checkpoints
    FOR EACH ROW EXECUTE FUNCTION phigate_audit.reject_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON phigate_audit.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION phigate_audit.reject_change();

REVOKE ALL ON phigate_audit.records, phigate_audit.checkpoints FROM PUBLIC;

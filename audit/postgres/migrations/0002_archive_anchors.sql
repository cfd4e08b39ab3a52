-- Archiving: phigate audit archive -postgres copies a writer's oldest
-- records to an archive directory, then, in one transaction, records an
-- anchor for them and deletes their rows. The anchor takes the place of
-- the deleted rows in verification: the chain goes on from its prev_hash,
-- and the Merkle tree from its compact range, so later checkpoints and
-- inclusion proofs still verify.

CREATE TABLE phigate_audit.anchors (
    writer_id       text        NOT NULL,
    -- Records 1 to seq of the writer are archived; the chain in records
    -- goes on at seq + 1.
    seq             bigint      NOT NULL CHECK (seq > 0),
    -- The hash of record seq, which record seq + 1 links to.
    prev_hash       text        NOT NULL,
    -- The RFC 6962 compact range of leaves 0 to seq - 1: the roots of its
    -- perfect subtrees, largest first (audit.Anchor.Range).
    compact_range   bytea[]     NOT NULL,
    archived_at     timestamptz NOT NULL DEFAULT now(),
    -- The SHA-256 of the archive's manifest.json, which names the digests
    -- of the archived records and checkpoints.
    manifest_sha256 text        NOT NULL CHECK (manifest_sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (writer_id, seq)
);

-- An anchor must come after the writer's earlier anchors and name the
-- hash of a record that is in the table when it is inserted, so that an
-- anchor cannot be made up for records that were never stored.
CREATE FUNCTION phigate_audit.check_anchor() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM phigate_audit.anchors a
               WHERE a.writer_id = NEW.writer_id AND a.seq >= NEW.seq) THEN
        RAISE EXCEPTION 'phigate audit anchor for writer % at seq % does not come after the writer''s last anchor', NEW.writer_id, NEW.seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM phigate_audit.records r
                   WHERE r.writer_id = NEW.writer_id AND r.seq = NEW.seq AND r.hash = NEW.prev_hash) THEN
        RAISE EXCEPTION 'phigate audit anchor for writer % at seq %: no record with that seq and hash %', NEW.writer_id, NEW.seq, NEW.prev_hash
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER anchors_check BEFORE INSERT ON phigate_audit.anchors
    FOR EACH ROW EXECUTE FUNCTION phigate_audit.check_anchor();
CREATE TRIGGER anchors_append_only BEFORE UPDATE OR DELETE ON phigate_audit.anchors
    FOR EACH ROW EXECUTE FUNCTION phigate_audit.reject_change();
CREATE TRIGGER anchors_no_truncate BEFORE TRUNCATE ON phigate_audit.anchors
    FOR EACH STATEMENT EXECUTE FUNCTION phigate_audit.reject_change();

-- Records stay append-only, except that a transaction which sets
-- phigate.archive to a writer id (SET LOCAL) may delete that writer's rows
-- at or below one of its anchors. The writer role has no DELETE privilege
-- at all, so only the owner can do this.
CREATE FUNCTION phigate_audit.delete_archived() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('phigate.archive', true) = OLD.writer_id
       AND EXISTS (SELECT 1 FROM phigate_audit.anchors a
                   WHERE a.writer_id = OLD.writer_id AND a.seq >= OLD.seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'phigate audit table %.% is append-only: DELETE of writer % seq % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.writer_id, OLD.seq
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only phigate audit archive -postgres deletes records: those at or below an anchor of their writer, in the transaction that archives them.';
END
$$;

DROP TRIGGER records_append_only ON phigate_audit.records;
CREATE TRIGGER records_no_update BEFORE UPDATE ON phigate_audit.records
    FOR EACH ROW EXECUTE FUNCTION phigate_audit.reject_change();
CREATE TRIGGER records_delete_archived BEFORE DELETE ON phigate_audit.records
    FOR EACH ROW EXECUTE FUNCTION phigate_audit.delete_archived();

REVOKE ALL ON phigate_audit.anchors FROM PUBLIC;

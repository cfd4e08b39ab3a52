package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/internal/pgtest"
)

// archiveFixture is a database whose writer pod-a has 12 records stored
// before Cut (checkpoints at 5, 10 and 12) and 4 after it (checkpoint at
// 16).
type archiveFixture struct {
	db       *pgtest.Database
	opts     Options
	verifier note.Verifier
	cut      time.Time
}

func newArchiveFixture(t *testing.T) archiveFixture {
	t.Helper()
	db := migrated(t)
	signer, verifier := checkpointKeys(t)
	opts := storeOptions(t, db, "pod-a")
	opts.Signer, opts.CheckpointEvery = signer, 5

	s := openStore(t, opts)
	appendN(t, s, 1, 12)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	cut := time.Now()
	time.Sleep(2 * time.Millisecond)
	waitForUnlock(t, db, "pod-a")
	s = openStore(t, opts)
	appendN(t, s, 13, 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitForUnlock(t, db, "pod-a")
	return archiveFixture{db: db, opts: opts, verifier: verifier, cut: cut}
}

// waitForUnlock waits until the server has released the writer lock of a
// closed store. The server ends the closed session a little after the
// client, so the next Open could otherwise find the lock still taken.
func waitForUnlock(t *testing.T, db *pgtest.Database, writer string) {
	t.Helper()
	conn := connect(t, db.OwnerDSN())
	waitFor(t, 10*time.Second, "the writer lock to be released", func() bool {
		var locked bool
		err := conn.QueryRow(context.Background(), "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", writerLockName(writer)).Scan(&locked)
		if err != nil || !locked {
			return false
		}
		_, err = conn.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", writerLockName(writer))
		return err == nil
	})
}

func (f archiveFixture) archive(t *testing.T, dir string, before time.Time) ([]WriterArchive, error) {
	t.Helper()
	conn := connect(t, f.db.OwnerDSN())
	return Archive(context.Background(), conn, ArchiveOptions{Before: before, Dir: dir, Verifier: f.verifier})
}

func (f archiveFixture) verify(t *testing.T) WriterResult {
	t.Helper()
	return verifyAll(t, f.db, VerifyOptions{Verifier: f.verifier})["pod-a"]
}

// setArchiveStep makes archiveStep fail at step for the rest of the test.
func setArchiveStep(t *testing.T, failAt string) {
	t.Helper()
	old := archiveStep
	archiveStep = func(step string) error {
		if step == failAt {
			return errors.New("stopped at " + step)
		}
		return nil
	}
	t.Cleanup(func() { archiveStep = old })
}

func TestArchiveMovesOldRecords(t *testing.T) {
	f := newArchiveFixture(t)
	dir := t.TempDir()

	got, err := f.archive(t, dir, f.cut)
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	if len(got) != 1 || got[0].Skipped != nil {
		t.Fatalf("Archive = %+v, want one archived writer", got)
	}
	m := got[0].Manifest
	if m.FirstSeq != 1 || m.LastSeq != 12 || m.Records != 12 || m.Checkpoint.Size != 12 {
		t.Errorf("manifest covers %d to %d (%d records, checkpoint %d), want 1 to 12 with the checkpoint for 12", m.FirstSeq, m.LastSeq, m.Records, m.Checkpoint.Size)
	}
	if got[0].Dir != filepath.Join(dir, "pod-a") || got[0].Reused {
		t.Errorf("archive dir %s, reused %v; want %s, new", got[0].Dir, got[0].Reused, filepath.Join(dir, "pod-a"))
	}
	if rows, _ := countRows(t, f.db, "pod-a"); rows != 4 {
		t.Errorf("rows after archiving = %d, want 4", rows)
	}

	res := f.verify(t)
	if res.Damage != nil {
		t.Fatalf("Verify after archiving: %v", res.Damage)
	}
	if res.Records != 4 || res.Archived != 12 || !res.AnchorVerified {
		t.Errorf("Verify = %d records, %d archived, anchor verified %v; want 4, 12, true", res.Records, res.Archived, res.AnchorVerified)
	}
	if _, err := audit.VerifyArchive(got[0].Dir, f.verifier); err != nil {
		t.Errorf("VerifyArchive: %v", err)
	}

	manifest, err := os.ReadFile(filepath.Join(got[0].Dir, audit.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(manifest)
	var stored string
	if err := connect(t, f.db.OwnerDSN()).QueryRow(context.Background(), "SELECT manifest_sha256 FROM phigate_audit.anchors WHERE writer_id = 'pod-a'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != hex.EncodeToString(sum[:]) {
		t.Errorf("anchor names manifest SHA-256 %s, want %s", stored, hex.EncodeToString(sum[:]))
	}

	again, err := f.archive(t, t.TempDir(), f.cut)
	if err != nil || len(again) != 1 || !errors.Is(again[0].Skipped, audit.ErrNothingToArchive) {
		t.Errorf("second Archive with the same cut-off = %+v, %v; want pod-a skipped with nothing to archive", again, err)
	}
}

// A store resumes from the anchor, and a later archive starts with the
// earlier anchor, so it verifies on its own.
func TestArchiveTwiceAndResume(t *testing.T) {
	f := newArchiveFixture(t)
	if _, err := f.archive(t, t.TempDir(), f.cut); err != nil {
		t.Fatalf("first Archive: %v", err)
	}

	s := openStore(t, f.opts)
	appendN(t, s, 17, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitForUnlock(t, f.db, "pod-a")
	if res := f.verify(t); res.Damage != nil || res.Records != 6 {
		t.Fatalf("Verify after resuming from the anchor = %d records, damage %v; want 6, none", res.Records, res.Damage)
	}

	dir := t.TempDir()
	got, err := f.archive(t, dir, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("second Archive: %v", err)
	}
	if m := got[0].Manifest; m.FirstSeq != 13 || m.LastSeq != 18 {
		t.Errorf("second archive covers %d to %d, want 13 to 18", m.FirstSeq, m.LastSeq)
	}
	if _, err := audit.VerifyArchive(got[0].Dir, f.verifier); err != nil {
		t.Errorf("VerifyArchive of the second archive: %v", err)
	}
	res := f.verify(t)
	if res.Damage != nil || res.Records != 0 || res.Archived != 18 {
		t.Errorf("Verify with every record archived = %d records, %d archived, damage %v; want 0, 18, none", res.Records, res.Archived, res.Damage)
	}

	// With no rows left, the chain goes on from the anchor.
	s = openStore(t, f.opts)
	appendN(t, s, 19, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if res := f.verify(t); res.Damage != nil || res.Records != 1 || res.Archived != 18 {
		t.Errorf("Verify after appending to an archived chain = %d records, %d archived, damage %v; want 1, 18, none", res.Records, res.Archived, res.Damage)
	}
}

// Archiving does not need the writer stopped: the live store keeps
// appending after the rows below it are deleted.
func TestArchiveWhileWriterRuns(t *testing.T) {
	f := newArchiveFixture(t)
	s := openStore(t, f.opts)
	appendN(t, s, 17, 3)

	got, err := f.archive(t, t.TempDir(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	if m := got[0].Manifest; m.LastSeq != 16 {
		t.Errorf("archive ends at %d, want 16, the last checkpoint", m.LastSeq)
	}
	appendN(t, s, 20, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if res := f.verify(t); res.Damage != nil || res.Records != 6 || res.Archived != 16 {
		t.Errorf("Verify = %d records, %d archived, damage %v; want 6, 16, none", res.Records, res.Archived, res.Damage)
	}
}

func TestArchiveCrashBeforeCommit(t *testing.T) {
	for _, step := range []string{"archive written", "records deleted"} {
		t.Run(step, func(t *testing.T) {
			f := newArchiveFixture(t)
			dir := t.TempDir()
			setArchiveStep(t, step)

			_, err := f.archive(t, dir, f.cut)
			if err == nil || !strings.Contains(err.Error(), "stopped at "+step) {
				t.Fatalf("Archive stopped at %s = %v, want that error", step, err)
			}
			if rows, _ := countRows(t, f.db, "pod-a"); rows != 16 {
				t.Errorf("rows after the failed prune = %d, want all 16", rows)
			}
			if res := f.verify(t); res.Damage != nil || res.Archived != 0 {
				t.Errorf("Verify after the failed prune: damage %v, %d archived; want none, 0", res.Damage, res.Archived)
			}
			if _, err := audit.VerifyArchive(filepath.Join(dir, "pod-a"), f.verifier); err != nil {
				t.Errorf("the archive written before the failure does not verify: %v", err)
			}

			archiveStep = func(string) error { return nil }
			got, err := f.archive(t, dir, f.cut)
			if err != nil {
				t.Fatalf("Archive again with the same directory: %v", err)
			}
			if !got[0].Reused || got[0].Manifest.LastSeq != 12 {
				t.Errorf("second run: reused %v, last seq %d; want the archive reused, 12", got[0].Reused, got[0].Manifest.LastSeq)
			}
			if res := f.verify(t); res.Damage != nil || res.Archived != 12 || res.Records != 4 {
				t.Errorf("Verify after the second run = %d records, %d archived, damage %v; want 4, 12, none", res.Records, res.Archived, res.Damage)
			}
		})
	}
}

func TestArchiveRejectsForeignDirectory(t *testing.T) {
	f := newArchiveFixture(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pod-a"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pod-a", "notes.txt"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err := f.archive(t, dir, f.cut)
	if err == nil || !strings.Contains(err.Error(), "choose a new directory") {
		t.Errorf("Archive into a directory with other files = %v, want a choose-a-new-directory error", err)
	}
	if rows, _ := countRows(t, f.db, "pod-a"); rows != 16 {
		t.Errorf("rows = %d, want all 16", rows)
	}
}

func TestArchiveRejectsDamagedChain(t *testing.T) {
	f := newArchiveFixture(t)
	tamper(t, f.db, "UPDATE phigate_audit.records SET tenant = 'clinic-b' WHERE writer_id = 'pod-a' AND seq = 3")

	_, err := f.archive(t, t.TempDir(), f.cut)
	if err == nil || !strings.Contains(err.Error(), "archive only an intact chain") {
		t.Errorf("Archive of a damaged chain = %v, want an intact-chain error", err)
	}
	if rows, _ := countRows(t, f.db, "pod-a"); rows != 16 {
		t.Errorf("rows = %d, want all 16", rows)
	}
}

// TestArchiveDeleteRules checks the triggers and privileges around the
// delete that only archiving may do.
func TestArchiveDeleteRules(t *testing.T) {
	f := newArchiveFixture(t)
	if _, err := f.archive(t, t.TempDir(), f.cut); err != nil {
		t.Fatalf("Archive: %v", err)
	}

	tests := []struct {
		name    string
		dsn     string
		setting string
		sql     string
		code    string
		want    string
	}{
		{name: "writer deletes below the anchor with the setting", dsn: f.db.WriterDSN(), setting: "pod-a", sql: "DELETE FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq <= 13", code: "42501", want: "permission denied"},
		{name: "writer inserts an anchor", dsn: f.db.WriterDSN(), sql: "INSERT INTO phigate_audit.anchors (writer_id, seq, prev_hash, compact_range, manifest_sha256) SELECT writer_id, seq, hash, '{}', repeat('0', 64) FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 14", code: "42501", want: "permission denied"},
		{name: "owner deletes above the anchor with the setting", dsn: f.db.OwnerDSN(), setting: "pod-a", sql: "DELETE FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 13", code: "42501", want: "is append-only"},
		{name: "owner deletes without the setting", dsn: f.db.OwnerDSN(), sql: "DELETE FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 13", code: "42501", want: "is append-only"},
		{name: "owner deletes with another writer's setting", dsn: f.db.OwnerDSN(), setting: "pod-b", sql: "DELETE FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 13", code: "42501", want: "is append-only"},
		{name: "owner updates an anchor", dsn: f.db.OwnerDSN(), sql: "UPDATE phigate_audit.anchors SET prev_hash = 'x'", code: "42501", want: "is append-only"},
		{name: "owner deletes an anchor", dsn: f.db.OwnerDSN(), setting: "pod-a", sql: "DELETE FROM phigate_audit.anchors", code: "42501", want: "is append-only"},
		{name: "owner truncates anchors", dsn: f.db.OwnerDSN(), sql: "TRUNCATE phigate_audit.anchors", code: "42501", want: "is append-only"},
		{name: "owner inserts an anchor with a wrong hash", dsn: f.db.OwnerDSN(), sql: "INSERT INTO phigate_audit.anchors (writer_id, seq, prev_hash, compact_range, manifest_sha256) VALUES ('pod-a', 14, 'sha256:00', '{}', repeat('0', 64))", code: "23000", want: "no record with that seq and hash"},
		{name: "owner inserts an anchor before the last one", dsn: f.db.OwnerDSN(), sql: "INSERT INTO phigate_audit.anchors (writer_id, seq, prev_hash, compact_range, manifest_sha256) VALUES ('pod-a', 5, 'sha256:00', '{}', repeat('0', 64))", code: "23000", want: "does not come after the writer's last anchor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			conn := connect(t, tt.dsn)
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck // the statement fails, so the transaction is aborted
			if tt.setting != "" {
				if _, err := tx.Exec(ctx, "SELECT set_config('phigate.archive', $1, true)", tt.setting); err != nil {
					t.Fatal(err)
				}
			}

			_, err = tx.Exec(ctx, tt.sql)

			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) {
				t.Fatalf("%s = %v, want a PostgreSQL error", tt.sql, err)
			}
			if pgErr.Code != tt.code {
				t.Errorf("SQLSTATE = %s, want %s", pgErr.Code, tt.code)
			}
			if !strings.Contains(pgErr.Message, tt.want) {
				t.Errorf("message = %q, want it to contain %q", pgErr.Message, tt.want)
			}
		})
	}

	if rows, _ := countRows(t, f.db, "pod-a"); rows != 4 {
		t.Errorf("rows after the rejected statements = %d, want 4", rows)
	}
	if res := f.verify(t); res.Damage != nil {
		t.Errorf("Verify after the rejected statements: %v", res.Damage)
	}
}

func TestVerifyFindsAnchorTampering(t *testing.T) {
	tests := []struct {
		name  string
		sql   []string
		kinds []audit.DamageKind
	}{
		{name: "edited range", sql: []string{"UPDATE phigate_audit.anchors SET compact_range[1] = sha256(compact_range[1])"}, kinds: []audit.DamageKind{audit.DamageBadAnchor}},
		{name: "range with a hash missing", sql: []string{"UPDATE phigate_audit.anchors SET compact_range = compact_range[2:]"}, kinds: []audit.DamageKind{audit.DamageBadAnchor}},
		{name: "edited prev_hash", sql: []string{"UPDATE phigate_audit.anchors SET prev_hash = 'sha256:' || repeat('0', 64)"}, kinds: []audit.DamageKind{audit.DamageEdited}},
		{name: "anchor moved up", sql: []string{"UPDATE phigate_audit.anchors SET seq = 13"}, kinds: []audit.DamageKind{audit.DamageBadAnchor}},
		{name: "anchor deleted", sql: []string{"DELETE FROM phigate_audit.anchors"}, kinds: []audit.DamageKind{audit.DamageDeleted}},
		{name: "checkpoint of the anchor deleted", sql: []string{"DELETE FROM phigate_audit.checkpoints WHERE tree_size = 12"}, kinds: []audit.DamageKind{audit.DamageBadAnchor}},
		{name: "archived row put back", sql: []string{"INSERT INTO phigate_audit.records SELECT writer_id, 12, hash, prev_hash, recorded_at, request_id, kind, provider, tenant, record FROM phigate_audit.records WHERE writer_id = 'pod-a' AND seq = 13"}, kinds: []audit.DamageKind{audit.DamageBadAnchor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newArchiveFixture(t)
			if _, err := f.archive(t, t.TempDir(), f.cut); err != nil {
				t.Fatalf("Archive: %v", err)
			}
			for _, stmt := range tt.sql {
				tamperTables(t, f.db, stmt)
			}

			res := f.verify(t)

			if res.Damage == nil {
				t.Fatal("Verify found no damage")
			}
			if !containsKind(tt.kinds, res.Damage.Kind) {
				t.Errorf("damage kind = %s (%s), want one of %v", res.Damage.Kind, res.Damage.Reason, tt.kinds)
			}
		})
	}
}

func containsKind(kinds []audit.DamageKind, k audit.DamageKind) bool {
	for _, want := range kinds {
		if k == want {
			return true
		}
	}
	return false
}

// tamperTables runs a statement as the owner with the triggers of every
// audit table disabled.
func tamperTables(t *testing.T, db *pgtest.Database, stmt string) {
	t.Helper()
	conn := connect(t, db.OwnerDSN())
	ctx := context.Background()
	tables := []string{"records", "checkpoints", "anchors"}
	for _, table := range tables {
		if _, err := conn.Exec(ctx, "ALTER TABLE phigate_audit."+table+" DISABLE TRIGGER USER"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	for _, table := range tables {
		if _, err := conn.Exec(ctx, "ALTER TABLE phigate_audit."+table+" ENABLE TRIGGER USER"); err != nil {
			t.Fatal(err)
		}
	}
}

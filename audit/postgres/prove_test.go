package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

// checkProof checks p with transparency-dev's RFC 6962 verifier against
// the root of its checkpoint, whose signature must verify.
func checkProof(t *testing.T, p audit.InclusionProof, verifier note.Verifier) {
	t.Helper()
	n, err := note.Open([]byte(p.Checkpoint), note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("checkpoint of the proof does not verify: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		t.Fatalf("checkpoint root: %v", err)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf([]byte(p.Leaf))
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, leaf, p.Proof, root); err != nil {
		t.Errorf("proof of leaf %d in a tree of %d: %v", p.LeafIndex, p.TreeSize, err)
	}
}

func TestProveVerifiesWithRFC6962Verifier(t *testing.T) {
	f := newArchiveFixture(t)
	conn := connect(t, f.db.OwnerDSN())
	ctx := context.Background()

	for _, seq := range []int{1, 7, 12, 13, 16} {
		requestID := sampleRecord(seq).RequestID
		proofs, err := Prove(ctx, conn, requestID, "")
		if err != nil {
			t.Fatalf("Prove %s: %v", requestID, err)
		}
		if len(proofs) != 1 || proofs[0].LeafIndex != uint64(seq-1) || proofs[0].TreeSize != 16 || proofs[0].RequestID != requestID || proofs[0].Kind != audit.KindDecision {
			t.Fatalf("Prove %s = %+v, want one decision proof of leaf %d in a tree of 16", requestID, proofs, seq-1)
		}
		checkProof(t, proofs[0], f.verifier)
	}

	if _, err := Prove(ctx, conn, "req-000003", "pod-b"); !errors.Is(err, ErrRequestNotFound) {
		t.Errorf("Prove in another writer's chain = %v, want ErrRequestNotFound", err)
	}
}

// After an archive, records after the anchor are proved from the
// database and archived ones from the archive, with the file store's
// audit.Prove.
func TestProveAfterArchive(t *testing.T) {
	f := newArchiveFixture(t)
	dir := t.TempDir()
	if _, err := f.archive(t, dir, f.cut); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	conn := connect(t, f.db.OwnerDSN())
	ctx := context.Background()

	for _, seq := range []int{13, 14, 16} {
		requestID := sampleRecord(seq).RequestID
		proofs, err := Prove(ctx, conn, requestID, "pod-a")
		if err != nil {
			t.Fatalf("Prove %s after archiving: %v", requestID, err)
		}
		if len(proofs) != 1 || proofs[0].LeafIndex != uint64(seq-1) {
			t.Fatalf("Prove %s = %+v, want leaf %d", requestID, proofs, seq-1)
		}
		checkProof(t, proofs[0], f.verifier)
	}

	_, err := Prove(ctx, conn, sampleRecord(5).RequestID, "")
	if !errors.Is(err, ErrRequestNotFound) || !strings.Contains(err.Error(), "proved from the archive") {
		t.Errorf("Prove of an archived record = %v, want ErrRequestNotFound pointing at the archive", err)
	}
	archived, err := audit.Prove(filepath.Join(dir, "pod-a", "pod-a.jsonl"), sampleRecord(5).RequestID)
	if err != nil {
		t.Fatalf("audit.Prove on the archive: %v", err)
	}
	checkProof(t, archived[0], f.verifier)
}

func TestProveErrors(t *testing.T) {
	t.Run("no checkpoint", func(t *testing.T) {
		db := migrated(t)
		s := openStore(t, storeOptions(t, db, "pod-a"))
		appendN(t, s, 1, 2)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := Prove(context.Background(), connect(t, db.OwnerDSN()), "req-000001", "")
		if !errors.Is(err, audit.ErrNotCheckpointed) {
			t.Errorf("Prove without checkpoints = %v, want ErrNotCheckpointed", err)
		}
	})
	t.Run("edited row", func(t *testing.T) {
		f := newArchiveFixture(t)
		tamperTables(t, f.db, "UPDATE phigate_audit.records SET record = convert_to(replace(convert_from(record, 'UTF8'), 'clinic-a', 'clinic-b'), 'UTF8') WHERE writer_id = 'pod-a' AND seq = 4")
		_, err := Prove(context.Background(), connect(t, f.db.OwnerDSN()), "req-000009", "")
		if err == nil || !strings.Contains(err.Error(), "do not match the signed checkpoint") {
			t.Errorf("Prove after a row was edited = %v, want a checkpoint-mismatch error", err)
		}
	})
}

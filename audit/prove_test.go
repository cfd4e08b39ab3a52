package audit

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Every record's proof must verify with the transparency-dev verifier
// against the root its checkpoint signs, for trees of odd and even sizes.
func TestProveEveryRecord(t *testing.T) {
	for _, n := range []int{1, 2, 5, 7, 12} {
		t.Run(fmt.Sprintf("%d records", n), func(t *testing.T) {
			path, verifier, _ := checkpointedLog(t, n)
			for i := range n {
				id := "req-" + string(rune('a'+i))
				proofs, err := Prove(path, id)
				if err != nil {
					t.Fatalf("Prove(%s): %v", id, err)
				}
				if len(proofs) != 1 {
					t.Fatalf("got %d proofs for %s, want 1", len(proofs), id)
				}
				checkProof(t, proofs[0], verifier)
			}
		})
	}
}

func checkProof(t *testing.T, p InclusionProof, verifier note.Verifier) {
	t.Helper()
	n, err := note.Open([]byte(p.Checkpoint), note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("checkpoint does not verify: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf([]byte(p.Leaf))
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, leaf, p.Proof, root); err != nil {
		t.Errorf("leaf %d of %d: %v", p.LeafIndex, p.TreeSize, err)
	}
}

func TestProveRejectsTamperedLeaf(t *testing.T) {
	path, _, _ := checkpointedLog(t, 6)
	proofs, err := Prove(path, "req-c")
	if err != nil {
		t.Fatal(err)
	}
	p := proofs[0]
	text := p.Checkpoint[:strings.Index(p.Checkpoint, "\n\n")]
	root, _ := base64.StdEncoding.DecodeString(strings.Split(text, "\n")[2])
	edited := strings.Replace(p.Leaf, `"allow"`, `"deny"`, 1)
	leaf := rfc6962.DefaultHasher.HashLeaf([]byte(edited))
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, leaf, p.Proof, root); err == nil {
		t.Error("an edited record verified against the checkpoint")
	}
}

func TestProveUnknownRequest(t *testing.T) {
	path, _, _ := checkpointedLog(t, 3)
	if _, err := Prove(path, "no-such-request"); err == nil {
		t.Error("Prove found a request that is not in the log")
	}
}

func TestProveWithoutCheckpoint(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(t.Context(), &Record{Kind: KindDecision, RequestID: "r1"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := Prove(path, "r1"); !errors.Is(err, ErrNotCheckpointed) {
		t.Errorf("Prove = %v, want ErrNotCheckpointed", err)
	}
}

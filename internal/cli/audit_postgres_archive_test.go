package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
	"github.com/phigate/phigate/internal/pgtest"
)

// writeAsService appends n decision records through serve's PostgreSQL
// store as writer, with checkpoints every 2 records and at close.
func writeAsService(t *testing.T, db *pgtest.Database, writer string, first, n int) {
	t.Helper()
	configPath := postgresServeConfig(t, db, "  checkpoint_key: {id: cp-1, env: PHIGATE_TEST_CHECKPOINT_KEY}\n  checkpoint_every: 2\n")
	data, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), "writer_id: phigate-test-0", "writer_id: "+writer, 1))
	if err := os.WriteFile(configPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTestService(t, configPath)
	for i := range n {
		rec := &audit.Record{Kind: audit.KindDecision, RequestID: fmt.Sprintf("req-pg-%04d", first+i), Tenant: "clinic-a", Provider: "openai", Action: "allow"}
		if err := s.auditLog.Append(t.Context(), rec); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if err := s.auditLog.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditArchivePostgres(t *testing.T) {
	db := pgtest.NewDatabase(t)
	private, public, err := audit.GenerateCheckpointKey("phigate.example.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PHIGATE_TEST_CHECKPOINT_KEY", private)
	writeAsService(t, db, "phigate-test-0", 1, 5)
	time.Sleep(2 * time.Millisecond)
	cut := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(2 * time.Millisecond)
	writeAsService(t, db, "phigate-test-1", 6, 3)
	t.Setenv("PHIGATE_AUDIT_OWNER_DSN", db.OwnerDSN())
	t.Setenv("PHIGATE_AUDIT_DSN", db.OwnerDSN())
	out := filepath.Join(t.TempDir(), "archive")

	code, stdout, stderr := runCommand(t, "", "audit", "archive", "-postgres", "-before", cut, "-out", out, "-public-key", public)
	if code != 0 {
		t.Fatalf("audit archive -postgres: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, want := range []string{
		"archived records 1 to 5 of writer phigate-test-0",
		filepath.Join(out, "phigate-test-0"),
		"writer phigate-test-1: nothing to archive",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("audit archive -postgres output %q lacks %q", stdout, want)
		}
	}

	code, stdout, _ = runCommand(t, "", "audit", "verify", "-postgres", "-public-key", public)
	if code != 0 || !strings.Contains(stdout, "OK writer phigate-test-0: 0 records, chain intact") || !strings.Contains(stdout, "records 1 to 5 are archived") || !strings.Contains(stdout, "OK writer phigate-test-1: 3 records") {
		t.Errorf("audit verify -postgres after archiving: exit %d, stdout %q; want both writers intact, 5 records of phigate-test-0 archived", code, stdout)
	}

	code, stdout, _ = runCommand(t, "", "audit", "verify", "-public-key", public, out)
	if code != 0 || !strings.Contains(stdout, "OK "+filepath.Join(out, "phigate-test-0")+": archive of records 1 to 5") {
		t.Errorf("audit verify of the archive directory: exit %d, stdout %q; want the writer's archive verified", code, stdout)
	}

	code, stdout, stderr = runCommand(t, "", "audit", "prove", "-postgres", "-writer", "phigate-test-1", "req-pg-0007")
	if code != 0 {
		t.Fatalf("audit prove -postgres: exit %d, stderr %q", code, stderr)
	}
	var proofs []audit.InclusionProof
	if err := json.Unmarshal([]byte(stdout), &proofs); err != nil {
		t.Fatalf("audit prove -postgres output does not decode: %v", err)
	}
	if len(proofs) != 1 || proofs[0].LeafIndex != 1 || proofs[0].TreeSize != 3 {
		t.Fatalf("proofs = %+v, want leaf 1 of a tree of 3", proofs)
	}
	verifier, err := note.NewVerifier(public)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(proofs[0].Checkpoint), note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("checkpoint of the proof: %v", err)
	}
	root, err := base64.StdEncoding.DecodeString(strings.Split(n.Text, "\n")[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, proofs[0].LeafIndex, proofs[0].TreeSize, rfc6962.DefaultHasher.HashLeaf([]byte(proofs[0].Leaf)), proofs[0].Proof, root); err != nil {
		t.Errorf("proof does not verify: %v", err)
	}

	code, _, stderr = runCommand(t, "", "audit", "prove", "-postgres", "req-pg-0002")
	if code != 1 || !strings.Contains(stderr, "proved from the archive") {
		t.Errorf("audit prove -postgres of an archived record: exit %d, stderr %q; want exit 1 pointing at the archive", code, stderr)
	}
	code, stdout, stderr = runCommand(t, "", "audit", "prove", filepath.Join(out, "phigate-test-0", "phigate-test-0.jsonl"), "req-pg-0002")
	if code != 0 || !strings.Contains(stdout, `"leaf_index": 1`) {
		t.Errorf("audit prove on the archive: exit %d, stdout %q, stderr %q; want the proof of leaf 1", code, stdout, stderr)
	}
}

func TestAuditArchivePostgresUsage(t *testing.T) {
	t.Setenv("PHIGATE_AUDIT_OWNER_DSN", "")
	t.Setenv("PHIGATE_AUDIT_DSN", "")
	_, public, err := audit.GenerateCheckpointKey("phigate.example.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "file with -postgres", args: []string{"audit", "archive", "-postgres", "-before", "2020-01-01", "-out", "dir", "-public-key", public, "audit.jsonl"}, code: 2, want: "with -postgres, give no file"},
		{name: "missing flags", args: []string{"audit", "archive", "-postgres"}, code: 2, want: "missing -before DATE; missing -out DIR; missing -public-key"},
		{name: "bad writer", args: []string{"audit", "archive", "-postgres", "-writer", "pod/0", "-before", "2020-01-01", "-out", "dir", "-public-key", public}, code: 2, want: `invalid -writer "pod/0"`},
		{name: "missing owner DSN", args: []string{"audit", "archive", "-postgres", "-before", "2020-01-01", "-out", "dir", "-public-key", public}, code: 1, want: "PHIGATE_AUDIT_OWNER_DSN is empty or unset"},
		{name: "prove without request", args: []string{"audit", "prove", "-postgres"}, code: 2, want: "want exactly one request id"},
		{name: "prove missing DSN", args: []string{"audit", "prove", "-postgres", "req-1"}, code: 1, want: "PHIGATE_AUDIT_DSN is empty or unset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCommand(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

package cli_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

// checkpointedAuditLog writes 8 records with checkpoints after records 3
// and 6 and none after 7 and 8, and returns the log's path, the public
// key and the signer.
func checkpointedAuditLog(t *testing.T) (path, publicKey string, signer note.Signer) {
	t.Helper()
	private, public, err := audit.GenerateCheckpointKey("phigate.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	if signer, err = note.NewSigner(private); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "audit.jsonl")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	appendN := func(opts audit.FileOptions, first, n int) {
		opts.Logger = logger
		l, err := audit.OpenFileWithOptions(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := first; i < first+n; i++ {
			rec := &audit.Record{Kind: audit.KindDecision, RequestID: "req-" + string(rune('a'+i-1)), Action: "allow"}
			if err := l.Append(t.Context(), rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	appendN(audit.FileOptions{Signer: signer, CheckpointEvery: 3}, 1, 6)
	appendN(audit.FileOptions{}, 7, 2) // no signer, so no checkpoint at close
	return path, public, signer
}

func TestAuditArchiveCommand(t *testing.T) {
	path, public, signer := checkpointedAuditLog(t)
	dir := filepath.Join(t.TempDir(), "archive-2026")
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)

	res := run(t, "", "audit", "archive", "-before", tomorrow, "-out", dir, "-public-key", public, path)

	if res.code != 0 {
		t.Fatalf("audit archive: exit %d; stdout %s stderr %s", res.code, res.stdout, res.stderr)
	}
	if !strings.HasPrefix(res.stdout, "archived records 1 to 6 of "+path) {
		t.Errorf("stdout = %q, want it to report records 1 to 6 archived", res.stdout)
	}
	if want := "keep the archive until " + time.Now().UTC().AddDate(6, 0, 0).Format(time.DateOnly); !strings.Contains(res.stdout, want) {
		t.Errorf("stdout = %q, want %q", res.stdout, want)
	}

	res = run(t, "", "audit", "verify", "-public-key", public, path)
	if res.code != 0 || !strings.Contains(res.stdout, "OK "+path+": 2 records") || !strings.Contains(res.stdout, "records 1 to 6 are archived; the anchor for them matches a checkpoint") {
		t.Errorf("audit verify of the live log: exit %d, stdout %q", res.code, res.stdout)
	}
	res = run(t, "", "audit", "verify", "-public-key", public, dir)
	if res.code != 0 || !strings.Contains(res.stdout, "OK "+dir+": archive of records 1 to 6") {
		t.Errorf("audit verify of the archive: exit %d, stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	res = run(t, "", "audit", "verify", "-public-key", public, filepath.Join(dir, "audit.jsonl"))
	if res.code != 0 || !strings.Contains(res.stdout, ": 6 records, chain intact") {
		t.Errorf("audit verify of the archived records: exit %d, stdout %q", res.code, res.stdout)
	}

	// phigate signs a checkpoint over records 7 and 8 when it next stops;
	// then prove works on the pruned log.
	l, err := audit.OpenFileWithOptions(path, audit.FileOptions{Signer: signer})
	if err != nil {
		t.Fatalf("reopening the pruned log: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	res = run(t, "", "audit", "prove", path, "req-g")
	if res.code != 0 {
		t.Fatalf("audit prove: exit %d, stderr %s", res.code, res.stderr)
	}
	var proofs []audit.InclusionProof
	if err := json.Unmarshal([]byte(res.stdout), &proofs); err != nil {
		t.Fatal(err)
	}
	if len(proofs) != 1 || proofs[0].LeafIndex != 6 || proofs[0].TreeSize != 8 {
		t.Errorf("proofs = %+v, want leaf 6 of a tree of 8", proofs)
	}

	// The checkpoint over 8 records lets a second archive take records 7
	// and 8, after which nothing is left to archive.
	second := filepath.Join(t.TempDir(), "second")
	res = run(t, "", "audit", "archive", "-before", tomorrow, "-out", second, "-public-key", public, path)
	if res.code != 0 || !strings.HasPrefix(res.stdout, "archived records 7 to 8 of") {
		t.Errorf("second archive: exit %d, stdout %q stderr %q; want records 7 to 8", res.code, res.stdout, res.stderr)
	}
	res = run(t, "", "audit", "verify", "-public-key", public, second)
	if res.code != 0 {
		t.Errorf("audit verify of the second archive: exit %d, stdout %q", res.code, res.stdout)
	}
	res = run(t, "", "audit", "verify", "-public-key", public, path)
	if res.code != 0 || !strings.Contains(res.stdout, ": 0 records") {
		t.Errorf("audit verify of the anchor-only log: exit %d, stdout %q", res.code, res.stdout)
	}
	res = run(t, "", "audit", "archive", "-before", tomorrow, "-out", filepath.Join(t.TempDir(), "third"), "-public-key", public, path)
	if res.code != 0 || !strings.Contains(res.stdout, "nothing to archive") {
		t.Errorf("third archive: exit %d, stdout %q stderr %q; want nothing to archive", res.code, res.stdout, res.stderr)
	}
}

func TestAuditArchiveErrors(t *testing.T) {
	path, public, _ := checkpointedAuditLog(t)
	out := filepath.Join(t.TempDir(), "archive")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "no flags", args: []string{path}, code: 2, want: "missing -before DATE; missing -out DIR; missing -public-key KEY|@FILE"},
		{name: "bad date", args: []string{"-before", "31/01/2020", "-out", out, "-public-key", public, path}, code: 2, want: `invalid -before "31/01/2020"`},
		{name: "no log", args: []string{"-before", "2020-01-01", "-out", out, "-public-key", public}, code: 2, want: "want exactly one audit log file"},
		{name: "retention too short", args: []string{"-before", "2020-01-01", "-out", out, "-public-key", public, "-retain-years", "0", path}, code: 2, want: "-retain-years must be at least 1"},
		{name: "bad public key", args: []string{"-before", "2020-01-01", "-out", out, "-public-key", "not-a-key", path}, code: 1, want: "invalid public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", append([]string{"audit", "archive"}, tt.args...)...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", res.code, res.stderr, tt.code, tt.want)
			}
		})
	}

	t.Run("log in use", func(t *testing.T) {
		l, err := audit.OpenFile(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		res := run(t, "", "audit", "archive", "-before", "2999-01-01", "-out", out, "-public-key", public, path)
		if res.code != 1 || !strings.Contains(res.stderr, "stop phigate serve before archiving") {
			t.Errorf("exit %d, stderr %q; want a refusal while the log is held", res.code, res.stderr)
		}
	})

	t.Run("archive without public key", func(t *testing.T) {
		res := run(t, "", "audit", "verify", t.TempDir())
		if res.code != 2 || !strings.Contains(res.stderr, "verifying an archive needs -public-key") {
			t.Errorf("exit %d, stderr %q", res.code, res.stderr)
		}
	})
}

func TestAuditVerifyArchiveDamaged(t *testing.T) {
	path, public, _ := checkpointedAuditLog(t)
	dir := filepath.Join(t.TempDir(), "archive")
	if res := run(t, "", "audit", "archive", "-before", "2999-01-01", "-out", dir, "-public-key", public, path); res.code != 0 {
		t.Fatalf("audit archive: %s", res.stderr)
	}
	archived := filepath.Join(dir, "audit.jsonl")
	data, err := os.ReadFile(archived)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archived, []byte(strings.Replace(string(data), `"req-b"`, `"req-x"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	res := run(t, "", "audit", "verify", "-public-key", public, dir)

	if res.code != 1 || !strings.Contains(res.stdout, "FAIL "+dir+": archive file audit.jsonl has SHA-256") {
		t.Errorf("exit %d, stdout %q; want a FAIL naming the changed file", res.code, res.stdout)
	}
}

// audit verify names the first bad record and the kind of damage.
func TestAuditVerifyNamesDamageKind(t *testing.T) {
	tests := []struct {
		name   string
		damage func(lines []string) []string
		want   string
	}{
		{
			name: "edited",
			damage: func(lines []string) []string {
				lines[2] = strings.Replace(lines[2], `"action":"allow"`, `"action":"deny"`, 1)
				return lines
			},
			want: "2 records verified, then line 3 (record 3, edited): hash does not match",
		},
		{
			name:   "deleted",
			damage: func(lines []string) []string { return append(lines[:1], lines[2:]...) },
			want:   "1 records verified, then line 2 (record 2, deleted): sequence number is 3, want 2: record 2 was deleted",
		},
		{
			name: "reordered",
			damage: func(lines []string) []string {
				lines[1], lines[2] = lines[2], lines[1]
				return lines
			},
			want: "then line 2 (record 2, reordered)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, lines := writeAuditLog(t, 4)
			if err := os.WriteFile(path, []byte(strings.Join(tt.damage(lines), "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			res := run(t, "", "audit", "verify", path)
			if res.code != 1 || !strings.Contains(res.stdout, tt.want) {
				t.Errorf("exit %d, stdout %q; want %q", res.code, res.stdout, tt.want)
			}
		})
	}
}

package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// checkpointedLog writes n records to a new log that checkpoints every 5
// records, closes it and returns its path and the key pair's verifier.
func checkpointedLog(t *testing.T, n int) (string, note.Verifier, note.Signer) {
	t.Helper()
	private, public, err := GenerateCheckpointKey("phigate.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(private)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(public)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := OpenFileWithOptions(path, FileOptions{Signer: signer, CheckpointEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		rec := &Record{Kind: KindDecision, RequestID: "req-" + string(rune('a'+i)), Action: "allow"}
		if err := l.Append(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, verifier, signer
}

func TestCheckpointsWrittenAndVerified(t *testing.T) {
	path, verifier, _ := checkpointedLog(t, 12)

	cps, err := readCheckpoints(CheckpointsPath(path))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []uint64
	for _, c := range cps {
		sizes = append(sizes, c.Size)
	}
	if want := []uint64{5, 10, 12}; !equalSizes(sizes, want) {
		t.Errorf("checkpoint sizes = %v, want %v (every 5 records and one at close)", sizes, want)
	}

	res, err := VerifyFileWithCheckpoints(path, verifier)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.Records != 12 || res.Checkpoints != 3 || res.SignedCheckpoints != 3 {
		t.Errorf("result = %+v, want 12 records and 3 signed checkpoints", res)
	}
}

func equalSizes(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rewriteChain edits one record's action and recomputes every hash and
// link after it, as someone with write access to the file could.
func rewriteChain(t *testing.T, path string, line int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	prev := ""
	for i, raw := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
		var rec Record
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if i+1 == line {
			rec.Action = "deny"
		}
		rec.PrevHash = prev
		if rec.Hash, err = rec.computeHash(); err != nil {
			t.Fatal(err)
		}
		encoded, err := rec.canonicalWithHash()
		if err != nil {
			t.Fatal(err)
		}
		out.Write(encoded)
		out.WriteByte('\n')
		prev = rec.Hash
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckpointsCatchDamage(t *testing.T) {
	tests := []struct {
		name       string
		damage     func(t *testing.T, path string)
		wantLine   int
		wantReason string
	}{
		{
			name: "records cut off the end",
			damage: func(t *testing.T, path string) {
				data, _ := os.ReadFile(path)
				lines := strings.SplitAfter(string(data), "\n")
				os.WriteFile(path, []byte(strings.Join(lines[:10], "")), 0o600)
			},
			wantLine:   11,
			wantReason: "cut off the end",
		},
		{
			name:       "edit hidden by a rewritten chain",
			damage:     func(t *testing.T, path string) { rewriteChain(t, path, 7) },
			wantLine:   6,
			wantReason: "records 6 to 10 do not match",
		},
		{
			name: "forged checkpoint",
			damage: func(t *testing.T, path string) {
				cp := CheckpointsPath(path)
				data, _ := os.ReadFile(cp)
				os.WriteFile(cp, bytes.Replace(data, []byte(`"size":5`), []byte(`"size":4`), 1), 0o600)
			},
			wantReason: "checkpoint 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, verifier, _ := checkpointedLog(t, 12)
			tc.damage(t, path)

			_, err := VerifyFileWithCheckpoints(path, verifier)

			var d *Damage
			if !errors.As(err, &d) {
				t.Fatalf("verify = %v, want damage", err)
			}
			if tc.wantLine != 0 && d.Line != tc.wantLine {
				t.Errorf("damage line = %d, want %d (%s)", d.Line, tc.wantLine, d.Reason)
			}
			if !strings.Contains(d.Reason, tc.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", d.Reason, tc.wantReason)
			}
		})
	}
}

func TestCheckpointsRejectOtherKey(t *testing.T) {
	path, _, _ := checkpointedLog(t, 6)
	_, otherPublic, err := GenerateCheckpointKey("phigate.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	other, err := note.NewVerifier(otherPublic)
	if err != nil {
		t.Fatal(err)
	}

	_, err = VerifyFileWithCheckpoints(path, other)

	var d *Damage
	if !errors.As(err, &d) || !strings.Contains(d.Reason, "signature does not verify") {
		t.Errorf("verify with another key = %v, want a signature error", err)
	}
}

func TestOpenRefusesTruncatedLog(t *testing.T) {
	path, _, signer := checkpointedLog(t, 12)
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(lines[:8], "")), 0o600); err != nil {
		t.Fatal(err)
	}

	l, err := OpenFileWithOptions(path, FileOptions{Signer: signer})

	if err == nil {
		l.Close()
		t.Fatal("OpenFileWithOptions accepted a log shorter than its checkpoints")
	}
	if !strings.Contains(err.Error(), "records were removed") {
		t.Errorf("error = %v, want it to say records were removed", err)
	}
}

func TestCheckpointsResumeAfterReopen(t *testing.T) {
	path, verifier, signer := checkpointedLog(t, 7)
	l, err := OpenFileWithOptions(path, FileOptions{Signer: signer, CheckpointEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := l.Append(context.Background(), &Record{Kind: KindDecision, RequestID: "later"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	res, err := VerifyFileWithCheckpoints(path, verifier)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.Records != 11 || res.Checkpoints != 3 {
		t.Errorf("result = %+v, want 11 records and checkpoints at 5, 7 (close) and 11 (close): the interval counts from the last checkpoint", res)
	}
}

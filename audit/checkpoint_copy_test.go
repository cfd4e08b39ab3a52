package audit

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// copiedLog writes n records to a log whose checkpoints, every 2 records
// and at close, also go to a copy in a directory that does not exist yet.
func copiedLog(t *testing.T, n int) (logPath, copyPath string, verifier note.Verifier) {
	t.Helper()
	private, public, err := GenerateCheckpointKey("phigate.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(private)
	if err != nil {
		t.Fatal(err)
	}
	if verifier, err = note.NewVerifier(public); err != nil {
		t.Fatal(err)
	}
	logPath = filepath.Join(t.TempDir(), "audit.jsonl")
	copyPath = filepath.Join(t.TempDir(), "worm", "audit.checkpoints")
	l, err := OpenFileWithOptions(logPath, FileOptions{Signer: signer, CheckpointEvery: 2, CheckpointCopy: copyPath})
	if err != nil {
		t.Fatalf("OpenFileWithOptions: %v", err)
	}
	for i := range n {
		rec := &Record{Kind: KindDecision, RequestID: fmt.Sprintf("req-%03d", i+1), Action: "allow"}
		if err := l.Append(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return logPath, copyPath, verifier
}

func verifyWithCheckpointsFile(t *testing.T, logPath, checkpointsPath string, verifier note.Verifier) VerifyResult {
	t.Helper()
	res, err := VerifyFileAgainst(logPath, checkpointsPath, verifier)
	if err != nil {
		t.Fatalf("verifying against %s: %v", checkpointsPath, err)
	}
	return res
}

func TestCheckpointCopyMatchesCheckpoints(t *testing.T) {
	logPath, copyPath, verifier := copiedLog(t, 5)

	primary := mustRead(t, CheckpointsPath(logPath))
	copied := mustRead(t, copyPath)
	if !bytes.Equal(primary, copied) {
		t.Errorf("checkpoint copy differs from the checkpoints file:\n%s\nwant\n%s", copied, primary)
	}
	if n := bytes.Count(copied, []byte("\n")); n != 3 {
		t.Errorf("checkpoint copy has %d checkpoints, want 3 (at 2, 4 and 5 records)", n)
	}
	if res := verifyWithCheckpointsFile(t, logPath, copyPath, verifier); res.SignedCheckpoints != 3 {
		t.Errorf("verifying against the copy checked %d signed checkpoints, want 3", res.SignedCheckpoints)
	}
}

// Archiving prunes the log's checkpoints file but not the copy, which
// still verifies the live log.
func TestCheckpointCopyKeptByArchive(t *testing.T) {
	logPath, copyPath, verifier := copiedLog(t, 5)
	before := mustRead(t, copyPath)

	_, err := Archive(logPath, ArchiveOptions{Before: time.Now().Add(time.Hour), Dir: filepath.Join(t.TempDir(), "archive"), Verifier: verifier})
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}

	if after := mustRead(t, copyPath); !bytes.Equal(before, after) {
		t.Error("Archive changed the checkpoint copy")
	}
	res := verifyWithCheckpointsFile(t, logPath, copyPath, verifier)
	if res.Archived != 5 || !res.AnchorVerified || res.ArchivedCheckpoints != 2 {
		t.Errorf("verifying the archived log against the copy = %+v, want 5 archived, anchor verified, 2 archived checkpoints", res)
	}
}

func TestCheckpointCopyRejectsOwnFile(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	_, err := OpenFileWithOptions(logPath, FileOptions{CheckpointCopy: CheckpointsPath(logPath)})
	if err == nil || !strings.Contains(err.Error(), "is the log's own checkpoints file") {
		t.Errorf("OpenFileWithOptions with the copy at the checkpoints file = %v, want an error", err)
	}
}

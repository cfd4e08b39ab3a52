package audit

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
)

// Damage describes the first record that breaks the log's chain.
type Damage struct {
	// Line is the 1-based line number of the damaged record. In a log
	// whose earliest records were archived, line 1 is the anchor.
	Line int
	// Seq is the sequence number of the first bad record: the one that
	// belongs on Line. For damage that only a checkpoint shows, it is the
	// first record the checkpoint no longer vouches for.
	Seq    uint64
	Kind   DamageKind
	Reason string
}

func (d *Damage) Error() string {
	return fmt.Sprintf("line %d: %s", d.Line, d.Reason)
}

// VerifyResult summarises a verified log.
type VerifyResult struct {
	Records  int
	LastHash string
	// Checkpoints is the number of checkpoints checked; SignedCheckpoints
	// of them had their signature verified.
	Checkpoints       int
	SignedCheckpoints int
	// Archived is the number of records moved to an archive before the
	// log's first record, as its anchor states. AnchorVerified reports
	// whether a checkpoint covering them matched the anchor.
	Archived       uint64
	AnchorVerified bool
	// ArchivedCheckpoints counts checkpoints that cover archived records
	// only; the archive's own verification checks them.
	ArchivedCheckpoints int
}

// VerifyOptions adds checkpoint checks to Verify.
type VerifyOptions struct {
	// Checkpoints are checked against the tree of the records: each must
	// state the root of the records it covers, and none may cover more
	// records than the log has.
	Checkpoints []Checkpoint
	// Verifier, when set, must verify every checkpoint's signature.
	Verifier note.Verifier
}

// VerifyFileWithCheckpoints is VerifyFile plus the checks of the log's
// checkpoints file, with signatures verified when verifier is set.
func VerifyFileWithCheckpoints(path string, verifier note.Verifier) (VerifyResult, error) {
	return VerifyFileAgainst(path, CheckpointsPath(path), verifier)
}

// VerifyFileAgainst is VerifyFileWithCheckpoints with the checkpoints read
// from checkpointsPath, such as the second copy that audit.checkpoint_copy
// keeps elsewhere.
func VerifyFileAgainst(path, checkpointsPath string, verifier note.Verifier) (VerifyResult, error) {
	cps, err := readCheckpoints(checkpointsPath)
	if err != nil {
		return VerifyResult{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	return VerifyWithOptions(f, VerifyOptions{Checkpoints: cps, Verifier: verifier})
}

// VerifyFile checks every record of the log at path: that it decodes with
// no unknown fields, that its sequence number follows the one before, that
// its prev_hash names the record before, and that its hash matches its
// canonical encoding. It returns a *Damage error for the first record that
// fails, or another error when the file cannot be read.
//
// The chain alone cannot show that records were cut from the end of the
// log; VerifyFileWithCheckpoints can, up to the last checkpoint.
func VerifyFile(path string) (VerifyResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	return Verify(f)
}

// Verify checks a log read from r; see VerifyFile.
func Verify(r io.Reader) (VerifyResult, error) {
	return VerifyWithOptions(r, VerifyOptions{})
}

// VerifyWithOptions checks a log read from r and, with options, its
// checkpoints. Record damage is reported first, at its line. A checkpoint
// whose root does not match points at the records since the previous good
// checkpoint, because the chain alone no longer shows which one changed.
// A log that starts with an anchor (see Archive) continues the tree and
// chain of its archived records.
func VerifyWithOptions(r io.Reader, opts VerifyOptions) (VerifyResult, error) {
	return verifyLog(r, opts)
}

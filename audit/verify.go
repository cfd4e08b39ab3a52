package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
)

// Damage describes the first record that breaks the log's chain.
type Damage struct {
	// Line is the 1-based line number of the damaged record.
	Line   int
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
	cps, err := readCheckpoints(CheckpointsPath(path))
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
func VerifyWithOptions(r io.Reader, opts VerifyOptions) (VerifyResult, error) {
	var res VerifyResult
	type expected struct {
		size uint64
		root []byte
	}
	var want []expected
	for i, c := range opts.Checkpoints {
		size, root, err := openCheckpoint(c, opts.Verifier)
		if err != nil {
			return res, &Damage{Line: int(c.Size), Reason: fmt.Sprintf("checkpoint %d (size %d): %v", i+1, c.Size, err)}
		}
		if len(want) > 0 && size < want[len(want)-1].size {
			return res, &Damage{Line: int(size), Reason: fmt.Sprintf("checkpoint %d covers %d records, fewer than the one before it", i+1, size)}
		}
		want = append(want, expected{size, root})
	}
	t := newTree()
	verified := uint64(0) // records covered by the last matching checkpoint
	checkAt := func() *Damage {
		for len(want) > 0 && want[0].size == t.size() {
			if !bytes.Equal(want[0].root, t.root()) {
				return &Damage{Line: int(verified) + 1, Reason: fmt.Sprintf("records %d to %d do not match the signed checkpoint for %d records: one of them was edited, inserted, removed or moved, and the chain was rewritten to hide it", verified+1, t.size(), t.size())}
			}
			verified = t.size()
			res.Checkpoints++
			if opts.Verifier != nil {
				res.SignedCheckpoints++
			}
			want = want[1:]
		}
		return nil
	}
	if d := checkAt(); d != nil {
		return res, d
	}

	sc := scanLines(r)
	prev := ""
	line := 0
	for sc.Scan() {
		line++
		raw := sc.Bytes()

		var rec Record
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return res, &Damage{Line: line, Reason: fmt.Sprintf("record does not decode: %v", err)}
		}
		if rec.Version != Version {
			return res, &Damage{Line: line, Reason: fmt.Sprintf("unsupported record version %d", rec.Version)}
		}
		if rec.Seq != uint64(line) {
			return res, &Damage{Line: line, Reason: fmt.Sprintf("sequence number is %d, want %d: a record was deleted, inserted or moved", rec.Seq, line)}
		}
		if rec.PrevHash != prev {
			return res, &Damage{Line: line, Reason: "prev_hash does not match the previous record's hash: a record before it was changed, deleted or moved"}
		}
		want, err := rec.computeHash()
		if err != nil {
			return res, &Damage{Line: line, Reason: fmt.Sprintf("record does not encode: %v", err)}
		}
		if rec.Hash != want {
			return res, &Damage{Line: line, Reason: "hash does not match the record's content: the record was edited"}
		}
		canonical, err := rec.canonicalWithHash()
		if err != nil || !bytes.Equal(canonical, raw) {
			return res, &Damage{Line: line, Reason: "record is not in canonical encoding: the line was edited"}
		}
		prev = rec.Hash
		res.Records++
		res.LastHash = rec.Hash
		t.append(raw)
		if d := checkAt(); d != nil {
			return res, d
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("reading audit log: %w", err)
	}
	if len(want) > 0 {
		return res, &Damage{Line: res.Records + 1, Reason: fmt.Sprintf("the log ends after %d records but a checkpoint covers %d: records were cut off the end", res.Records, want[0].size)}
	}
	return res, nil
}

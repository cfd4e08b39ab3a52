package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
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
}

// VerifyFile checks every record of the log at path: that it decodes with
// no unknown fields, that its sequence number follows the one before, that
// its prev_hash names the record before, and that its hash matches its
// canonical encoding. It returns a *Damage error for the first record that
// fails, or another error when the file cannot be read.
//
// NOTE: the chain alone cannot show that records were cut from the end of
// the log. Compare VerifyResult.LastHash and Records with values kept
// elsewhere until signed checkpoints exist.
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
	var res VerifyResult
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
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("reading audit log: %w", err)
	}
	return res, nil
}

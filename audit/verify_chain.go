package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/note"
)

// DamageKind classifies the first damage that verification finds.
type DamageKind string

// Damage kinds. Verification reports the first damage only, so a log
// damaged in several ways shows the kind of its earliest damage.
const (
	// DamageMalformed is a line that does not decode as a record, has an
	// unknown field or an unsupported version.
	DamageMalformed DamageKind = "malformed"
	// DamageEdited is a record whose content no longer matches its hash
	// or its canonical encoding, or whose link to the record before it
	// is broken while its sequence number is right.
	DamageEdited DamageKind = "edited"
	// DamageDeleted is a gap in the sequence numbers.
	DamageDeleted DamageKind = "deleted"
	// DamageInserted is a record whose sequence number was already used.
	DamageInserted DamageKind = "inserted"
	// DamageReordered is a record out of sequence whose missing
	// predecessor appears later in the log.
	DamageReordered DamageKind = "reordered"
	// DamageRewritten is a run of records with an intact chain that does
	// not match the signed checkpoint covering it: the chain was
	// recomputed after an edit, insertion, deletion or move.
	DamageRewritten DamageKind = "rewritten"
	// DamageTruncated is a log with fewer records than a checkpoint
	// covers.
	DamageTruncated DamageKind = "truncated"
	// DamageBadSignature is a checkpoint whose signature does not verify
	// with the given public key.
	DamageBadSignature DamageKind = "bad_signature"
	// DamageBadCheckpoint is a checkpoint entry that does not parse or
	// contradicts its own note.
	DamageBadCheckpoint DamageKind = "bad_checkpoint"
	// DamageInconsistentCheckpoints is two validly signed checkpoints
	// that cannot both describe one log: equal sizes with different
	// roots, a smaller size after a larger one, or an earlier checkpoint
	// that disagrees with records a later one matches.
	DamageInconsistentCheckpoints DamageKind = "inconsistent_checkpoints"
	// DamageBadAnchor is an anchor line (the first line of a log whose
	// earliest records were archived) that does not decode or does not
	// match the signed checkpoint of the archived records.
	DamageBadAnchor DamageKind = "bad_anchor"
)

// chainLink is the part of a record that the chain links.
type chainLink struct {
	seq            uint64
	prevHash, hash string
}

type expectedCheckpoint struct {
	index int // 1-based position in the checkpoints file
	size  uint64
	root  []byte
}

// chainVerifier checks a log line by line. It holds the state between
// lines: the last good record, the Merkle tree so far, and the
// checkpoints still to match.
type chainVerifier struct {
	opts VerifyOptions
	sc   *bufio.Scanner
	res  VerifyResult

	line        int    // lines read so far
	anchorLines int    // 1 when the log starts with an anchor
	base        uint64 // records archived before the first line
	prev        chainLink
	prevPrev    string // the hash prev links to, for rival records

	tree     *tree
	want     []expectedCheckpoint
	started  bool
	verified uint64 // tree size of the last matching checkpoint

	// pending is a checkpoint mismatch held back while later records are
	// read, to tell a rewritten chain from inconsistent checkpoints.
	pending    *Damage
	pendingRes VerifyResult
}

// verifyLog is VerifyWithOptions.
func verifyLog(r io.Reader, opts VerifyOptions) (VerifyResult, error) {
	v := &chainVerifier{opts: opts, sc: scanLines(r), tree: newTree()}

	for v.sc.Scan() {
		v.line++
		raw := v.sc.Bytes()
		if v.line == 1 && isAnchorLine(raw) {
			if d := v.readAnchor(raw); d != nil {
				return v.res, d
			}
			continue
		}

		if d := v.start(); d != nil {
			return v.res, d
		}
		if d := v.record(raw); d != nil {
			if v.pending != nil {
				return v.pendingRes, v.pending
			}
			return v.res, d
		}
	}
	if err := v.sc.Err(); err != nil {
		return v.res, fmt.Errorf("reading audit log: %w", err)
	}

	if d := v.start(); d != nil {
		return v.res, d
	}
	if v.pending != nil {
		return v.pendingRes, v.pending
	}
	if len(v.want) > 0 {
		next := v.prev.seq + 1
		return v.res, &Damage{Line: v.line + 1, Seq: next, Kind: DamageTruncated, Reason: fmt.Sprintf("the log ends after %d records but a checkpoint covers %d: records were cut off the end", v.prev.seq, v.want[0].size)}
	}
	return v.res, nil
}

// lineOf returns the line that holds, or should hold, record seq.
func (v *chainVerifier) lineOf(seq uint64) int {
	if seq <= v.base {
		return 1
	}
	return int(seq-v.base) + v.anchorLines
}

func (v *chainVerifier) readAnchor(raw []byte) *Damage {
	a, err := parseAnchor(raw)
	if err != nil {
		return &Damage{Line: 1, Kind: DamageBadAnchor, Reason: err.Error()}
	}
	t, err := a.tree()
	if err != nil {
		return &Damage{Line: 1, Kind: DamageBadAnchor, Reason: err.Error()}
	}
	v.anchorLines, v.base, v.tree = 1, a.Records, t
	v.prev = chainLink{seq: a.Records, hash: a.PrevHash}
	v.res.Archived = a.Records
	return nil
}

// start opens the checkpoints, once, after the anchor and before the
// first record.
func (v *chainVerifier) start() *Damage {
	if v.started {
		return nil
	}
	v.started = true
	if d := v.openCheckpoints(); d != nil {
		return d
	}
	return v.checkAt()
}

// openCheckpoints checks each checkpoint's signature and its order
// against the others. Checkpoints of archived records alone are counted
// and left to the archive's own verification.
func (v *chainVerifier) openCheckpoints() *Damage {
	var last *expectedCheckpoint
	smaller := v.base // size of the last checkpoint smaller than last
	for i, c := range v.opts.Checkpoints {
		size, root, err := openCheckpoint(c, v.opts.Verifier)
		if err != nil {
			kind := DamageBadCheckpoint
			var invalid *note.InvalidSignatureError
			var unverified *note.UnverifiedNoteError
			if errors.As(err, &invalid) || errors.As(err, &unverified) {
				kind = DamageBadSignature
			}
			first := v.base + 1
			if last != nil && last.size >= v.base {
				first = last.size + 1
			}
			return &Damage{Line: v.lineOf(first), Seq: first, Kind: kind, Reason: fmt.Sprintf("checkpoint %d (size %d): %v", i+1, c.Size, err)}
		}
		cur := expectedCheckpoint{index: i + 1, size: size, root: root}
		if last != nil {
			if size < last.size {
				return &Damage{Line: v.lineOf(size + 1), Seq: size + 1, Kind: DamageInconsistentCheckpoints, Reason: fmt.Sprintf("checkpoint %d covers %d records, fewer than the one before it (%d)", i+1, size, last.size)}
			}
			if size > last.size {
				smaller = max(smaller, last.size)
			}
			if size == last.size && !bytes.Equal(root, last.root) {
				return &Damage{Line: v.lineOf(smaller + 1), Seq: smaller + 1, Kind: DamageInconsistentCheckpoints, Reason: fmt.Sprintf("checkpoints %d and %d both cover %d records but sign different root hashes: the signer signed two different histories", last.index, i+1, size)}
			}
		}
		last = &cur
		if size < v.base {
			v.res.ArchivedCheckpoints++
			continue
		}
		v.want = append(v.want, cur)
	}
	return nil
}

// checkAt compares the tree with every checkpoint of its current size.
func (v *chainVerifier) checkAt() *Damage {
	for len(v.want) > 0 && v.want[0].size == v.tree.size() {
		w := v.want[0]
		v.want = v.want[1:]
		size := v.tree.size()

		if bytes.Equal(w.root, v.tree.root()) {
			if v.pending != nil {
				return v.inconsistent(w)
			}
			v.verified = size
			v.res.Checkpoints++
			if v.opts.Verifier != nil {
				v.res.SignedCheckpoints++
			}
			if v.base > 0 {
				v.res.AnchorVerified = true
			}
			continue
		}

		if size == v.base {
			return &Damage{Line: 1, Seq: v.base, Kind: DamageBadAnchor, Reason: fmt.Sprintf("the anchor's range does not match checkpoint %d for the %d archived records: the anchor was edited", w.index, size)}
		}
		if v.pending == nil {
			first := max(v.verified, v.base) + 1
			v.pending = &Damage{Line: v.lineOf(first), Seq: first, Kind: DamageRewritten, Reason: fmt.Sprintf("records %d to %d do not match the signed checkpoint for %d records: one of them was edited, inserted, removed or moved, and the chain was rewritten to hide it", first, size, size)}
			v.pendingRes = v.res
			v.pendingRes.Records = int(first - 1 - v.base)
		}
	}
	return nil
}

// inconsistent turns the pending mismatch into inconsistent checkpoints:
// a later checkpoint, w, matches the records that an earlier one did not.
func (v *chainVerifier) inconsistent(w expectedCheckpoint) *Damage {
	d := *v.pending
	d.Kind = DamageInconsistentCheckpoints
	d.Reason = fmt.Sprintf("%s; but checkpoint %d for %d records matches the log, so the two checkpoints sign different histories", d.Reason, w.index, w.size)
	v.res = v.pendingRes
	v.pending = nil
	return &d
}

// record checks one record line.
func (v *chainVerifier) record(raw []byte) *Damage {
	seq := v.prev.seq + 1
	damage := func(kind DamageKind, format string, args ...any) *Damage {
		return &Damage{Line: v.line, Seq: seq, Kind: kind, Reason: fmt.Sprintf(format, args...)}
	}

	var rec Record
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return damage(DamageMalformed, "record does not decode: %v", err)
	}
	if rec.Version != Version {
		return damage(DamageMalformed, "unsupported record version %d", rec.Version)
	}
	if rec.Seq != seq {
		return v.sequenceDamage(&rec)
	}
	if rec.PrevHash != v.prev.hash {
		if v.prev.seq == v.base && v.base > 0 {
			return damage(DamageEdited, "prev_hash does not match the anchor's prev_hash: the record or the anchor was edited")
		}
		return damage(DamageEdited, "prev_hash does not match the previous record's hash: a record before it was changed, deleted or moved")
	}
	want, err := rec.computeHash()
	if err != nil {
		return damage(DamageMalformed, "record does not encode: %v", err)
	}
	if rec.Hash != want {
		return damage(DamageEdited, "hash does not match the record's content: the record was edited")
	}
	canonical, err := rec.canonicalWithHash()
	if err != nil || !bytes.Equal(canonical, raw) {
		return damage(DamageEdited, "record is not in canonical encoding: the line was edited")
	}

	v.prevPrev = v.prev.hash
	v.prev = chainLink{seq: seq, prevHash: rec.PrevHash, hash: rec.Hash}
	v.res.Records++
	v.res.LastHash = rec.Hash
	v.tree.append(raw)
	return v.checkAt()
}

// sequenceDamage classifies a record whose sequence number is not the
// next one. It reads the rest of the log to tell a deletion from a move.
func (v *chainVerifier) sequenceDamage(rec *Record) *Damage {
	want := v.prev.seq + 1
	next, hasNext, wantLater := v.readRest(want)
	d := &Damage{Line: v.line, Seq: want}
	found := fmt.Sprintf("sequence number is %d, want %d", rec.Seq, want)

	switch {
	case rec.Seq > want && wantLater:
		d.Kind = DamageReordered
		d.Reason = fmt.Sprintf("%s: records are out of order, and record %d comes later in the log", found, want)
	case rec.Seq > want:
		d.Kind = DamageDeleted
		if rec.Seq == want+1 {
			d.Reason = fmt.Sprintf("%s: record %d was deleted", found, want)
		} else {
			d.Reason = fmt.Sprintf("%s: records %d to %d were deleted", found, want, rec.Seq-1)
		}
	case rec.Hash == v.prev.hash:
		d.Kind = DamageInserted
		d.Reason = fmt.Sprintf("%s: the record is a copy of the one before it, inserted", found)
	case rec.Seq == v.prev.seq && rec.PrevHash == v.prev.prevHash && v.res.Records > 0 && hasNext && next.prevHash == rec.Hash:
		// Two records claim the previous slot, and the chain goes on from
		// this one: the previous line is the intruder, though it chains.
		d.Line--
		d.Seq = rec.Seq
		d.Kind = DamageInserted
		d.Reason = fmt.Sprintf("record %d was inserted: line %d holds another record %d with the same prev_hash, and the records after it link to that one", rec.Seq, v.line, rec.Seq)
		v.res.Records--
		v.res.LastHash = v.prevPrev
	default:
		d.Kind = DamageInserted
		d.Reason = fmt.Sprintf("%s: record %d appears a second time, so a record was inserted", found, rec.Seq)
	}
	return d
}

// readRest reads the remaining lines and returns the first one's link and
// whether record seq appears among them. Lines that do not decode are
// skipped.
func (v *chainVerifier) readRest(seq uint64) (next chainLink, hasNext, seqLater bool) {
	for i := 0; v.sc.Scan(); i++ {
		var l struct {
			Seq      uint64 `json:"seq"`
			PrevHash string `json:"prev_hash"`
			Hash     string `json:"hash"`
		}
		if json.Unmarshal(v.sc.Bytes(), &l) != nil {
			continue
		}
		if i == 0 {
			next, hasNext = chainLink{seq: l.Seq, prevHash: l.PrevHash, hash: l.Hash}, true
		}
		if l.Seq == seq {
			seqLater = true
		}
	}
	return next, hasNext, seqLater
}

package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// tamperedLog is a log file and its checkpoints, loaded for editing the
// way someone with write access to the files could.
type tamperedLog struct {
	t        *testing.T
	lines    []string // lines of the log, the anchor first if there is one
	cps      []Checkpoint
	signer   note.Signer
	anchored bool
}

func loadTampered(t *testing.T, l builtLog) *tamperedLog {
	t.Helper()
	cps, err := readCheckpoints(CheckpointsPath(l.path))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(mustRead(t, l.path)), "\n"), "\n")
	return &tamperedLog{t: t, lines: lines, cps: cps, signer: l.signer, anchored: isAnchorLine([]byte(lines[0]))}
}

func (tl *tamperedLog) save(path string) {
	tl.t.Helper()
	if err := os.WriteFile(path, []byte(joinLines(tl.lines)), 0o600); err != nil {
		tl.t.Fatal(err)
	}
	var buf strings.Builder
	for _, c := range tl.cps {
		line, err := json.Marshal(c)
		if err != nil {
			tl.t.Fatal(err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(CheckpointsPath(path), []byte(buf.String()), 0o600); err != nil {
		tl.t.Fatal(err)
	}
}

// index returns the position in lines of record seq.
func (tl *tamperedLog) index(seq int) int {
	tl.t.Helper()
	for i, line := range tl.lines {
		if strings.Contains(line, fmt.Sprintf(`"seq":%d,`, seq)) {
			return i
		}
	}
	tl.t.Fatalf("no record %d in the log", seq)
	return -1
}

func (tl *tamperedLog) decode(i int) *Record {
	tl.t.Helper()
	var rec Record
	if err := json.Unmarshal([]byte(tl.lines[i]), &rec); err != nil {
		tl.t.Fatal(err)
	}
	return &rec
}

func (tl *tamperedLog) encode(rec *Record) string {
	tl.t.Helper()
	var err error
	if rec.Hash, err = rec.computeHash(); err != nil {
		tl.t.Fatal(err)
	}
	line, err := rec.canonicalWithHash()
	if err != nil {
		tl.t.Fatal(err)
	}
	return string(line)
}

// rechain recomputes prev_hash and hash of every record from position
// from onwards, as a forger hiding an edit would.
func (tl *tamperedLog) rechain(from int) {
	tl.t.Helper()
	prev := ""
	switch {
	case from > 0 && isAnchorLine([]byte(tl.lines[from-1])):
		a, err := parseAnchor([]byte(tl.lines[from-1]))
		if err != nil {
			tl.t.Fatal(err)
		}
		prev = a.PrevHash
	case from > 0:
		prev = tl.decode(from - 1).Hash
	}
	for i := from; i < len(tl.lines); i++ {
		rec := tl.decode(i)
		rec.PrevHash = prev
		tl.lines[i] = tl.encode(rec)
		prev = rec.Hash
	}
}

// sign returns a checkpoint for the first size records of the log as it
// is now, signed with the log's own key.
func (tl *tamperedLog) sign(size uint64) Checkpoint {
	tl.t.Helper()
	tr := newTree()
	for _, line := range tl.lines {
		if isAnchorLine([]byte(line)) {
			a, err := parseAnchor([]byte(line))
			if err != nil {
				tl.t.Fatal(err)
			}
			if tr, err = a.tree(); err != nil {
				tl.t.Fatal(err)
			}
			continue
		}
		if tr.size() == size {
			break
		}
		tr.append([]byte(line))
	}
	text, err := signCheckpoint(tl.signer, size, tr.root())
	if err != nil {
		tl.t.Fatal(err)
	}
	return Checkpoint{Size: size, Note: text}
}

// checkpoint returns the position of the checkpoint for size records.
func (tl *tamperedLog) checkpoint(size uint64) int {
	tl.t.Helper()
	i := slices.IndexFunc(tl.cps, func(c Checkpoint) bool { return c.Size == size })
	if i < 0 {
		tl.t.Fatalf("no checkpoint for %d records", size)
	}
	return i
}

// TestTamperingFound damages a log of 20 records with checkpoints every 5
// in each way a forger with write access to the files could, and checks
// that verification names the first bad record and the kind of damage.
// Each case runs on a whole log and on one whose first 5 records were
// archived, so that it starts with an anchor.
func TestTamperingFound(t *testing.T) {
	tests := []struct {
		name     string
		pruned   bool // only for the log with an anchor
		damage   func(tl *tamperedLog)
		wantKind DamageKind
		wantSeq  uint64
		wantLine int // 0: the line of record wantSeq
		want     string
	}{
		{
			name: "edited field",
			damage: func(tl *tamperedLog) {
				i := tl.index(8)
				tl.lines[i] = strings.Replace(tl.lines[i], `"tenant":"clinic-a"`, `"tenant":"clinic-b"`, 1)
			},
			wantKind: DamageEdited, wantSeq: 8, want: "hash does not match",
		},
		{
			name: "deleted record",
			damage: func(tl *tamperedLog) {
				i := tl.index(8)
				tl.lines = slices.Delete(tl.lines, i, i+1)
			},
			wantKind: DamageDeleted, wantSeq: 8, want: "record 8 was deleted",
		},
		{
			name: "deleted records",
			damage: func(tl *tamperedLog) {
				i := tl.index(8)
				tl.lines = slices.Delete(tl.lines, i, i+3)
			},
			wantKind: DamageDeleted, wantSeq: 8, want: "records 8 to 10 were deleted",
		},
		{
			name: "inserted record",
			damage: func(tl *tamperedLog) {
				// A forged record 8 that links to record 7 and has a valid
				// hash, placed before the real record 8.
				i := tl.index(8)
				forged := tl.decode(i)
				forged.RequestID, forged.Action = "req-forged", "deny"
				tl.lines = slices.Insert(tl.lines, i, tl.encode(forged))
			},
			wantKind: DamageInserted, wantSeq: 8, want: "record 8 was inserted",
		},
		{
			name: "inserted copy",
			damage: func(tl *tamperedLog) {
				tl.lines = slices.Insert(tl.lines, tl.index(12)+1, tl.lines[tl.index(7)])
			},
			wantKind: DamageInserted, wantSeq: 13, want: "record 7 appears a second time",
		},
		{
			name: "reordered records",
			damage: func(tl *tamperedLog) {
				i, j := tl.index(8), tl.index(9)
				tl.lines[i], tl.lines[j] = tl.lines[j], tl.lines[i]
			},
			wantKind: DamageReordered, wantSeq: 8, want: "record 8 comes later",
		},
		{
			name: "record moved to the end",
			damage: func(tl *tamperedLog) {
				i := tl.index(8)
				moved := tl.lines[i]
				tl.lines = append(slices.Delete(tl.lines, i, i+1), moved)
			},
			wantKind: DamageReordered, wantSeq: 8, want: "sequence number is 9, want 8",
		},
		{
			name: "truncated after a checkpoint",
			damage: func(tl *tamperedLog) {
				tl.lines = tl.lines[:tl.index(16)+1]
			},
			wantKind: DamageTruncated, wantSeq: 17, want: "ends after 16 records but a checkpoint covers 20",
		},
		{
			name: "checkpoint with a bad signature",
			damage: func(tl *tamperedLog) {
				// Change one base64 digit of the signature bytes, after
				// the 4-byte key hash that the first 6 digits encode.
				i := tl.checkpoint(15)
				sig := strings.LastIndex(tl.cps[i].Note, " ") + 10
				b := []byte(tl.cps[i].Note)
				if b[sig] == 'A' {
					b[sig] = 'B'
				} else {
					b[sig] = 'A'
				}
				tl.cps[i].Note = string(b)
			},
			wantKind: DamageBadSignature, wantSeq: 11, want: "checkpoint 3 (size 15)",
		},
		{
			name: "checkpoint signed by another key",
			damage: func(tl *tamperedLog) {
				private, _, err := GenerateCheckpointKey("phigate.test/audit")
				if err != nil {
					tl.t.Fatal(err)
				}
				genuine := tl.signer
				if tl.signer, err = note.NewSigner(private); err != nil {
					tl.t.Fatal(err)
				}
				tl.cps[tl.checkpoint(15)] = tl.sign(15)
				tl.signer = genuine
			},
			wantKind: DamageBadSignature, wantSeq: 11, want: "signature does not verify",
		},
		{
			name: "two inconsistent checkpoints",
			damage: func(tl *tamperedLog) {
				// The signer also signed a checkpoint for 10 records over a
				// history where record 8 differs.
				genuine := slices.Clone(tl.lines)
				i := tl.index(8)
				tl.lines[i] = strings.Replace(tl.lines[i], `"action":"allow"`, `"action":"deny"`, 1)
				tl.rechain(i)
				other := tl.sign(10)
				tl.lines = genuine
				tl.cps = slices.Insert(tl.cps, tl.checkpoint(10)+1, other)
			},
			wantKind: DamageInconsistentCheckpoints, wantSeq: 6, want: "both cover 10 records but sign different root hashes",
		},
		{
			name: "rewritten log re-signed",
			damage: func(tl *tamperedLog) {
				// The forger holds the key: the checkpoints after the edit
				// are signed again, but the one for 10 records remains.
				i := tl.index(8)
				tl.lines[i] = strings.Replace(tl.lines[i], `"action":"allow"`, `"action":"deny"`, 1)
				tl.rechain(i)
				tl.cps[tl.checkpoint(15)] = tl.sign(15)
				tl.cps[tl.checkpoint(20)] = tl.sign(20)
			},
			wantKind: DamageInconsistentCheckpoints, wantSeq: 6, want: "checkpoint 3 for 15 records matches the log",
		},
		{
			name: "record rewritten with a recomputed chain",
			damage: func(tl *tamperedLog) {
				i := tl.index(8)
				tl.lines[i] = strings.Replace(tl.lines[i], `"action":"allow"`, `"action":"deny"`, 1)
				tl.rechain(i)
			},
			wantKind: DamageRewritten, wantSeq: 6, want: "records 6 to 10 do not match the signed checkpoint for 10 records",
		},
		{
			name: "record deleted with a recomputed chain",
			damage: func(tl *tamperedLog) {
				i := tl.index(12)
				tl.lines = slices.Delete(tl.lines, i, i+1)
				for j := i; j < len(tl.lines); j++ {
					rec := tl.decode(j)
					rec.Seq--
					tl.lines[j] = tl.encode(rec)
				}
				tl.rechain(i)
			},
			wantKind: DamageRewritten, wantSeq: 11, want: "records 11 to 15 do not match",
		},
		{
			name:   "edited anchor range",
			pruned: true,
			damage: func(tl *tamperedLog) {
				var al anchorLine
				if err := json.Unmarshal([]byte(tl.lines[0]), &al); err != nil {
					tl.t.Fatal(err)
				}
				al.Anchor.Range[0][0] ^= 1
				line, err := al.Anchor.encode()
				if err != nil {
					tl.t.Fatal(err)
				}
				tl.lines[0] = string(line)
			},
			wantKind: DamageBadAnchor, wantSeq: 5, wantLine: 1, want: "anchor's range does not match checkpoint 1",
		},
		{
			name:   "edited anchor prev_hash",
			pruned: true,
			damage: func(tl *tamperedLog) {
				var al anchorLine
				if err := json.Unmarshal([]byte(tl.lines[0]), &al); err != nil {
					tl.t.Fatal(err)
				}
				al.Anchor.PrevHash = strings.Repeat("0", 64)
				line, err := al.Anchor.encode()
				if err != nil {
					tl.t.Fatal(err)
				}
				tl.lines[0] = string(line)
			},
			wantKind: DamageEdited, wantSeq: 6, want: "does not match the anchor's prev_hash",
		},
		{
			name:     "anchor removed",
			pruned:   true,
			damage:   func(tl *tamperedLog) { tl.lines = tl.lines[1:] },
			wantKind: DamageDeleted, wantSeq: 1, wantLine: 1, want: "records 1 to 5 were deleted",
		},
	}
	for _, variant := range []struct {
		name     string
		archived uint64
	}{{"whole log", 0}, {"archived log", 5}} {
		for _, tt := range tests {
			if tt.pruned && variant.archived == 0 {
				continue
			}
			t.Run(variant.name+"/"+tt.name, func(t *testing.T) {
				l := buildLog(t, 20, 5, nil)
				if variant.archived > 0 {
					opts := archiveOpts(t, l, before(int(variant.archived)+2))
					if m, err := Archive(l.path, opts); err != nil || m.LastSeq != variant.archived {
						t.Fatalf("Archive = %+v, %v; want records 1 to %d archived", m, err, variant.archived)
					}
				}
				if _, err := VerifyFileWithCheckpoints(l.path, l.verifier); err != nil {
					t.Fatalf("the log verifies before the damage: %v", err)
				}
				tl := loadTampered(t, l)
				tt.damage(tl)
				tl.save(l.path)

				_, err := VerifyFileWithCheckpoints(l.path, l.verifier)

				var d *Damage
				if !errors.As(err, &d) {
					t.Fatalf("verify = %v, want a *Damage", err)
				}
				if d.Kind != tt.wantKind {
					t.Errorf("Damage.Kind = %s, want %s (%s)", d.Kind, tt.wantKind, d.Reason)
				}
				if d.Seq != tt.wantSeq {
					t.Errorf("Damage.Seq = %d, want %d (%s)", d.Seq, tt.wantSeq, d.Reason)
				}
				wantLine := tt.wantLine
				if wantLine == 0 {
					wantLine = int(tt.wantSeq - variant.archived)
					if variant.archived > 0 {
						wantLine++
					}
				}
				if d.Line != wantLine {
					t.Errorf("Damage.Line = %d, want %d (%s)", d.Line, wantLine, d.Reason)
				}
				if !strings.Contains(d.Reason, tt.want) {
					t.Errorf("Damage.Reason = %q, want it to contain %q", d.Reason, tt.want)
				}
			})
		}
	}
}

// A sealed object copied into another record cannot be hidden: the copy
// changes that record's hash, a recomputed chain breaks the checkpoint,
// and the copy does not open.
func TestTamperingMovedSealedFields(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	l := buildLog(t, 10, 5, s)
	tl := loadTampered(t, l)
	from, to := tl.decode(tl.index(9)), tl.decode(tl.index(8))
	to.Sealed = from.Sealed
	tl.lines[tl.index(8)] = tl.encode(to)
	tl.rechain(tl.index(8))
	tl.save(l.path)

	_, err := VerifyFileWithCheckpoints(l.path, l.verifier)
	var d *Damage
	if !errors.As(err, &d) || d.Kind != DamageRewritten || d.Seq != 6 {
		t.Errorf("verify = %v, want records from 6 rewritten", err)
	}
	if err := s.Open(tl.decode(tl.index(8))); err == nil || !strings.Contains(err.Error(), "moved from another record") {
		t.Errorf("Open of the moved sealed fields = %v, want an authentication error", err)
	}
}

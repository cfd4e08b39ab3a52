package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// day0 is the time of the first record of logs built by buildLog.
var day0 = time.Date(2018, 3, 1, 9, 0, 0, 0, time.UTC)

// builtLog is a log written by buildLog, with its checkpoint keys.
type builtLog struct {
	path     string
	signer   note.Signer
	verifier note.Verifier
}

// buildLog writes a log of n records, record i appended on day i (day0
// is day 1), signing a checkpoint every `every` records, in the format
// FileLog writes. FileLog stamps records with the current time, so tests
// of time cut-offs need this.
func buildLog(t testing.TB, n, every int, sealer *Sealer) builtLog {
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

	var buf bytes.Buffer
	tr := newTree()
	prev := ""
	for i := 1; i <= n; i++ {
		rec := sampleRecord(i)
		rec.Version, rec.Seq, rec.PrevHash = Version, uint64(i), prev
		rec.Time = day0.AddDate(0, 0, i-1).Format(time.RFC3339Nano)
		if sealer != nil {
			if err := sealer.Seal(rec); err != nil {
				t.Fatal(err)
			}
		}
		if rec.Hash, err = rec.computeHash(); err != nil {
			t.Fatal(err)
		}
		line, err := rec.canonicalWithHash()
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		tr.append(line)
		prev = rec.Hash
		if i%every == 0 {
			appendTestCheckpoint(t, path, signer, tr)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return builtLog{path: path, signer: signer, verifier: verifier}
}

func appendTestCheckpoint(t testing.TB, logPath string, signer note.Signer, tr *tree) Checkpoint {
	t.Helper()
	text, err := signCheckpoint(signer, tr.size(), tr.root())
	if err != nil {
		t.Fatal(err)
	}
	c := Checkpoint{Size: tr.size(), Note: text}
	if err := appendCheckpoint(CheckpointsPath(logPath), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// before returns the cut-off that makes records 1 to n older than it.
func before(n int) time.Time { return day0.AddDate(0, 0, n).Add(-time.Hour) }

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func archiveOpts(t *testing.T, l builtLog, cutoff time.Time) ArchiveOptions {
	return ArchiveOptions{
		Before:   cutoff,
		Dir:      filepath.Join(t.TempDir(), "archive"),
		Verifier: l.verifier,
		Now:      func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

func TestArchiveMovesRecordsBeforeCheckpoint(t *testing.T) {
	l := buildLog(t, 20, 5, nil)
	opts := archiveOpts(t, l, before(13)) // records 1 to 12 are older

	m, err := Archive(l.path, opts)
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}

	// The largest checkpoint within records 1 to 12 covers 10.
	if m.FirstSeq != 1 || m.LastSeq != 10 || m.Records != 10 {
		t.Errorf("manifest covers records %d to %d (%d), want 1 to 10", m.FirstSeq, m.LastSeq, m.Records)
	}
	if m.Checkpoint.Size != 10 {
		t.Errorf("manifest checkpoint covers %d records, want 10", m.Checkpoint.Size)
	}
	if want := day0.AddDate(0, 0, 9).Format(time.RFC3339Nano); m.LastTime != want {
		t.Errorf("LastTime = %s, want %s", m.LastTime, want)
	}
	if m.RetainUntil != "2024-03-10" {
		t.Errorf("RetainUntil = %s, want 2024-03-10, six years after the last archived record", m.RetainUntil)
	}
	if m.Created != "2026-01-02T03:04:05Z" {
		t.Errorf("Created = %s, want the time Now returned", m.Created)
	}

	if _, err := VerifyArchive(opts.Dir, l.verifier); err != nil {
		t.Errorf("VerifyArchive: %v", err)
	}
	res, err := VerifyFileWithCheckpoints(filepath.Join(opts.Dir, "audit.jsonl"), l.verifier)
	if err != nil || res.Records != 10 || res.Checkpoints != 2 {
		t.Errorf("verify of the archived log = %+v, %v; want 10 records and checkpoints 5 and 10", res, err)
	}

	res, err = VerifyFileWithCheckpoints(l.path, l.verifier)
	if err != nil {
		t.Fatalf("verify of the live log: %v", err)
	}
	want := VerifyResult{Records: 10, LastHash: res.LastHash, Checkpoints: 3, SignedCheckpoints: 3, Archived: 10, AnchorVerified: true}
	if res != want {
		t.Errorf("verify of the live log = %+v, want %+v", res, want)
	}
	lines := strings.Split(strings.TrimSuffix(string(mustRead(t, l.path)), "\n"), "\n")
	if len(lines) != 11 || !isAnchorLine([]byte(lines[0])) || !strings.Contains(lines[1], `"seq":11,`) {
		t.Errorf("live log has %d lines starting %.40q, want an anchor and records 11 to 20", len(lines), lines[0])
	}
	cps, err := readCheckpoints(CheckpointsPath(l.path))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []uint64
	for _, c := range cps {
		sizes = append(sizes, c.Size)
	}
	if !equalSizes(sizes, []uint64{10, 15, 20}) {
		t.Errorf("live checkpoints cover %v, want [10 15 20]", sizes)
	}
}

// The live log goes on after archiving: phigate reopens it, appends and
// checkpoints, and proofs of its records verify against the full tree.
func TestArchivedLogContinues(t *testing.T) {
	l := buildLog(t, 12, 4, nil)
	if _, err := Archive(l.path, archiveOpts(t, l, before(9))); err != nil {
		t.Fatalf("Archive: %v", err)
	}

	fl, err := OpenFileWithOptions(l.path, FileOptions{Logger: discardLogger(), Signer: l.signer, CheckpointEvery: 3})
	if err != nil {
		t.Fatalf("reopening the pruned log: %v", err)
	}
	for i := range 5 {
		rec := sampleRecord(100 + i)
		if err := fl.Append(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		if rec.Seq != uint64(13+i) {
			t.Errorf("appended record has seq %d, want %d", rec.Seq, 13+i)
		}
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}

	res, err := VerifyFileWithCheckpoints(l.path, l.verifier)
	if err != nil {
		t.Fatalf("verify after appending: %v", err)
	}
	if res.Records != 9 || res.Archived != 8 || !res.AnchorVerified {
		t.Errorf("verify = %+v, want records 9 to 17 after 8 archived", res)
	}
	for i := 9; i <= 17; i++ {
		id := fmt.Sprintf("req-%04d", i)
		if i > 12 {
			id = fmt.Sprintf("req-%04d", 100+i-13)
		}
		proofs, err := Prove(l.path, id)
		if err != nil {
			t.Fatalf("Prove(%s): %v", id, err)
		}
		if proofs[0].LeafIndex != uint64(i-1) {
			t.Errorf("proof of %s has leaf index %d, want %d", id, proofs[0].LeafIndex, i-1)
		}
		checkProof(t, proofs[0], l.verifier)
	}
}

// A second archive starts where the first stopped and carries the first
// one's anchor, so it verifies on its own.
func TestArchiveTwice(t *testing.T) {
	l := buildLog(t, 20, 5, nil)
	first := archiveOpts(t, l, before(7))
	if m, err := Archive(l.path, first); err != nil || m.LastSeq != 5 {
		t.Fatalf("first Archive = %+v, %v; want records 1 to 5", m, err)
	}
	second := archiveOpts(t, l, before(17))

	m, err := Archive(l.path, second)

	if err != nil {
		t.Fatalf("second Archive: %v", err)
	}
	if m.FirstSeq != 6 || m.LastSeq != 15 {
		t.Errorf("second archive covers %d to %d, want 6 to 15", m.FirstSeq, m.LastSeq)
	}
	for _, dir := range []string{first.Dir, second.Dir} {
		if _, err := VerifyArchive(dir, l.verifier); err != nil {
			t.Errorf("VerifyArchive(%s): %v", filepath.Base(filepath.Dir(dir)), err)
		}
	}
	res, err := VerifyFileWithCheckpoints(l.path, l.verifier)
	if err != nil || res.Archived != 15 || res.Records != 5 {
		t.Errorf("verify of the live log = %+v, %v; want records 16 to 20 after 15 archived", res, err)
	}
	res, err = VerifyFileWithCheckpoints(filepath.Join(second.Dir, "audit.jsonl"), l.verifier)
	if err != nil || res.Archived != 5 || res.Records != 10 || !res.AnchorVerified {
		t.Errorf("verify of the second archive's log = %+v, %v; want records 6 to 15 after an anchor for 5", res, err)
	}
}

func TestArchiveEverything(t *testing.T) {
	l := buildLog(t, 10, 5, nil)
	if _, err := Archive(l.path, archiveOpts(t, l, day0.AddDate(1, 0, 0))); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	res, err := VerifyFileWithCheckpoints(l.path, l.verifier)
	if err != nil || res.Records != 0 || res.Archived != 10 || !res.AnchorVerified {
		t.Fatalf("verify of an anchor-only log = %+v, %v", res, err)
	}

	fl, err := OpenFileWithOptions(l.path, FileOptions{Logger: discardLogger(), Signer: l.signer})
	if err != nil {
		t.Fatalf("reopening an anchor-only log: %v", err)
	}
	rec := sampleRecord(11)
	if err := fl.Append(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.Seq != 11 {
		t.Errorf("first record after the anchor has seq %d, want 11", rec.Seq)
	}
	if res, err := VerifyFileWithCheckpoints(l.path, l.verifier); err != nil || res.Records != 1 {
		t.Errorf("verify after appending = %+v, %v", res, err)
	}
}

func TestArchiveRejects(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, l builtLog, opts *ArchiveOptions)
		want    string
		wantErr error
	}{
		{
			name:    "nothing old enough",
			prepare: func(t *testing.T, l builtLog, opts *ArchiveOptions) { opts.Before = before(4) },
			want:    "no checkpoint covers only records from before",
			wantErr: ErrNothingToArchive,
		},
		{
			name:    "no public key",
			prepare: func(t *testing.T, l builtLog, opts *ArchiveOptions) { opts.Verifier = nil },
			want:    "needs the checkpoint public key",
		},
		{
			name: "another key",
			prepare: func(t *testing.T, l builtLog, opts *ArchiveOptions) {
				_, public, _ := GenerateCheckpointKey("phigate.test/audit")
				opts.Verifier, _ = note.NewVerifier(public)
			},
			want: "archive only an intact log",
		},
		{
			name: "damaged log",
			prepare: func(t *testing.T, l builtLog, opts *ArchiveOptions) {
				data := mustRead(t, l.path)
				os.WriteFile(l.path, bytes.Replace(data, []byte(`"tenant":"clinic-a"`), []byte(`"tenant":"clinic-b"`), 1), 0o600)
			},
			want: "archive only an intact log",
		},
		{
			name: "archive directory not empty",
			prepare: func(t *testing.T, l builtLog, opts *ArchiveOptions) {
				os.MkdirAll(opts.Dir, 0o700)
				os.WriteFile(filepath.Join(opts.Dir, ManifestFile), []byte("{}"), 0o600)
			},
			want: "is not empty",
		},
		{
			name: "log held by phigate",
			prepare: func(t *testing.T, l builtLog, opts *ArchiveOptions) {
				fl, err := OpenFileWithOptions(l.path, FileOptions{Logger: discardLogger(), Signer: l.signer})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { fl.Close() })
			},
			want:    "stop phigate serve before archiving",
			wantErr: ErrLogInUse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := buildLog(t, 10, 5, nil)
			opts := archiveOpts(t, l, before(8))
			tt.prepare(t, l, &opts)
			logBefore := mustRead(t, l.path)
			cpsBefore := mustRead(t, CheckpointsPath(l.path))

			_, err := Archive(l.path, opts)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Archive = %v, want an error containing %q", err, tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Archive = %v, want it to wrap %v", err, tt.wantErr)
			}
			if !bytes.Equal(mustRead(t, l.path), logBefore) || !bytes.Equal(mustRead(t, CheckpointsPath(l.path)), cpsBefore) {
				t.Error("a rejected Archive changed the live log or its checkpoints")
			}
		})
	}
}

// A crash between Archive's steps leaves a live log that verifies and an
// archive that verifies, whichever step it interrupts.
func TestArchiveCrashBetweenSteps(t *testing.T) {
	for _, step := range []string{"archive written", "live log replaced"} {
		t.Run(step, func(t *testing.T) {
			l := buildLog(t, 20, 5, nil)
			opts := archiveOpts(t, l, before(13))
			crash := errors.New("simulated crash")
			archiveStep = func(s string) error {
				if s == step {
					return crash
				}
				return nil
			}
			t.Cleanup(func() { archiveStep = func(string) error { return nil } })

			if _, err := Archive(l.path, opts); !errors.Is(err, crash) {
				t.Fatalf("Archive = %v, want the simulated crash", err)
			}

			if _, err := VerifyArchive(opts.Dir, l.verifier); err != nil {
				t.Errorf("VerifyArchive after the crash: %v", err)
			}
			res, err := VerifyFileWithCheckpoints(l.path, l.verifier)
			if err != nil {
				t.Fatalf("verify of the live log after the crash: %v", err)
			}
			if step == "live log replaced" && (res.Archived != 10 || res.ArchivedCheckpoints != 1) {
				t.Errorf("verify = %+v, want 10 archived records and the checkpoint of 5 skipped", res)
			}
			if step == "archive written" && res.Records != 20 {
				t.Errorf("verify = %+v, want the 20 records untouched", res)
			}

			// Archiving again, to a new directory, finishes the job or
			// finds nothing left to do.
			archiveStep = func(string) error { return nil }
			again := opts
			again.Dir = filepath.Join(t.TempDir(), "again")
			_, err = Archive(l.path, again)
			if step == "archive written" && err != nil {
				t.Errorf("Archive again: %v", err)
			}
			if step == "live log replaced" && !errors.Is(err, ErrNothingToArchive) {
				t.Errorf("Archive again = %v, want ErrNothingToArchive", err)
			}
			if _, err := VerifyFileWithCheckpoints(l.path, l.verifier); err != nil {
				t.Errorf("verify after archiving again: %v", err)
			}
		})
	}
}

func TestVerifyArchiveDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{
			name: "edited record",
			damage: func(t *testing.T, dir string) {
				path := filepath.Join(dir, "audit.jsonl")
				os.WriteFile(path, bytes.Replace(mustRead(t, path), []byte(`"action":"allow"`), []byte(`"action":"deny"`), 1), 0o600)
			},
			want: "audit.jsonl has SHA-256",
		},
		{
			name: "dropped checkpoint",
			damage: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "audit.jsonl.checkpoints"), nil, 0o600)
			},
			want: "audit.jsonl.checkpoints has SHA-256",
		},
		{
			name: "manifest record count",
			damage: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *Manifest) { m.LastSeq, m.Records = 9, 9 })
			},
			want: "but its manifest states 1 to 9",
		},
		{
			name: "manifest last hash",
			damage: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *Manifest) { m.LastHash = strings.Repeat("0", 64) })
			},
			want: "but its manifest states 0000",
		},
		{
			name: "manifest file outside the directory",
			damage: func(t *testing.T, dir string) {
				editManifest(t, dir, func(m *Manifest) { m.Log = "../audit.jsonl" })
			},
			want: "want a plain file name",
		},
		{
			name:   "missing manifest",
			damage: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, ManifestFile)) },
			want:   "reading archive manifest",
		},
		{
			name: "unknown manifest field",
			damage: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"v":1,"extra":true}`), 0o600)
			},
			want: "unknown field",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := buildLog(t, 12, 5, nil)
			opts := archiveOpts(t, l, before(12))
			if _, err := Archive(l.path, opts); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, opts.Dir)

			_, err := VerifyArchive(opts.Dir, l.verifier)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("VerifyArchive = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func editManifest(t *testing.T, dir string, edit func(*Manifest)) {
	t.Helper()
	path := filepath.Join(dir, ManifestFile)
	var m Manifest
	if err := json.Unmarshal(mustRead(t, path), &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Sealed records move to the archive byte for byte and still open there:
// the additional data names their seq, which archiving keeps.
func TestArchiveKeepsSealedRecords(t *testing.T) {
	s := newTestSealer(t, "", testSealKey("k1", 1))
	l := buildLog(t, 10, 5, s)
	opts := archiveOpts(t, l, before(7))
	if _, err := Archive(l.path, opts); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{filepath.Join(opts.Dir, "audit.jsonl"), l.path} {
		for i, line := range strings.Split(strings.TrimSuffix(string(mustRead(t, path)), "\n"), "\n") {
			if isAnchorLine([]byte(line)) {
				continue
			}
			var rec Record
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			if err := s.Open(&rec); err != nil {
				t.Errorf("%s line %d: %v", filepath.Base(path), i+1, err)
			}
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"v":1,"log":"audit.jsonl","checkpoints":"audit.jsonl.checkpoints","records":2,"first_seq":1,"last_seq":2}`))
	f.Add([]byte(`{"v":1,"log":"..","records":0}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		if m.Log != filepath.Base(m.Log) || m.Records != m.LastSeq-m.FirstSeq+1 || m.FirstSeq == 0 {
			t.Fatalf("parseManifest accepted %+v", m)
		}
	})
}

func FuzzVerifyArchivedLog(f *testing.F) {
	l := buildLog(f, 6, 2, nil)
	opts := ArchiveOptions{Before: before(3), Dir: filepath.Join(f.TempDir(), "archive"), Verifier: l.verifier}
	if _, err := Archive(l.path, opts); err != nil {
		f.Fatal(err)
	}
	live := mustRead(f, l.path)
	f.Add(live)
	f.Add(live[:bytes.IndexByte(live, '\n')+1])
	f.Add(mustRead(f, filepath.Join(opts.Dir, "audit.jsonl")))
	f.Add([]byte(`{"anchor":{"records":1,"prev_hash":"x","range":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}}` + "\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Verify(bytes.NewReader(data))

		lines := bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		anchorLines := 0
		if res.Archived > 0 {
			anchorLines = 1
		}
		var d *Damage
		switch {
		case err == nil:
			if res.Records+anchorLines != lines {
				t.Fatalf("Verify passed %d records and %d anchor lines in %d lines", res.Records, anchorLines, lines)
			}
		case errors.As(err, &d):
			if d.Line < 1 || d.Line > lines {
				t.Fatalf("Damage.Line = %d, outside the %d lines", d.Line, lines)
			}
			if d.Kind == "" {
				t.Fatalf("Damage without a kind: %v", d)
			}
		}
	})
}

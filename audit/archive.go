package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Retention. HIPAA requires covered entities to keep the documentation
// that its Security Rule requires for six years from its creation or from
// the date it was last in effect, whichever is later
// (45 CFR 164.316(b)(2)(i)).
// phigate keeps audit records at least that long by default: archiving
// moves old records out of the live log, and the archive's manifest
// states the earliest date it may be deleted.

// DefaultRetentionYears is the default retention of audit records.
const DefaultRetentionYears = 6

// ManifestFile is the name of an archive's manifest in its directory.
const ManifestFile = "manifest.json"

// ArchiveVersion is the manifest format version that Archive writes and
// VerifyArchive accepts.
const ArchiveVersion = 1

// Errors returned by Archive.
var (
	// ErrNothingToArchive is returned when no checkpoint covers only
	// records older than the cut-off, beyond those already archived.
	ErrNothingToArchive = errors.New("nothing to archive")
	// ErrLogInUse is returned when another process, normally phigate
	// serve, holds the log's lock.
	ErrLogInUse = errors.New("audit log is in use by another process")
)

// ArchiveOptions configures Archive.
type ArchiveOptions struct {
	// Before is the cut-off: only records appended before it are archived.
	Before time.Time
	// Dir is the archive directory. It is created if missing and must be
	// empty, so that no earlier archive is overwritten.
	Dir string
	// Verifier checks the checkpoint signatures. It is required: Archive
	// rewrites the live log, so it first proves the log intact.
	Verifier note.Verifier
	// RetentionYears sets the manifest's RetainUntil, counted from the
	// last archived record. Zero means DefaultRetentionYears.
	RetentionYears int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Manifest describes an archive: its files, the records it holds and the
// signed checkpoint that covers them. VerifyArchive checks every field.
type Manifest struct {
	Version int `json:"v"`
	// Log is the file of archived records in the archive directory, in
	// the live log's format: records as written, after an anchor when
	// the records before them were archived earlier.
	Log string `json:"log"`
	// Checkpoints is the checkpoints file beside Log. Its last entry is
	// Checkpoint.
	Checkpoints string `json:"checkpoints"`
	// Records is the number of records in Log, FirstSeq to LastSeq.
	Records  uint64 `json:"records"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// FirstTime and LastTime are the times of the first and last records.
	FirstTime string `json:"first_time"`
	LastTime  string `json:"last_time"`
	// LastHash is the hash of record LastSeq, which the live log's anchor
	// names as its prev_hash.
	LastHash string `json:"last_hash"`
	// Checkpoint is the signed checkpoint for LastSeq records.
	Checkpoint Checkpoint `json:"checkpoint"`
	// LogSHA256 and CheckpointsSHA256 are the hex SHA-256 digests of the
	// two files.
	LogSHA256         string `json:"log_sha256"`
	CheckpointsSHA256 string `json:"checkpoints_sha256"`
	// Before is the cut-off the archive was made with; Created is when.
	Before  string `json:"before"`
	Created string `json:"created"`
	// RetainUntil is the first day the archive may be deleted: the last
	// record's time plus the retention period.
	RetainUntil string `json:"retain_until"`
}

// Archive moves the records of the log at logPath that are older than
// opts.Before into opts.Dir, with the signed checkpoint that covers them,
// and leaves a live log that still verifies.
//
// The records archived are 1 (or the first after an earlier archive) to
// n, where n is the largest checkpoint size whose records were all
// appended before the cut-off. The live log is rewritten to start with an
// Anchor for those n records, followed by records n+1 onwards, unchanged,
// so later checkpoints and inclusion proofs still verify.
//
// Steps, each durable before the next:
//  1. Lock the log (ErrLogInUse if phigate serve holds it) and verify it
//     with its checkpoints and opts.Verifier.
//  2. Write the archive's records, checkpoints and, last, its manifest;
//     sync the files and the directory, then verify the archive.
//  3. Write the new live log to a temporary file, sync it, rename it over
//     the log and sync the directory.
//  4. Drop the checkpoints of archived records alone from the live
//     checkpoints file the same way, and verify the live log.
//
// A crash before step 3's rename leaves the live log as it was, and the
// archive directory must be removed before archiving again. A crash
// between steps 3 and 4 leaves a live log that verifies: verification
// skips checkpoints of archived records.
func Archive(logPath string, opts ArchiveOptions) (Manifest, error) {
	if opts.Verifier == nil {
		return Manifest{}, errors.New("archiving needs the checkpoint public key, to prove the log intact first")
	}
	if opts.Dir == "" {
		return Manifest{}, errors.New("archive directory is missing")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	years := opts.RetentionYears
	if years == 0 {
		years = DefaultRetentionYears
	}

	f, err := os.OpenFile(logPath, os.O_RDWR, 0)
	if err != nil {
		return Manifest{}, fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return Manifest{}, fmt.Errorf("locking %s: %w: stop phigate serve before archiving (%v)", logPath, ErrLogInUse, err)
	}

	if _, err := VerifyFileWithCheckpoints(logPath, opts.Verifier); err != nil {
		return Manifest{}, fmt.Errorf("verifying %s before archiving (archive only an intact log): %w", logPath, err)
	}
	cps, err := readCheckpoints(CheckpointsPath(logPath))
	if err != nil {
		return Manifest{}, err
	}
	plan, err := planArchive(f, cps, opts.Before)
	if err != nil {
		return Manifest{}, err
	}

	m, err := writeArchive(f, logPath, cps, plan, opts, now(), years)
	if err != nil {
		return Manifest{}, err
	}
	if err := archiveStep("archive written"); err != nil {
		return m, err
	}
	if err := pruneLiveLog(f, logPath, plan); err != nil {
		return m, err
	}
	if err := archiveStep("live log replaced"); err != nil {
		return m, err
	}
	if err := pruneCheckpoints(logPath, cps, plan.cut); err != nil {
		return m, err
	}
	if _, err := VerifyFileWithCheckpoints(logPath, opts.Verifier); err != nil {
		return m, fmt.Errorf("verifying the pruned live log %s: %w", logPath, err)
	}
	return m, nil
}

// archiveStep lets tests stop Archive between its steps, as a crash
// would. It returns nil outside tests.
var archiveStep = func(step string) error { return nil }

// archivePlan is the range of records Archive moves: base+1 to cut, where
// base records were archived before.
type archivePlan struct {
	base       uint64
	cut        uint64
	checkpoint Checkpoint
}

// planArchive finds the cut: the largest checkpoint size up to which every
// record is older than before.
func planArchive(f *os.File, cps []Checkpoint, before time.Time) (archivePlan, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return archivePlan{}, fmt.Errorf("reading audit log: %w", err)
	}
	var plan archivePlan
	limit := uint64(0) // the records up to limit are older than the cut-off
	sc := scanLines(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 && isAnchorLine(sc.Bytes()) {
			a, err := parseAnchor(sc.Bytes())
			if err != nil {
				return archivePlan{}, fmt.Errorf("audit log line 1: %w", err)
			}
			plan.base, limit = a.Records, a.Records
			continue
		}
		var rec struct {
			Seq  uint64 `json:"seq"`
			Time string `json:"time"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return archivePlan{}, fmt.Errorf("audit log line %d: %w", line, err)
		}
		t, err := time.Parse(time.RFC3339Nano, rec.Time)
		if err != nil {
			return archivePlan{}, fmt.Errorf("audit log record seq %d: invalid time: %w", rec.Seq, err)
		}
		if !t.Before(before) {
			break
		}
		limit = rec.Seq
	}
	if err := sc.Err(); err != nil {
		return archivePlan{}, fmt.Errorf("reading audit log: %w", err)
	}

	for _, c := range cps {
		if c.Size > plan.base && c.Size <= limit && c.Size > plan.cut {
			plan.cut, plan.checkpoint = c.Size, c
		}
	}
	if plan.cut == 0 {
		return archivePlan{}, fmt.Errorf("%w: no checkpoint covers only records from before %s beyond the %d already archived", ErrNothingToArchive, before.UTC().Format(time.RFC3339), plan.base)
	}
	return plan, nil
}

// writeArchive writes the archive directory and verifies it.
func writeArchive(f *os.File, logPath string, cps []Checkpoint, plan archivePlan, opts ArchiveOptions, now time.Time, years int) (Manifest, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("creating archive directory: %w", err)
	}
	entries, err := os.ReadDir(opts.Dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("reading archive directory: %w", err)
	}
	if len(entries) > 0 {
		return Manifest{}, fmt.Errorf("archive directory %s is not empty: choose a new directory, so that no archive is overwritten", opts.Dir)
	}

	name := filepath.Base(logPath)
	m := Manifest{
		Version:     ArchiveVersion,
		Log:         name,
		Checkpoints: filepath.Base(CheckpointsPath(name)),
		FirstSeq:    plan.base + 1,
		LastSeq:     plan.cut,
		Records:     plan.cut - plan.base,
		Checkpoint:  plan.checkpoint,
		Before:      opts.Before.UTC().Format(time.RFC3339Nano),
		Created:     now.UTC().Format(time.RFC3339Nano),
	}

	if err := copyArchivedRecords(f, filepath.Join(opts.Dir, m.Log), plan.cut, &m); err != nil {
		return Manifest{}, fmt.Errorf("writing archive: %w", err)
	}

	var checkpoints bytes.Buffer
	for _, c := range cps {
		if c.Size >= plan.base && c.Size <= plan.cut {
			line, err := json.Marshal(c)
			if err != nil {
				return Manifest{}, err
			}
			checkpoints.Write(line)
			checkpoints.WriteByte('\n')
		}
	}

	last, err := time.Parse(time.RFC3339Nano, m.LastTime)
	if err != nil {
		return Manifest{}, fmt.Errorf("audit log record seq %d: invalid time: %w", m.LastSeq, err)
	}
	m.RetainUntil = last.AddDate(years, 0, 0).UTC().Format("2006-01-02")
	m.CheckpointsSHA256 = sha256Hex(checkpoints.Bytes())
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}

	// The manifest goes last: an archive with a manifest is complete.
	for _, file := range []struct {
		name string
		data []byte
	}{{m.Checkpoints, checkpoints.Bytes()}, {ManifestFile, append(manifest, '\n')}} {
		if err := WriteFileSync(filepath.Join(opts.Dir, file.name), file.data); err != nil {
			return Manifest{}, fmt.Errorf("writing archive: %w", err)
		}
	}
	if err := SyncDir(opts.Dir); err != nil {
		return Manifest{}, fmt.Errorf("writing archive: %w", err)
	}
	if err := SyncDir(filepath.Dir(filepath.Clean(opts.Dir))); err != nil {
		return Manifest{}, fmt.Errorf("writing archive: %w", err)
	}

	if _, err := VerifyArchive(opts.Dir, opts.Verifier); err != nil {
		return Manifest{}, fmt.Errorf("verifying the new archive %s: %w", opts.Dir, err)
	}
	return m, nil
}

// copyArchivedRecords copies the log's lines up to record cut, with the
// anchor if the log has one, to a new file at path and syncs it. It fills
// in m's times, last hash and file digest.
func copyArchivedRecords(f *os.File, path string, cut uint64, m *Manifest) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading audit log: %w", err)
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	digest := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(out, digest))

	sc := scanLines(f)
	for sc.Scan() {
		raw := sc.Bytes()
		if !isAnchorLine(raw) {
			var rec Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("audit log record after seq %d: %w", m.LastSeq, err)
			}
			if rec.Seq > cut {
				break
			}
			if rec.Seq == m.FirstSeq {
				m.FirstTime = rec.Time
			}
			m.LastTime, m.LastHash = rec.Time, rec.Hash
		}
		w.Write(raw)
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading audit log: %w", err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	m.LogSHA256 = hex.EncodeToString(digest.Sum(nil))
	return out.Close()
}

// pruneLiveLog replaces the log with an anchor for the archived records
// followed by the records after the cut.
func pruneLiveLog(f *os.File, logPath string, plan archivePlan) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading audit log: %w", err)
	}
	tmpPath := logPath + ".archive-tmp"
	tmp, err := os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating the pruned log: %w", err)
	}
	defer tmp.Close()
	w := bufio.NewWriter(tmp)

	t := newTree()
	prev := ""
	anchored := false
	writeAnchor := func() error {
		line, err := newAnchor(t, prev).encode()
		if err != nil {
			return err
		}
		anchored = true
		w.Write(line)
		return w.WriteByte('\n')
	}
	sc := scanLines(f)
	for line := 1; sc.Scan(); line++ {
		raw := sc.Bytes()
		if line == 1 && isAnchorLine(raw) {
			a, err := parseAnchor(raw)
			if err != nil {
				return fmt.Errorf("audit log line 1: %w", err)
			}
			if t, err = a.tree(); err != nil {
				return fmt.Errorf("audit log line 1: %w", err)
			}
			prev = a.PrevHash
			continue
		}
		if t.size() < plan.cut {
			var rec Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("audit log line %d: %w", line, err)
			}
			t.append(raw)
			prev = rec.Hash
			continue
		}
		if !anchored {
			if err := checkCut(t, plan); err != nil {
				return err
			}
			if err := writeAnchor(); err != nil {
				return fmt.Errorf("writing the pruned log: %w", err)
			}
		}
		w.Write(raw)
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading audit log: %w", err)
	}
	if !anchored {
		if err := checkCut(t, plan); err != nil {
			return err
		}
		if err := writeAnchor(); err != nil {
			return fmt.Errorf("writing the pruned log: %w", err)
		}
	}

	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing the pruned log: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing the pruned log: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing the pruned log: %w", err)
	}
	if err := os.Rename(tmpPath, logPath); err != nil {
		return fmt.Errorf("replacing the audit log: %w", err)
	}
	return SyncDir(filepath.Dir(logPath))
}

// checkCut confirms that the tree of the records being archived still
// has the root their checkpoint signs. The log was verified under the
// lock, so a mismatch means it changed by other means than phigate.
func checkCut(t *tree, plan archivePlan) error {
	_, root, err := openCheckpoint(plan.checkpoint, nil)
	if err != nil {
		return err
	}
	if t.size() != plan.cut || !bytes.Equal(root, t.root()) {
		return fmt.Errorf("records 1 to %d changed while archiving: the live log was left as it was", plan.cut)
	}
	return nil
}

// pruneCheckpoints rewrites the live checkpoints file without the
// checkpoints smaller than the cut, which now belong to the archive.
func pruneCheckpoints(logPath string, cps []Checkpoint, cut uint64) error {
	var buf bytes.Buffer
	for _, c := range cps {
		if c.Size < cut {
			continue
		}
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	path := CheckpointsPath(logPath)
	tmpPath := path + ".archive-tmp"
	if err := WriteFileSync(tmpPath, buf.Bytes()); err != nil {
		return fmt.Errorf("writing the pruned checkpoints: %w", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return fmt.Errorf("replacing the checkpoints file: %w", err)
	}
	return SyncDir(filepath.Dir(path))
}

// VerifyArchive checks an archive directory on its own: the manifest, the
// digests of its files, and its records and checkpoints as a log, whose
// last checkpoint must cover exactly the archived records.
func VerifyArchive(dir string, verifier note.Verifier) (Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return Manifest{}, fmt.Errorf("reading archive manifest: %w", err)
	}
	m, err := parseManifest(data)
	if err != nil {
		return Manifest{}, err
	}

	logPath := filepath.Join(dir, m.Log)
	for _, file := range []struct{ path, want string }{
		{logPath, m.LogSHA256},
		{filepath.Join(dir, m.Checkpoints), m.CheckpointsSHA256},
	} {
		got, err := fileSHA256(file.path)
		if err != nil {
			return m, fmt.Errorf("reading archive: %w", err)
		}
		if got != file.want {
			return m, fmt.Errorf("archive file %s has SHA-256 %s but the manifest states %s: the file was changed", filepath.Base(file.path), got, file.want)
		}
	}
	if filepath.Base(CheckpointsPath(m.Log)) != m.Checkpoints {
		return m, fmt.Errorf("archive manifest names checkpoints file %s, want %s", m.Checkpoints, filepath.Base(CheckpointsPath(m.Log)))
	}

	res, err := VerifyFileWithCheckpoints(logPath, verifier)
	if err != nil {
		return m, err
	}
	cps, err := readCheckpoints(CheckpointsPath(logPath))
	if err != nil {
		return m, err
	}
	switch {
	case res.Archived+1 != m.FirstSeq || uint64(res.Records) != m.Records || res.Archived+uint64(res.Records) != m.LastSeq:
		return m, fmt.Errorf("archive holds records %d to %d, but its manifest states %d to %d", res.Archived+1, res.Archived+uint64(res.Records), m.FirstSeq, m.LastSeq)
	case res.LastHash != m.LastHash:
		return m, fmt.Errorf("archive's last record has hash %s, but its manifest states %s", res.LastHash, m.LastHash)
	case len(cps) == 0 || cps[len(cps)-1] != m.Checkpoint || m.Checkpoint.Size != m.LastSeq:
		return m, fmt.Errorf("archive's last checkpoint is not the checkpoint for its %d records that the manifest names", m.LastSeq)
	}
	return m, nil
}

// parseManifest decodes a manifest strictly.
func parseManifest(data []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("decoding archive manifest: %w", err)
	}
	if m.Version != ArchiveVersion {
		return Manifest{}, fmt.Errorf("archive manifest has version %d, want %d", m.Version, ArchiveVersion)
	}
	for _, name := range []string{m.Log, m.Checkpoints} {
		if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
			return Manifest{}, fmt.Errorf("archive manifest names file %q: want a plain file name in the archive directory", name)
		}
	}
	if m.FirstSeq == 0 || m.LastSeq < m.FirstSeq || m.Records != m.LastSeq-m.FirstSeq+1 {
		return Manifest{}, fmt.Errorf("archive manifest states %d records from %d to %d, which do not add up", m.Records, m.FirstSeq, m.LastSeq)
	}
	return m, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	digest := sha256.New()
	if _, err := io.Copy(digest, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(digest.Sum(nil)), nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// WriteFileSync writes data to a new or truncated file, mode 0600, and
// syncs it, so an archive written by any store is durable before the
// records it holds are removed from the live store.
func WriteFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SyncDir syncs a directory, making renames and new files in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

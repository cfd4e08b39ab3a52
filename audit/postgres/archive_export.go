package postgres

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/phigate/phigate/audit"
)

// export is a writer's archive as written, with what the prune records
// about it.
type export struct {
	manifest       audit.Manifest
	manifestSHA256 string
	// anchor is the anchor for records 1 to the cut, computed from the
	// archived lines.
	anchor *audit.Anchor
}

// exportWriter writes the archive of plan's records to dir and verifies
// it. When dir already holds a complete archive of exactly these records,
// whose log file matches the rows byte for byte, it is used as it is and
// reused is true.
func exportWriter(ctx context.Context, q querier, dir string, plan writerPlan, opts ArchiveOptions) (exp export, reused bool, err error) {
	empty, err := emptyDir(dir)
	if err != nil {
		return export{}, false, err
	}
	if !empty {
		exp, err := reuseExport(ctx, q, dir, plan, opts)
		return exp, err == nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return export{}, false, fmt.Errorf("creating archive directory: %w", err)
	}

	name := plan.writer + ".jsonl"
	m := audit.Manifest{
		Version:     audit.ArchiveVersion,
		Log:         name,
		Checkpoints: filepath.Base(audit.CheckpointsPath(name)),
		Records:     plan.cut - plan.base,
		FirstSeq:    plan.base + 1,
		LastSeq:     plan.cut,
		Checkpoint:  plan.checkpoint,
		Before:      opts.Before.UTC().Format(time.RFC3339Nano),
		Created:     opts.Now().UTC().Format(time.RFC3339Nano),
	}

	logFile, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return export{}, false, fmt.Errorf("writing archive: %w", err)
	}
	defer logFile.Close()
	w := bufio.NewWriter(logFile)
	st, err := streamRecords(ctx, q, plan, opts.Before, w)
	if err != nil {
		return export{}, false, err
	}
	if err := w.Flush(); err != nil {
		return export{}, false, fmt.Errorf("writing archive: %w", err)
	}
	if err := logFile.Sync(); err != nil {
		return export{}, false, fmt.Errorf("syncing archive: %w", err)
	}
	if err := logFile.Close(); err != nil {
		return export{}, false, fmt.Errorf("writing archive: %w", err)
	}

	m.FirstTime, m.LastTime, m.LastHash, m.LogSHA256 = st.firstTime, st.lastTime, st.lastHash, st.logSHA256
	last, err := time.Parse(time.RFC3339Nano, st.lastTime)
	if err != nil {
		return export{}, false, fmt.Errorf("record seq %d: invalid time: %w", plan.cut, err)
	}
	m.RetainUntil = last.AddDate(opts.RetentionYears, 0, 0).UTC().Format(time.DateOnly)

	var checkpoints bytes.Buffer
	for _, c := range plan.checkpoints {
		line, err := json.Marshal(c)
		if err != nil {
			return export{}, false, err
		}
		checkpoints.Write(line)
		checkpoints.WriteByte('\n')
	}
	m.CheckpointsSHA256 = sha256Hex(checkpoints.Bytes())
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return export{}, false, err
	}
	manifest = append(manifest, '\n')

	// The manifest goes last: an archive with a manifest is complete.
	if err := audit.WriteFileSync(filepath.Join(dir, m.Checkpoints), checkpoints.Bytes()); err != nil {
		return export{}, false, fmt.Errorf("writing archive: %w", err)
	}
	if err := audit.WriteFileSync(filepath.Join(dir, audit.ManifestFile), manifest); err != nil {
		return export{}, false, fmt.Errorf("writing archive: %w", err)
	}
	for _, d := range []string{dir, filepath.Dir(dir), filepath.Dir(filepath.Dir(dir))} {
		if err := audit.SyncDir(d); err != nil {
			return export{}, false, fmt.Errorf("writing archive: %w", err)
		}
	}

	if _, err := audit.VerifyArchive(dir, opts.Verifier); err != nil {
		return export{}, false, fmt.Errorf("verifying the new archive %s: %w", dir, err)
	}
	return export{manifest: m, manifestSHA256: sha256Hex(manifest), anchor: st.anchor}, false, nil
}

// reuseExport accepts the archive an earlier run left in dir when it
// verifies, covers exactly plan's records and holds them byte for byte as
// the database does.
func reuseExport(ctx context.Context, q querier, dir string, plan writerPlan, opts ArchiveOptions) (export, error) {
	m, err := audit.VerifyArchive(dir, opts.Verifier)
	if err != nil {
		return export{}, fmt.Errorf("archive directory %s is not empty and contains no archive that verifies (%v): choose a new directory, so that nothing is overwritten", dir, err)
	}
	if m.FirstSeq != plan.base+1 || m.LastSeq != plan.cut || m.Checkpoint != plan.checkpoint {
		return export{}, fmt.Errorf("archive directory %s contains the archive of records %d to %d, but this run archives records %d to %d: choose a new directory", dir, m.FirstSeq, m.LastSeq, plan.base+1, plan.cut)
	}
	st, err := streamRecords(ctx, q, plan, opts.Before, io.Discard)
	if err != nil {
		return export{}, err
	}
	if st.logSHA256 != m.LogSHA256 {
		return export{}, fmt.Errorf("archive directory %s contains records %d to %d that differ from the database rows: choose a new directory", dir, m.FirstSeq, m.LastSeq)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, audit.ManifestFile))
	if err != nil {
		return export{}, fmt.Errorf("reading archive manifest: %w", err)
	}
	return export{manifest: m, manifestSHA256: sha256Hex(manifest), anchor: st.anchor}, nil
}

// streamed describes the archived records that streamRecords wrote.
type streamed struct {
	firstTime, lastTime, lastHash string
	logSHA256                     string
	anchor                        *audit.Anchor
}

// streamRecords writes the archive's log to w: the latest anchor, if the
// writer has one, then the lines of records base+1 to cut as stored. It
// checks each line's hash, seq, writer and link to the one before, and
// that it was recorded before the cut-off, and computes the Merkle tree
// of the lines for the new anchor.
func streamRecords(ctx context.Context, q querier, plan writerPlan, before time.Time, w io.Writer) (streamed, error) {
	var st streamed
	digest := sha256.New()
	out := io.MultiWriter(w, digest)

	tree := audit.NewMerkleTree()
	prev := ""
	if plan.anchor != nil {
		t, err := plan.anchor.MerkleTree()
		if err != nil {
			return st, err
		}
		line, err := plan.anchor.Line()
		if err != nil {
			return st, err
		}
		if _, err := out.Write(append(line, '\n')); err != nil {
			return st, fmt.Errorf("writing archive: %w", err)
		}
		tree, prev = t, plan.anchor.PrevHash
	}

	rows, err := q.Query(ctx, "SELECT seq, record FROM "+Schema+".records WHERE writer_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq", plan.writer, int64(plan.base), int64(plan.cut))
	if err != nil {
		return st, fmt.Errorf("reading records: %w", err)
	}
	defer rows.Close()
	next := plan.base + 1
	for rows.Next() {
		var seq int64
		var line []byte
		if err := rows.Scan(&seq, &line); err != nil {
			return st, fmt.Errorf("reading records: %w", err)
		}
		rec, err := checkArchivedLine(line, uint64(seq), next, plan.writer, prev, before)
		if err != nil {
			return st, err
		}
		if next == plan.base+1 {
			st.firstTime = rec.Time
		}
		st.lastTime, st.lastHash, prev = rec.Time, rec.Hash, rec.Hash
		tree.Append(line)
		if _, err := out.Write(append(line, '\n')); err != nil {
			return st, fmt.Errorf("writing archive: %w", err)
		}
		next++
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("reading records: %w", err)
	}
	if next != plan.cut+1 {
		return st, fmt.Errorf("the database has records %d to %d of the %d to %d being archived: records changed while archiving", plan.base+1, next-1, plan.base+1, plan.cut)
	}

	st.logSHA256 = hex.EncodeToString(digest.Sum(nil))
	st.anchor = tree.Anchor(st.lastHash)
	return st, nil
}

// checkArchivedLine checks one stored line before it is archived. The
// chain was verified at the start, so a failure means it changed since.
func checkArchivedLine(line []byte, seq, want uint64, writer, prev string, before time.Time) (*audit.Record, error) {
	if seq != want {
		return nil, fmt.Errorf("the database has seq %d where seq %d belongs: records changed while archiving", seq, want)
	}
	rec, err := audit.ParseLine(line)
	if err != nil {
		return nil, fmt.Errorf("record seq %d: %w", seq, err)
	}
	if rec.Seq != seq || rec.Writer != writer || rec.PrevHash != prev {
		return nil, fmt.Errorf("record seq %d does not continue the chain of writer %s: records changed while archiving", seq, writer)
	}
	t, err := time.Parse(time.RFC3339Nano, rec.Time)
	if err != nil {
		return nil, fmt.Errorf("record seq %d: invalid time: %w", seq, err)
	}
	if !t.Before(before) {
		return nil, fmt.Errorf("record seq %d was recorded at %s, not before the cut-off %s", seq, rec.Time, before.UTC().Format(time.RFC3339Nano))
	}
	return rec, nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

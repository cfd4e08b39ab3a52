package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

// ArchiveOptions configures Archive.
type ArchiveOptions struct {
	// Before is the cut-off: only records stored before it are archived.
	Before time.Time
	// Dir is the archive directory. Each writer's archive goes to the
	// subdirectory named after its writer id, in the file store's archive
	// format (see audit.Archive). That subdirectory must be new or empty,
	// or hold the complete archive of the same records from an earlier
	// run whose prune did not commit; Archive then uses it again.
	Dir string
	// Verifier checks the checkpoint signatures. It is required, because
	// Archive deletes rows and first proves the chain intact.
	Verifier note.Verifier
	// Writer, when set, limits archiving to that writer's chain.
	Writer string
	// RetentionYears sets each manifest's RetainUntil, counted from the
	// last archived record. Zero means audit.DefaultRetentionYears.
	RetentionYears int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// WriterArchive is the outcome of Archive for one writer.
type WriterArchive struct {
	Writer string
	// Dir is the writer's archive directory, and Manifest its manifest.
	// Both are empty when Skipped is set.
	Dir      string
	Manifest audit.Manifest
	// Reused reports that Dir already held this archive, written by an
	// earlier run whose prune did not commit.
	Reused bool
	// Skipped, when set, wraps audit.ErrNothingToArchive: no checkpoint
	// of the writer covers only records from before the cut-off beyond
	// those archived already.
	Skipped error
}

// Archive moves each writer's records stored before opts.Before out of
// the database, into opts.Dir, and leaves chains that still verify.
// conn must be the schema owner's: only the owner may delete archived
// rows.
//
// For each writer, the records archived are those after its latest anchor
// (or from seq 1) up to n, the largest checkpoint size whose records were
// all stored before the cut-off. Steps, each durable before the next:
//  1. Take a session advisory lock on the writer's archive, so two runs
//     never archive one writer at once, and verify the writer's chain
//     with its checkpoints and opts.Verifier.
//  2. Write the archive: records, checkpoints and, last, the manifest,
//     synced, then verify it as the file store's archives are verified.
//  3. In one transaction that sets phigate.archive to the writer id,
//     insert the anchor for records 1 to n, delete the rows up to n and
//     verify the chain that remains from the new anchor. Commit only
//     when that verification finds nothing.
//
// A failure before step 3 commits leaves the database as it was, and the
// archive directory, when complete, is used again by the next run with
// the same opts.Dir. A failure after the commit leaves a chain that
// verifies from its anchor. Archive stops at the first writer that fails
// and returns the writers done before it with the error.
func Archive(ctx context.Context, conn *pgx.Conn, opts ArchiveOptions) ([]WriterArchive, error) {
	if opts.Verifier == nil {
		return nil, errors.New("archiving needs the checkpoint public key, to prove each chain intact first")
	}
	if opts.Dir == "" {
		return nil, errors.New("archive directory is missing")
	}
	if opts.Writer != "" && !ValidWriterID(opts.Writer) {
		return nil, fmt.Errorf("invalid writer id %q: use 1 to 128 letters, digits, '.', '_' or '-'", opts.Writer)
	}
	if opts.RetentionYears == 0 {
		opts.RetentionYears = audit.DefaultRetentionYears
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}

	writers := []string{opts.Writer}
	if opts.Writer == "" {
		var err error
		if writers, err = listWriters(ctx, conn); err != nil {
			return nil, err
		}
	}
	var out []WriterArchive
	for _, w := range writers {
		res, err := archiveWriter(ctx, conn, w, opts)
		if err != nil {
			return out, fmt.Errorf("archiving writer %s: %w", w, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// archiveStep lets tests stop Archive between its steps, as a crash
// would. It returns nil outside tests.
var archiveStep = func(step string) error { return nil }

// writerPlan is the range of one writer's records that Archive moves:
// base+1 to cut, where base records were archived before.
type writerPlan struct {
	writer      string
	base        uint64
	anchor      *audit.Anchor // the latest anchor, nil when base is 0
	cut         uint64
	checkpoint  audit.Checkpoint
	checkpoints []audit.Checkpoint // those the archive keeps: base <= size <= cut
}

func archiveWriter(ctx context.Context, conn *pgx.Conn, writer string, opts ArchiveOptions) (WriterArchive, error) {
	res := WriterArchive{Writer: writer}
	unlock, err := lockArchive(ctx, conn, writer)
	if err != nil {
		return res, err
	}
	defer unlock()

	before, err := verifyWriter(ctx, conn, writer, opts.Verifier)
	if err != nil {
		return res, err
	}
	if d := before.Damage; d != nil {
		return res, fmt.Errorf("the chain is damaged at record %d (%s): %s; archive only an intact chain: run phigate audit verify -postgres", d.Seq, d.Kind, d.Reason)
	}
	plan, err := planWriter(ctx, conn, writer, opts.Before)
	if errors.Is(err, audit.ErrNothingToArchive) {
		res.Skipped = err
		return res, nil
	}
	if err != nil {
		return res, err
	}

	dir := filepath.Join(opts.Dir, writer)
	exp, reused, err := exportWriter(ctx, conn, dir, plan, opts)
	if err != nil {
		return res, err
	}
	res.Dir, res.Manifest, res.Reused = dir, exp.manifest, reused
	if err := archiveStep("archive written"); err != nil {
		return res, err
	}
	if err := pruneWriter(ctx, conn, plan, exp, opts.Verifier); err != nil {
		return res, err
	}
	return res, nil
}

// lockArchive takes the session advisory lock on a writer's archive and
// returns the function that releases it.
func lockArchive(ctx context.Context, conn *pgx.Conn, writer string) (func(), error) {
	name := Schema + ".archive:" + writer
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name).Scan(&locked); err != nil {
		return nil, fmt.Errorf("taking the archive lock: %w", err)
	}
	if !locked {
		return nil, errors.New("another phigate audit archive is archiving this writer: wait for it to finish")
	}
	return func() {
		// The lock goes with the session anyway; a failed unlock only
		// keeps it until the connection closes.
		_, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
	}, nil
}

// planWriter finds the cut: the largest checkpoint size after the latest
// anchor up to which every record was stored before the cut-off.
func planWriter(ctx context.Context, q querier, writer string, before time.Time) (writerPlan, error) {
	plan := writerPlan{writer: writer}
	anchor, err := latestAnchor(ctx, q, writer)
	if err != nil {
		return plan, err
	}
	if anchor != nil {
		plan.anchor, plan.base = anchor, anchor.Records
	}

	// limit is the last seq of the run of records older than the cut-off.
	var firstNewer, last *int64
	err = q.QueryRow(ctx, "SELECT min(seq) FILTER (WHERE recorded_at >= $3), max(seq) FROM "+Schema+".records WHERE writer_id = $1 AND seq > $2", writer, int64(plan.base), before).Scan(&firstNewer, &last)
	if err != nil {
		return plan, fmt.Errorf("finding the records before the cut-off: %w", err)
	}
	limit := plan.base
	switch {
	case firstNewer != nil:
		limit = uint64(*firstNewer - 1)
	case last != nil:
		limit = uint64(*last)
	}

	cps, err := readCheckpoints(ctx, q, writer)
	if err != nil {
		return plan, err
	}
	for _, c := range cps {
		if c.Size > plan.base && c.Size <= limit && c.Size > plan.cut {
			plan.cut, plan.checkpoint = c.Size, c
		}
	}
	if plan.cut == 0 {
		return plan, fmt.Errorf("%w: no checkpoint covers only records from before %s beyond the %d already archived", audit.ErrNothingToArchive, before.UTC().Format(time.RFC3339), plan.base)
	}
	for _, c := range cps {
		if c.Size >= plan.base && c.Size <= plan.cut {
			plan.checkpoints = append(plan.checkpoints, c)
		}
	}
	return plan, nil
}

// pruneWriter records the anchor and deletes the archived rows in one
// transaction, which commits only when the chain left behind verifies.
func pruneWriter(ctx context.Context, conn *pgx.Conn, plan writerPlan, exp export, verifier note.Verifier) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("starting the prune transaction: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	if _, err := tx.Exec(ctx, "SELECT set_config('phigate.archive', $1, true)", plan.writer); err != nil {
		return fmt.Errorf("marking the prune transaction: %w", err)
	}
	var latest int64
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM "+Schema+".anchors WHERE writer_id = $1", plan.writer).Scan(&latest); err != nil {
		return fmt.Errorf("reading anchors: %w", err)
	}
	if uint64(latest) != plan.base {
		return fmt.Errorf("the writer's latest anchor moved from record %d to %d while archiving: the database was left as it was", plan.base, latest)
	}

	a := exp.anchor
	_, err = tx.Exec(ctx, "INSERT INTO "+Schema+".anchors (writer_id, seq, prev_hash, compact_range, manifest_sha256) VALUES ($1, $2, $3, $4, $5)",
		plan.writer, int64(a.Records), a.PrevHash, a.Range, exp.manifestSHA256)
	if err != nil {
		return fmt.Errorf("inserting the anchor (the schema owner's connection is needed): %w", err)
	}
	tag, err := tx.Exec(ctx, "DELETE FROM "+Schema+".records WHERE writer_id = $1 AND seq <= $2", plan.writer, int64(plan.cut))
	if err != nil {
		return fmt.Errorf("deleting the archived records: %w", err)
	}
	if n := uint64(tag.RowsAffected()); n != plan.cut-plan.base {
		return fmt.Errorf("deleting the archived records removed %d rows, want %d: the database was left as it was", n, plan.cut-plan.base)
	}
	if err := archiveStep("records deleted"); err != nil {
		return err
	}

	after, err := verifyWriter(ctx, tx, plan.writer, verifier)
	if err != nil {
		return fmt.Errorf("verifying the pruned chain: %w", err)
	}
	if d := after.Damage; d != nil {
		return fmt.Errorf("the pruned chain does not verify at record %d (%s): %s; the database was left as it was", d.Seq, d.Kind, d.Reason)
	}
	if after.Archived != plan.cut || !after.AnchorVerified {
		return fmt.Errorf("the pruned chain does not start from an anchor for %d records that a checkpoint matches: the database was left as it was", plan.cut)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing the prune (the archive directory is complete; run the archive again with the same directory): %w", err)
	}
	return nil
}

// emptyDir reports whether dir is missing or empty.
func emptyDir(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading archive directory: %w", err)
	}
	return len(entries) == 0, nil
}

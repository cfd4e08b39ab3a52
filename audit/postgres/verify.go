package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Verifier, when set, must verify every checkpoint's signature.
	Verifier note.Verifier
	// Writer, when set, limits verification to that writer's chain.
	Writer string
}

// WriterResult is the verification of one writer's chain.
type WriterResult struct {
	Writer string
	// VerifyResult counts the records in the database. Archived is the
	// number of records before them that an archive holds, as the
	// writer's latest anchor states.
	audit.VerifyResult
	// Damage is the first damage found in the chain, nil when it is
	// intact. Its Line and Seq are the seq the record should have; for a
	// damaged anchor, the last seq the anchor covers.
	Damage *audit.Damage
}

// Verify checks every writer's chain in the database, or only
// opts.Writer's. Each chain's lines, read in seq order, go through
// audit.VerifyWithOptions with the writer's checkpoints. So a chain gets
// the same checks as a log file, with the same damage kinds: edited,
// deleted, inserted or moved records, and records cut off after a
// checkpoint. A chain whose first records were archived (see Archive)
// starts from its latest anchor, which must match the signed checkpoint
// for the records it covers, as each earlier anchor must too. Verify also
// checks that each row's own columns
// (writer_id, seq, hash, prev_hash, recorded_at, request_id, kind,
// provider, tenant) state what its record line states, because auditors
// query those columns. It returns an error only when the database cannot
// be read; damage is reported in the results.
func Verify(ctx context.Context, conn *pgx.Conn, opts VerifyOptions) ([]WriterResult, error) {
	writers := []string{opts.Writer}
	if opts.Writer == "" {
		var err error
		if writers, err = listWriters(ctx, conn); err != nil {
			return nil, err
		}
	}

	results := make([]WriterResult, 0, len(writers))
	for _, w := range writers {
		res, err := verifyWriter(ctx, conn, w, opts.Verifier)
		if err != nil {
			return results, fmt.Errorf("verifying writer %s: %w", w, err)
		}
		results = append(results, res)
	}
	return results, nil
}

func listWriters(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT writer_id FROM "+Schema+".records UNION SELECT writer_id FROM "+Schema+".checkpoints UNION SELECT writer_id FROM "+Schema+".anchors ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("listing audit writers: %w", err)
	}
	writers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing audit writers: %w", err)
	}
	return writers, nil
}

func verifyWriter(ctx context.Context, q querier, writer string, verifier note.Verifier) (WriterResult, error) {
	res := WriterResult{Writer: writer}
	cps, err := readCheckpoints(ctx, q, writer)
	if err != nil {
		return res, err
	}
	anchors, err := readAnchors(ctx, q, writer)
	if err != nil {
		return res, err
	}

	// The chain is fed to the verifier as a log file would be: after an
	// archive, the latest anchor is its first line.
	var first []byte
	base := uint64(0)
	if len(anchors) > 0 {
		if d := checkAnchors(anchors, cps, verifier); d != nil {
			res.Damage = d
			return res, nil
		}
		latest := anchors[len(anchors)-1].anchor
		base = latest.Records
		res.Archived = base
		if d, err := rowsBelowAnchor(ctx, q, writer, base); d != nil || err != nil {
			res.Damage = d
			return res, err
		}
		line, err := latest.Line()
		if err != nil {
			return res, err
		}
		first = append(line, '\n')
	}

	rows, err := q.Query(ctx, "SELECT writer_id, seq, hash, prev_hash, recorded_at, request_id, kind, provider, tenant, record FROM "+Schema+".records WHERE writer_id = $1 ORDER BY seq", writer)
	if err != nil {
		return res, fmt.Errorf("reading records: %w", err)
	}
	defer rows.Close()

	r := &rowReader{rows: rows, buf: first, base: base}
	vr, err := audit.VerifyWithOptions(r, audit.VerifyOptions{Checkpoints: cps, Verifier: verifier})
	res.VerifyResult = vr
	if r.err != nil {
		return res, fmt.Errorf("reading records: %w", r.err)
	}
	var damage *audit.Damage
	if err != nil && !errors.As(err, &damage) {
		return res, err
	}
	if damage != nil && base > 0 {
		// The verifier numbers lines after the anchor line; the caller
		// wants the seq.
		if damage.Seq == 0 {
			damage.Seq = base
		}
		damage.Line = int(damage.Seq)
	}

	// The chain's own damage comes first unless a column disagreed
	// earlier.
	switch {
	case r.damage != nil && (damage == nil || r.damage.Line < damage.Line):
		res.Damage = r.damage
		res.Records = int(r.damage.Seq - 1 - base)
	case damage != nil:
		res.Damage = damage
	}
	return res, nil
}

// rowsBelowAnchor reports damage when a writer still has rows at or below
// its latest anchor. The archive deletes them in the transaction that
// inserts the anchor, so such rows mean the anchor was added by other
// means, or deleted rows were put back.
func rowsBelowAnchor(ctx context.Context, q querier, writer string, base uint64) (*audit.Damage, error) {
	var lowest *int64
	err := q.QueryRow(ctx, "SELECT min(seq) FROM "+Schema+".records WHERE writer_id = $1", writer).Scan(&lowest)
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
	}
	if lowest == nil || *lowest > int64(base) {
		return nil, nil
	}
	return &audit.Damage{Line: int(*lowest), Seq: uint64(*lowest), Kind: audit.DamageBadAnchor, Reason: fmt.Sprintf("the row with seq %d is at or below the anchor for the %d archived records, which archiving deletes: the anchor was added by hand or archived rows were put back", *lowest, base)}, nil
}

func readCheckpoints(ctx context.Context, q querier, writer string) ([]audit.Checkpoint, error) {
	rows, err := q.Query(ctx, "SELECT tree_size, note FROM "+Schema+".checkpoints WHERE writer_id = $1 ORDER BY tree_size", writer)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	var cps []audit.Checkpoint
	var size int64
	var text string
	_, err = pgx.ForEachRow(rows, []any{&size, &text}, func() error {
		cps = append(cps, audit.Checkpoint{Size: uint64(size), Note: text})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	return cps, nil
}

// rowReader presents a chain's rows as a log file, one record line per
// row, and notes the first row whose columns disagree with its line.
type rowReader struct {
	rows pgx.Rows
	buf  []byte
	// base is the number of archived records before the first row.
	base   uint64
	line   int
	damage *audit.Damage
	err    error
}

func (r *rowReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if !r.rows.Next() {
			r.err = r.rows.Err()
			return 0, io.EOF
		}
		var c rowColumns
		if err := r.rows.Scan(&c.writer, &c.seq, &c.hash, &c.prevHash, &c.recordedAt, &c.requestID, &c.kind, &c.provider, &c.tenant, &c.record); err != nil {
			r.err = err
			return 0, io.EOF
		}
		r.line++
		if r.damage == nil {
			if reason := c.mismatch(); reason != "" {
				seq := r.base + uint64(r.line)
				r.damage = &audit.Damage{Line: int(seq), Seq: seq, Kind: audit.DamageEdited, Reason: reason}
			}
		}
		r.buf = append(append(r.buf[:0], c.record...), '\n')
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// rowColumns is one row of the records table.
type rowColumns struct {
	writer, hash, prevHash, requestID, kind string
	provider, tenant                        *string
	seq                                     int64
	recordedAt                              time.Time
	record                                  []byte
}

// mismatch names the first column that disagrees with the record line, or
// returns "" when all agree. A line that does not decode is left to
// VerifyWithOptions, which reports it as such.
func (c *rowColumns) mismatch() string {
	var rec audit.Record
	if json.Unmarshal(c.record, &rec) != nil {
		return ""
	}
	at, err := time.Parse(time.RFC3339Nano, rec.Time)
	checks := []struct {
		column string
		ok     bool
	}{
		{"writer_id", c.writer == rec.Writer},
		{"seq", c.seq >= 0 && uint64(c.seq) == rec.Seq},
		{"hash", c.hash == rec.Hash},
		{"prev_hash", c.prevHash == rec.PrevHash},
		{"recorded_at", err == nil && c.recordedAt.Equal(at.Truncate(time.Microsecond))},
		{"request_id", c.requestID == rec.RequestID},
		{"kind", c.kind == rec.Kind},
		{"provider", deref(c.provider) == rec.Provider},
		{"tenant", deref(c.tenant) == rec.Tenant},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Sprintf("column %s of the row with seq %d does not match its record: the row was edited", ch.column, c.seq)
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

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
	audit.VerifyResult
	// Damage is the first damage found in the chain, nil when it is
	// intact. Its Line is the record's 1-based position in seq order,
	// which is the seq the record should have.
	Damage *audit.Damage
}

// Verify checks every writer's chain in the database, or only
// opts.Writer's. Each chain's lines, read in seq order, go through
// audit.VerifyWithOptions with the writer's checkpoints. So a chain gets
// the same checks as a log file, with the same damage kinds: edited,
// deleted, inserted or moved records, and records cut off after a
// checkpoint. Verify also checks that each row's own columns
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
	rows, err := conn.Query(ctx, "SELECT DISTINCT writer_id FROM "+Schema+".records UNION SELECT writer_id FROM "+Schema+".checkpoints ORDER BY 1")
	if err != nil {
		return nil, fmt.Errorf("listing audit writers: %w", err)
	}
	writers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing audit writers: %w", err)
	}
	return writers, nil
}

func verifyWriter(ctx context.Context, conn *pgx.Conn, writer string, verifier note.Verifier) (WriterResult, error) {
	res := WriterResult{Writer: writer}
	cps, err := readCheckpoints(ctx, conn, writer)
	if err != nil {
		return res, err
	}

	rows, err := conn.Query(ctx, "SELECT writer_id, seq, hash, prev_hash, recorded_at, request_id, kind, provider, tenant, record FROM "+Schema+".records WHERE writer_id = $1 ORDER BY seq", writer)
	if err != nil {
		return res, fmt.Errorf("reading records: %w", err)
	}
	defer rows.Close()

	r := &rowReader{rows: rows}
	vr, err := audit.VerifyWithOptions(r, audit.VerifyOptions{Checkpoints: cps, Verifier: verifier})
	res.VerifyResult = vr
	if r.err != nil {
		return res, fmt.Errorf("reading records: %w", r.err)
	}
	var damage *audit.Damage
	if err != nil && !errors.As(err, &damage) {
		return res, err
	}

	// The chain's own damage comes first unless a column disagreed
	// earlier.
	switch {
	case r.damage != nil && (damage == nil || r.damage.Line < damage.Line):
		res.Damage = r.damage
		res.Records = r.damage.Line - 1
	case damage != nil:
		res.Damage = damage
	}
	return res, nil
}

func readCheckpoints(ctx context.Context, conn *pgx.Conn, writer string) ([]audit.Checkpoint, error) {
	rows, err := conn.Query(ctx, "SELECT tree_size, note FROM "+Schema+".checkpoints WHERE writer_id = $1 ORDER BY tree_size", writer)
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
	rows   pgx.Rows
	buf    []byte
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
				r.damage = &audit.Damage{Line: r.line, Seq: uint64(r.line), Kind: audit.DamageEdited, Reason: reason}
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

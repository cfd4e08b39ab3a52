package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/phigate/phigate/audit"
)

// querier is the query interface that reading a chain needs: a *pgx.Conn,
// or a pgx.Tx when the archive checks a chain inside the transaction that
// prunes it.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// storedAnchor is one row of the anchors table.
type storedAnchor struct {
	anchor         audit.Anchor
	manifestSHA256 string
}

// readAnchors returns a writer's anchors, oldest first. Each later anchor
// covers more records; the last one is where the chain in the records
// table starts.
func readAnchors(ctx context.Context, q querier, writer string) ([]storedAnchor, error) {
	rows, err := q.Query(ctx, "SELECT seq, prev_hash, compact_range, manifest_sha256 FROM "+Schema+".anchors WHERE writer_id = $1 ORDER BY seq", writer)
	if err != nil {
		return nil, fmt.Errorf("reading anchors: %w", err)
	}
	var out []storedAnchor
	var seq int64
	var prevHash, manifest string
	var rng [][]byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &prevHash, &rng, &manifest}, func() error {
		if seq <= 0 {
			return fmt.Errorf("anchor with seq %d", seq)
		}
		a := audit.Anchor{Records: uint64(seq), PrevHash: prevHash, Range: rng}
		out = append(out, storedAnchor{anchor: a, manifestSHA256: manifest})
		rng = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading anchors: %w", err)
	}
	return out, nil
}

// latestAnchor returns the writer's last anchor, or nil when none of its
// records were archived. A stored anchor that does not form a valid
// compact range is an error: the chain cannot be resumed from it.
func latestAnchor(ctx context.Context, q querier, writer string) (*audit.Anchor, error) {
	anchors, err := readAnchors(ctx, q, writer)
	if err != nil || len(anchors) == 0 {
		return nil, err
	}
	a := anchors[len(anchors)-1].anchor
	if _, err := a.MerkleTree(); err != nil {
		return nil, fmt.Errorf("the anchor of writer %s for %d archived records is damaged (%v): run phigate audit verify -postgres", writer, a.Records, err)
	}
	return &a, nil
}

// checkAnchors checks each stored anchor on its own: that it encodes as
// an anchor line, and that its compact range has the root of the signed
// checkpoint for exactly its records. Archiving cuts only at a checkpoint
// and never deletes one, so that checkpoint must be in the table. It
// returns the damage of the first anchor that fails.
func checkAnchors(anchors []storedAnchor, cps []audit.Checkpoint, verifier note.Verifier) *audit.Damage {
	for _, sa := range anchors {
		a := sa.anchor
		damage := func(reason string) *audit.Damage {
			return &audit.Damage{Line: int(a.Records), Seq: a.Records, Kind: audit.DamageBadAnchor, Reason: fmt.Sprintf("anchor for records 1 to %d: %s", a.Records, reason)}
		}
		line, err := a.Line()
		if err != nil {
			return damage(err.Error())
		}
		var covered []audit.Checkpoint
		for _, c := range cps {
			if c.Size <= a.Records {
				covered = append(covered, c)
			}
		}
		res, err := audit.VerifyWithOptions(bytes.NewReader(append(line, '\n')), audit.VerifyOptions{Checkpoints: covered, Verifier: verifier})
		var d *audit.Damage
		switch {
		case errors.As(err, &d):
			return damage(d.Reason)
		case err != nil:
			return damage(err.Error())
		case !res.AnchorVerified:
			return damage("no checkpoint covers exactly these records, so the anchor cannot be checked: archiving always cuts at a checkpoint, so a checkpoint row was removed or the anchor was added by hand")
		}
	}
	return nil
}

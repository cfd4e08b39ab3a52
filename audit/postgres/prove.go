package postgres

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/phigate/phigate/audit"
)

// ErrRequestNotFound is returned, wrapped, by Prove when the database has
// no record of the request. Archived records are proved from their
// archive with audit.Prove.
var ErrRequestNotFound = errors.New("no record of the request in the audit database")

// Prove returns inclusion proofs for every record of a request (its
// decision and outcome records) in the format audit.Prove returns, each
// against the latest checkpoint of the record's writer. writer, when set,
// limits the search to that writer's chain. Before returning a proof,
// Prove checks it against the checkpoint's root, so that rows changed
// after the checkpoint was signed produce an error instead of a proof
// that fails elsewhere.
//
// NOTE: Prove reads the leaf hash of every record of the writer that the
// checkpoint covers (32 bytes each, computed by the server), so memory
// grows with the chain since its last archive.
func Prove(ctx context.Context, conn *pgx.Conn, requestID, writer string) ([]audit.InclusionProof, error) {
	query := "SELECT writer_id, seq, record FROM " + Schema + ".records WHERE request_id = $1"
	args := []any{requestID}
	if writer != "" {
		query += " AND writer_id = $2"
		args = append(args, writer)
	}
	rows, err := conn.Query(ctx, query+" ORDER BY writer_id, seq", args...)
	if err != nil {
		return nil, fmt.Errorf("finding the records of request %s: %w", requestID, err)
	}
	type found struct {
		writer string
		seq    uint64
		line   []byte
	}
	var records []found
	var w string
	var seq int64
	var line []byte
	_, err = pgx.ForEachRow(rows, []any{&w, &seq, &line}, func() error {
		records = append(records, found{writer: w, seq: uint64(seq), line: bytes.Clone(line)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding the records of request %s: %w", requestID, err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%w: request %s; records archived by phigate audit archive -postgres are proved from the archive: phigate audit prove DIR/WRITER/WRITER.jsonl %s", ErrRequestNotFound, requestID, requestID)
	}

	var proofs []audit.InclusionProof
	var chain *writerTree
	for _, r := range records {
		if chain == nil || chain.writer != r.writer {
			if chain, err = loadWriterTree(ctx, conn, r.writer); err != nil {
				return nil, fmt.Errorf("proving request %s in the chain of writer %s: %w", requestID, r.writer, err)
			}
		}
		p, err := chain.prove(r.seq, r.line)
		if err != nil {
			return nil, fmt.Errorf("proving record %d of writer %s: %w", r.seq, r.writer, err)
		}
		p.RequestID = requestID
		proofs = append(proofs, p)
	}
	return proofs, nil
}

// writerTree is the part of a writer's Merkle tree that proofs against its
// latest checkpoint need: the anchor of archived records and the leaf
// hashes of the records after it, up to the checkpoint's size.
type writerTree struct {
	writer     string
	checkpoint audit.Checkpoint
	root       []byte
	anchor     *audit.Anchor
	leaves     [][]byte
}

func loadWriterTree(ctx context.Context, conn *pgx.Conn, writer string) (*writerTree, error) {
	cps, err := readCheckpoints(ctx, conn, writer)
	if err != nil {
		return nil, err
	}
	if len(cps) == 0 {
		return nil, audit.ErrNotCheckpointed
	}
	t := &writerTree{writer: writer, checkpoint: cps[len(cps)-1]}
	if t.root, err = checkpointRoot(t.checkpoint); err != nil {
		return nil, err
	}
	if t.anchor, err = latestAnchor(ctx, conn, writer); err != nil {
		return nil, err
	}
	base := uint64(0)
	if t.anchor != nil {
		base = t.anchor.Records
	}
	if t.checkpoint.Size < base {
		return nil, fmt.Errorf("the latest checkpoint covers %d records, fewer than the %d archived: run phigate audit verify -postgres", t.checkpoint.Size, base)
	}

	rows, err := conn.Query(ctx, `SELECT seq, sha256('\x00'::bytea || record) FROM `+Schema+`.records WHERE writer_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`, writer, int64(base), int64(t.checkpoint.Size))
	if err != nil {
		return nil, fmt.Errorf("reading leaf hashes: %w", err)
	}
	var seq int64
	var leaf []byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &leaf}, func() error {
		if want := base + uint64(len(t.leaves)) + 1; uint64(seq) != want {
			return fmt.Errorf("the database has seq %d where seq %d belongs: run phigate audit verify -postgres", seq, want)
		}
		t.leaves = append(t.leaves, bytes.Clone(leaf))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading leaf hashes: %w", err)
	}
	if got := base + uint64(len(t.leaves)); got != t.checkpoint.Size {
		return nil, fmt.Errorf("the chain has %d records but its latest checkpoint covers %d: run phigate audit verify -postgres", got, t.checkpoint.Size)
	}
	return t, nil
}

// prove returns the inclusion proof of record seq, whose stored line is
// line, and checks it against the checkpoint's root.
func (t *writerTree) prove(seq uint64, line []byte) (audit.InclusionProof, error) {
	index := seq - 1
	if index >= t.checkpoint.Size {
		return audit.InclusionProof{}, fmt.Errorf("the latest checkpoint covers %d records: %w", t.checkpoint.Size, audit.ErrNotCheckpointed)
	}
	path, err := audit.InclusionPath(t.anchor, t.leaves, index)
	if err != nil {
		return audit.InclusionProof{}, err
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(line)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, t.checkpoint.Size, leaf, path, t.root); err != nil {
		return audit.InclusionProof{}, fmt.Errorf("the stored records do not match the signed checkpoint for %d records (%v): run phigate audit verify -postgres", t.checkpoint.Size, err)
	}
	rec, err := audit.ParseLine(line)
	if err != nil {
		return audit.InclusionProof{}, fmt.Errorf("the stored record is damaged (%v): run phigate audit verify -postgres", err)
	}
	return audit.InclusionProof{
		Kind: rec.Kind, LeafIndex: index, TreeSize: t.checkpoint.Size,
		Leaf: string(line), Proof: path, Checkpoint: t.checkpoint.Note,
	}, nil
}

// checkpointRoot returns the root hash a checkpoint note states, without
// checking its signature: the proof's reader checks that with the
// public key.
func checkpointRoot(c audit.Checkpoint) ([]byte, error) {
	body, _, _ := strings.Cut(c.Note, "\n\n")
	lines := strings.Split(body, "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("checkpoint for %d records has fewer than three lines", c.Size)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || size != c.Size {
		return nil, fmt.Errorf("checkpoint for %d records states size %q", c.Size, lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		return nil, fmt.Errorf("checkpoint for %d records: invalid root hash: %w", c.Size, err)
	}
	return root, nil
}

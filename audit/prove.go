package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// InclusionProof shows that one record is in the tree a checkpoint signs.
// It is the RFC 6962 audit path, so any RFC 6962 verifier (for example
// proof.VerifyInclusion in github.com/transparency-dev/merkle) checks it:
// hash Leaf with the leaf prefix, combine it with Proof, and compare the
// result with the root in Checkpoint.
type InclusionProof struct {
	RequestID string `json:"request_id"`
	Kind      string `json:"kind"`
	// LeafIndex is the record's 0-based position: its seq minus one.
	LeafIndex uint64 `json:"leaf_index"`
	TreeSize  uint64 `json:"tree_size"`
	// Leaf is the record's line as written, without the newline.
	Leaf string `json:"leaf"`
	// Proof lists the sibling hashes from the leaf up, base64 in JSON.
	Proof [][]byte `json:"proof"`
	// Checkpoint is the signed note whose root the proof leads to.
	Checkpoint string `json:"checkpoint"`
}

// ErrNotCheckpointed is returned by Prove when no checkpoint covers the
// record yet; one is written at the latest when phigate stops.
var ErrNotCheckpointed = errors.New("no checkpoint covers the record yet")

// Prove returns inclusion proofs for every record of a request (its
// decision and outcome records), each against the latest checkpoint
// covering it.
func Prove(logPath, requestID string) ([]InclusionProof, error) {
	cps, err := readCheckpoints(CheckpointsPath(logPath))
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	// A log whose earliest records were archived starts with an anchor;
	// its records are leaves from index base on.
	var anchor *Anchor
	base := uint64(0)
	if len(lines) > 0 && isAnchorLine(lines[0]) {
		if anchor, err = parseAnchor(lines[0]); err != nil {
			return nil, fmt.Errorf("audit log line 1: %w", err)
		}
		base, lines = anchor.Records, lines[1:]
	}
	leaves := make([][]byte, len(lines))
	for i, line := range lines {
		leaves[i] = rfc6962.DefaultHasher.HashLeaf(line)
	}

	var proofs []InclusionProof
	for i, line := range lines {
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("audit log record seq %d: %w", base+uint64(i)+1, err)
		}
		if rec.RequestID != requestID {
			continue
		}
		index := base + uint64(i)
		cp, ok := latestCovering(cps, index)
		if !ok {
			return nil, fmt.Errorf("record seq %d: %w", index+1, ErrNotCheckpointed)
		}
		if cp.Size > base+uint64(len(leaves)) {
			return nil, fmt.Errorf("checkpoint covers %d records but the log has %d: run phigate audit verify", cp.Size, base+uint64(len(leaves)))
		}
		var path [][]byte
		if anchor != nil {
			path, err = anchor.inclusionPath(leaves[:cp.Size-base], index)
		} else {
			path, err = inclusionPath(leaves[:cp.Size], index)
		}
		if err != nil {
			return nil, err
		}
		proofs = append(proofs, InclusionProof{
			RequestID: requestID, Kind: rec.Kind, LeafIndex: index, TreeSize: cp.Size,
			Leaf: string(line), Proof: path, Checkpoint: cp.Note,
		})
	}
	if len(proofs) == 0 {
		return nil, fmt.Errorf("no record of request %s in %s", requestID, logPath)
	}
	return proofs, nil
}

// latestCovering returns the last checkpoint whose tree includes index.
func latestCovering(cps []Checkpoint, index uint64) (Checkpoint, bool) {
	for i := len(cps) - 1; i >= 0; i-- {
		if cps[i].Size > index {
			return cps[i], true
		}
	}
	return Checkpoint{}, false
}

// perfectRoot returns the root of a perfect subtree, whose leaf count is
// a power of two, by hashing pairs level by level.
func perfectRoot(level [][]byte) []byte {
	level = append([][]byte(nil), level...)
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i+1 < len(level); i += 2 {
			next = append(next, rfc6962.DefaultHasher.HashChildren(level[i], level[i+1]))
		}
		level = next
	}
	return level[0]
}

// inclusionPath computes the audit path of leaf index in the tree over
// leaves. proof.Inclusion names the nodes, each the root of a perfect
// subtree, and Rehash folds in the one node that a partial right edge
// makes ephemeral.
func inclusionPath(leaves [][]byte, index uint64) ([][]byte, error) {
	size := uint64(len(leaves))
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("planning inclusion proof: %w", err)
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		begin := id.Index << id.Level
		end := begin + 1<<id.Level
		if end > size {
			return nil, fmt.Errorf("proof node %d/%d lies outside a tree of %d leaves", id.Level, id.Index, size)
		}
		hashes[i] = perfectRoot(leaves[begin:end])
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Anchor is the first line of a log whose earliest records were moved to
// an archive (see Archive). It contains the hash that the first remaining
// record links to, and the RFC 6962 compact range of the archived leaves.
// Later checkpoints cover the whole tree from record 1, so their roots are
// recomputed from that range and the remaining records.
//
// The anchor is not a leaf and has no hash of its own. The signed
// checkpoint for exactly Records records authenticates its range, and
// every later checkpoint does too, because its root is computed from it.
type Anchor struct {
	// Records is the number of archived records: the log goes on at seq
	// Records+1.
	Records uint64 `json:"records"`
	// PrevHash is the hash of record Records.
	PrevHash string `json:"prev_hash"`
	// Range lists the roots of the perfect subtrees that cover leaves 0 to
	// Records-1, largest first (compact.RangeNodes order), base64 in JSON.
	Range [][]byte `json:"range"`
}

// anchorLine is the encoding of an Anchor: one JSON object with one key,
// which no record has, so that no record line can be mistaken for it.
type anchorLine struct {
	Anchor *Anchor `json:"anchor"`
}

var anchorPrefix = []byte(`{"anchor":`)

// isAnchorLine reports whether line claims to be an anchor. Only a log's
// first line may; elsewhere the line fails to decode as a record.
func isAnchorLine(line []byte) bool { return bytes.HasPrefix(line, anchorPrefix) }

// encode returns the anchor's line, without a newline.
func (a *Anchor) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(anchorLine{Anchor: a}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// parseAnchor decodes and checks an anchor line. Like a record, the line
// must be in canonical encoding.
func parseAnchor(line []byte) (*Anchor, error) {
	var al anchorLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&al); err != nil {
		return nil, fmt.Errorf("anchor does not decode: %w", err)
	}
	a := al.Anchor
	if a == nil {
		return nil, errors.New("anchor is null")
	}
	if a.Records == 0 {
		return nil, errors.New("anchor covers no records")
	}
	if a.PrevHash == "" {
		return nil, errors.New("anchor has no prev_hash")
	}
	if _, err := a.tree(); err != nil {
		return nil, err
	}
	canonical, err := a.encode()
	if err != nil || !bytes.Equal(canonical, line) {
		return nil, errors.New("anchor is not in canonical encoding: the line was edited")
	}
	return a, nil
}

// tree returns the Merkle tree of the archived records, ready for the
// next leaf.
func (a *Anchor) tree() (*tree, error) {
	for i, h := range a.Range {
		if len(h) != rfc6962.DefaultHasher.Size() {
			return nil, fmt.Errorf("anchor range hash %d has %d bytes, want %d", i+1, len(h), rfc6962.DefaultHasher.Size())
		}
	}
	// The range grows in place as leaves are appended, so it gets its own
	// copy of the hash list.
	rng, err := rangeFactory.NewRange(0, a.Records, append([][]byte(nil), a.Range...))
	if err != nil {
		return nil, fmt.Errorf("anchor range does not fit %d records: %w", a.Records, err)
	}
	return &tree{rng: rng}, nil
}

// rangeNodes maps each node of the anchor's compact range to its hash.
// Inclusion proofs of later records use them for the archived part of the
// tree.
func (a *Anchor) rangeNodes() map[compact.NodeID][]byte {
	ids := compact.RangeNodes(0, a.Records, nil)
	nodes := make(map[compact.NodeID][]byte, len(ids))
	for i, id := range ids {
		nodes[id] = a.Range[i]
	}
	return nodes
}

// newAnchor returns the anchor for a log whose first n records, the leaves
// of t, are archived; prevHash is record n's hash.
func newAnchor(t *tree, prevHash string) *Anchor {
	hashes := t.rng.Hashes()
	return &Anchor{Records: t.size(), PrevHash: prevHash, Range: append([][]byte(nil), hashes...)}
}

// resumeAnchor starts l's chain and tree from the anchor when lines, a
// log's complete lines, begin with one. It returns the record lines and
// the number of archived records before them.
func (l *FileLog) resumeAnchor(lines [][]byte) ([][]byte, uint64, error) {
	if len(lines) == 0 || !isAnchorLine(lines[0]) {
		return lines, 0, nil
	}
	a, err := parseAnchor(lines[0])
	if err != nil {
		return nil, 0, fmt.Errorf("line 1: %w", err)
	}
	t, err := a.tree()
	if err != nil {
		return nil, 0, fmt.Errorf("line 1: %w", err)
	}
	l.tree, l.seq, l.prev = t, a.Records, a.PrevHash
	return lines[1:], a.Records, nil
}

// inclusionPath computes the audit path of leaf index in the tree whose
// first a.Records leaves are archived and whose later leaves are live. A
// record after the anchor never needs a node from inside an archived
// subtree: every sibling on its path is either a node of the anchor's
// range, or combines range nodes with live leaves.
func (a *Anchor) inclusionPath(live [][]byte, index uint64) ([][]byte, error) {
	size := a.Records + uint64(len(live))
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("planning inclusion proof: %w", err)
	}
	known := a.rangeNodes()
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		if hashes[i], err = a.nodeHash(id, known, live); err != nil {
			return nil, err
		}
	}
	return nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

// nodeHash returns the hash of the perfect subtree id, from the anchor's
// range nodes and the live leaves.
func (a *Anchor) nodeHash(id compact.NodeID, known map[compact.NodeID][]byte, live [][]byte) ([]byte, error) {
	if h, ok := known[id]; ok {
		return h, nil
	}
	begin, end := id.Coverage()
	if end > a.Records+uint64(len(live)) {
		return nil, fmt.Errorf("proof node %d/%d lies outside a tree of %d leaves", id.Level, id.Index, a.Records+uint64(len(live)))
	}
	if begin >= a.Records {
		return perfectRoot(live[begin-a.Records : end-a.Records]), nil
	}
	if end <= a.Records || id.Level == 0 {
		return nil, fmt.Errorf("proof node %d/%d lies inside the archived records", id.Level, id.Index)
	}
	left, err := a.nodeHash(compact.NewNodeID(id.Level-1, id.Index*2), known, live)
	if err != nil {
		return nil, err
	}
	right, err := a.nodeHash(compact.NewNodeID(id.Level-1, id.Index*2+1), known, live)
	if err != nil {
		return nil, err
	}
	return rfc6962.DefaultHasher.HashChildren(left, right), nil
}

// Line returns the anchor's canonical line, without a newline. A log, or
// a chain stored elsewhere, whose records up to Records were archived
// starts with this line.
func (a *Anchor) Line() ([]byte, error) { return a.encode() }

// ParseAnchor decodes and checks an anchor line, which must be in
// canonical encoding.
func ParseAnchor(line []byte) (*Anchor, error) { return parseAnchor(line) }

// Anchor returns the anchor for archiving every leaf of m: the compact
// range of the tree and prevHash, the hash of the last record.
func (m *MerkleTree) Anchor(prevHash string) *Anchor { return newAnchor(m.t, prevHash) }

// MerkleTree returns the tree of the archived records, ready for the
// record after them.
func (a *Anchor) MerkleTree() (*MerkleTree, error) {
	t, err := a.tree()
	if err != nil {
		return nil, err
	}
	return &MerkleTree{t: t}, nil
}

// InclusionPath returns the RFC 6962 audit path of leaf index in a tree
// whose first anchor.Records leaves were archived (none when anchor is
// nil) and whose later leaves have the hashes in live, as HashLeaf
// computes them. The tree's size is anchor.Records plus len(live), and
// index must not lie among the archived leaves.
func InclusionPath(anchor *Anchor, live [][]byte, index uint64) ([][]byte, error) {
	if anchor == nil {
		return inclusionPath(live, index)
	}
	if index < anchor.Records {
		return nil, fmt.Errorf("leaf %d is archived: prove it from the archive, whose anchor covers leaves before %d", index, anchor.Records)
	}
	return anchor.inclusionPath(live, index)
}

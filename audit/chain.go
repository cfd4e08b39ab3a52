package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// The functions in this file let stores outside this package (the
// PostgreSQL store) build the same chains, lines and checkpoints as
// FileLog, so that Verify and VerifyWithOptions check them unchanged.

// Link fills in rec's chain fields (Version, Seq, Time, PrevHash and Hash)
// and returns the line a store keeps: the canonical encoding including the
// hash, without a newline. rec.Writer is left as the caller set it, and
// the hash covers it.
func Link(rec *Record, seq uint64, prevHash string, now time.Time) ([]byte, error) {
	rec.Version, rec.Seq, rec.PrevHash = Version, seq, prevHash
	rec.Time = now.UTC().Format(time.RFC3339Nano)

	hash, err := rec.computeHash()
	if err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	rec.Hash = hash

	line, err := rec.canonicalWithHash()
	if err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	return line, nil
}

// ErrInvalidLine is returned, wrapped, by ParseLine for a line that is not
// an intact record.
var ErrInvalidLine = errors.New("invalid audit record line")

// ParseLine decodes one stored line and checks it the way Verify checks
// each record: no unknown fields, a supported version, a hash matching the
// content and the canonical encoding. It cannot check the link to the
// previous record; Verify does that over the whole chain.
func ParseLine(line []byte) (*Record, error) {
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("%w: record does not decode: %v", ErrInvalidLine, err)
	}
	if rec.Version != Version {
		return nil, fmt.Errorf("%w: unsupported record version %d", ErrInvalidLine, rec.Version)
	}

	want, err := rec.computeHash()
	if err != nil {
		return nil, fmt.Errorf("%w: record does not encode: %v", ErrInvalidLine, err)
	}
	if rec.Hash != want {
		return nil, fmt.Errorf("%w: hash does not match the record's content", ErrInvalidLine)
	}
	canonical, err := rec.canonicalWithHash()
	if err != nil || !bytes.Equal(canonical, line) {
		return nil, fmt.Errorf("%w: record is not in canonical encoding", ErrInvalidLine)
	}
	return &rec, nil
}

// MerkleTree is the RFC 6962 tree over a chain's lines that checkpoints
// sign. Its zero value is not usable; call NewMerkleTree.
type MerkleTree struct {
	t *tree
}

// NewMerkleTree returns an empty tree.
func NewMerkleTree() *MerkleTree { return &MerkleTree{t: newTree()} }

// Append adds a line, as stored, as the next leaf.
func (m *MerkleTree) Append(line []byte) { m.t.append(line) }

// AppendLeafHash adds the next leaf by its RFC 6962 leaf hash,
// SHA-256(0x00 || line), for callers that had the hash computed elsewhere
// (for example by the database) instead of reading every line.
func (m *MerkleTree) AppendLeafHash(hash []byte) error {
	if len(hash) != rfc6962.DefaultHasher.Size() {
		return fmt.Errorf("leaf hash has %d bytes, want %d", len(hash), rfc6962.DefaultHasher.Size())
	}
	return m.t.rng.Append(hash, nil)
}

// Size returns the number of leaves.
func (m *MerkleTree) Size() uint64 { return m.t.size() }

// SignCheckpoint returns a checkpoint over the whole tree, signed by signer.
func SignCheckpoint(signer note.Signer, m *MerkleTree) (Checkpoint, error) {
	size := m.t.size()
	text, err := signCheckpoint(signer, size, m.t.root())
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Size: size, Note: text}, nil
}

// AppendCheckpointFile appends c to a checkpoints file, creating it, and
// syncs the file. The file has the format of FileLog's checkpoints file.
func AppendCheckpointFile(path string, c Checkpoint) error {
	if err := appendCheckpoint(path, c); err != nil {
		return fmt.Errorf("appending checkpoint to %s: %w", path, err)
	}
	return nil
}

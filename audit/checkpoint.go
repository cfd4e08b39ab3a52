package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoints are the second level of tamper evidence. The records form
// the leaves of an RFC 6962 Merkle tree, each leaf being a record's line
// as written (canonical encoding with its hash, without the newline). A
// checkpoint is a signed note in the C2SP tlog-checkpoint format: the log's
// origin line, the number of records, and the base64 root hash of the tree
// over those records, signed with an Ed25519 note key.
//
// A signed checkpoint commits to every record it covers. Rewriting the
// log, even with every chain hash recomputed, changes the root. Cutting
// records off the end leaves the log shorter than a checkpoint states.

// Checkpoint is one entry of a log's checkpoints file.
type Checkpoint struct {
	// Size is the number of records the checkpoint covers.
	Size uint64 `json:"size"`
	// Note is the signed note text.
	Note string `json:"note"`
}

// CheckpointsPath returns the checkpoints file that belongs to a log file.
func CheckpointsPath(logPath string) string { return logPath + ".checkpoints" }

// GenerateCheckpointKey returns a new Ed25519 note key pair for origin,
// the name that identifies the log in its checkpoints (for example
// "phigate.example.org/audit"). The private key is what the
// checkpoint_key setting holds; the public key is what `phigate audit
// verify -public-key` takes.
func GenerateCheckpointKey(origin string) (private, public string, err error) {
	return note.GenerateKey(nil, origin)
}

// tree keeps the compact Merkle range of the records appended so far.
type tree struct {
	rng *compact.Range
}

var rangeFactory = compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

func newTree() *tree { return &tree{rng: rangeFactory.NewEmptyRange(0)} }

func (t *tree) append(line []byte) {
	// Append fails only for a nil or wrong-size hash, which HashLeaf never
	// returns.
	_ = t.rng.Append(rfc6962.DefaultHasher.HashLeaf(line), nil)
}

func (t *tree) size() uint64 { return t.rng.End() }

func (t *tree) root() []byte {
	if t.rng.End() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot()
	}
	root, err := t.rng.GetRootHash(nil)
	if err != nil {
		// A non-empty range always has a root.
		panic(err)
	}
	return root
}

// signCheckpoint returns the signed note for a tree.
func signCheckpoint(signer note.Signer, size uint64, root []byte) (string, error) {
	text := fmt.Sprintf("%s\n%d\n%s\n", signer.Name(), size, base64.StdEncoding.EncodeToString(root))
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return "", fmt.Errorf("signing checkpoint: %w", err)
	}
	return string(msg), nil
}

// openCheckpoint checks a checkpoint's signature, when verifier is set, and
// returns the size and root hash it states.
func openCheckpoint(c Checkpoint, verifier note.Verifier) (uint64, []byte, error) {
	text := c.Note
	if verifier != nil {
		n, err := note.Open([]byte(c.Note), note.VerifierList(verifier))
		if err != nil {
			return 0, nil, fmt.Errorf("checkpoint signature does not verify: %w", err)
		}
		text = n.Text
	} else if i := strings.Index(text, "\n\n"); i >= 0 {
		text = text[:i+1]
	}
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		return 0, nil, errors.New("checkpoint has fewer than three lines")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("checkpoint size: %w", err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		return 0, nil, fmt.Errorf("checkpoint root hash: %w", err)
	}
	if size != c.Size {
		return 0, nil, fmt.Errorf("checkpoint entry has size %d but its note has %d", c.Size, size)
	}
	return size, root, nil
}

// readCheckpoints reads a checkpoints file; a missing file holds none.
func readCheckpoints(path string) ([]Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	var cps []Checkpoint
	for i, line := range bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("checkpoints line %d: %w", i+1, err)
		}
		cps = append(cps, c)
	}
	return cps, nil
}

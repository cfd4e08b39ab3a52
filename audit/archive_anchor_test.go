package audit

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// The RFC 6962 test vectors that github.com/transparency-dev/merkle ships
// in its testonly package: eight leaf inputs, the root of every tree size
// from 0 to 8, and the compact range of each size.
func TestTreeMatchesRFC6962Vectors(t *testing.T) {
	leaves := testonly.LeafInputs()
	roots := testonly.RootHashes()
	ranges := testonly.CompactTrees()
	for size := 0; size <= len(leaves); size++ {
		tr := newTree()
		for _, leaf := range leaves[:size] {
			tr.append(leaf)
		}
		if got := tr.root(); !bytes.Equal(got, roots[size]) {
			t.Errorf("root of %d leaves = %x, want %x", size, got, roots[size])
		}
		if got := tr.rng.Hashes(); !equalHashes(got, ranges[size]) {
			t.Errorf("compact range of %d leaves = %x, want %x", size, got, ranges[size])
		}
	}
}

func TestInclusionPathMatchesReference(t *testing.T) {
	for _, tc := range referenceTrees() {
		for size := uint64(1); size <= uint64(len(tc.leaves)); size++ {
			for index := range size {
				got, err := inclusionPath(tc.hashes[:size], index)
				if err != nil {
					t.Fatalf("%s: inclusionPath(%d of %d): %v", tc.name, index, size, err)
				}
				want, err := tc.ref.InclusionProof(index, size)
				if err != nil {
					t.Fatal(err)
				}
				if !equalHashes(got, want) {
					t.Errorf("%s: proof of leaf %d in %d = %x, want %x", tc.name, index, size, got, want)
				}
				if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, tc.hashes[index], got, tc.ref.HashAt(size)); err != nil {
					t.Errorf("%s: proof of leaf %d in %d does not verify: %v", tc.name, index, size, err)
				}
			}
		}
	}
}

// After archiving the first n leaves, the anchor's range and the live
// leaves must give the same roots and proofs as the whole tree.
func TestAnchorMatchesReference(t *testing.T) {
	for _, tc := range referenceTrees() {
		total := uint64(len(tc.leaves))
		for n := uint64(1); n <= total; n++ {
			archived := newTree()
			for _, leaf := range tc.leaves[:n] {
				archived.append(leaf)
			}
			anchor := newAnchor(archived, "prev")

			resumed, err := anchor.tree()
			if err != nil {
				t.Fatalf("%s: anchor for %d leaves: %v", tc.name, n, err)
			}
			for size := n; size <= total; size++ {
				if size > n {
					resumed.append(tc.leaves[size-1])
				}
				if got, want := resumed.root(), tc.ref.HashAt(size); !bytes.Equal(got, want) {
					t.Errorf("%s: root of %d leaves after an anchor for %d = %x, want %x", tc.name, size, n, got, want)
				}
				for index := n; index < size; index++ {
					got, err := anchor.inclusionPath(tc.hashes[n:size], index)
					if err != nil {
						t.Fatalf("%s: anchored proof of leaf %d in %d after %d: %v", tc.name, index, size, n, err)
					}
					want, err := tc.ref.InclusionProof(index, size)
					if err != nil {
						t.Fatal(err)
					}
					if !equalHashes(got, want) {
						t.Errorf("%s: anchored proof of leaf %d in %d after %d = %x, want %x", tc.name, index, size, n, got, want)
					}
				}
			}
		}
	}
}

func TestAnchorProofRejectsArchivedLeaf(t *testing.T) {
	tr := newTree()
	for i := range 8 {
		tr.append([]byte{byte(i)})
	}
	anchor := newAnchor(tr, "prev")
	live := [][]byte{rfc6962.DefaultHasher.HashLeaf([]byte{8})}
	if _, err := anchor.inclusionPath(live, 3); err == nil || !strings.Contains(err.Error(), "inside the archived records") {
		t.Errorf("proof of an archived leaf = %v, want an error saying it is archived", err)
	}
}

type referenceTree struct {
	name   string
	leaves [][]byte
	hashes [][]byte // leaf hashes
	ref    *testonly.Tree
}

// referenceTrees returns the RFC 6962 vector leaves and a larger tree of
// 37 synthetic leaves, whose sizes reach uneven right edges five levels
// deep.
func referenceTrees() []referenceTree {
	var synthetic [][]byte
	for i := range 37 {
		synthetic = append(synthetic, []byte(fmt.Sprintf("leaf %d", i)))
	}
	var trees []referenceTree
	for _, tc := range []struct {
		name   string
		leaves [][]byte
	}{{"RFC 6962 vectors", testonly.LeafInputs()}, {"37 leaves", synthetic}} {
		ref := testonly.New(rfc6962.DefaultHasher)
		ref.AppendData(tc.leaves...)
		var hashes [][]byte
		for _, leaf := range tc.leaves {
			hashes = append(hashes, rfc6962.DefaultHasher.HashLeaf(leaf))
		}
		trees = append(trees, referenceTree{name: tc.name, leaves: tc.leaves, hashes: hashes, ref: ref})
	}
	return trees
}

func equalHashes(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestParseAnchorRejects(t *testing.T) {
	tr := newTree()
	for i := range 5 {
		tr.append([]byte{byte(i)})
	}
	good, err := newAnchor(tr, "abc").encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseAnchor(good); err != nil {
		t.Fatalf("parseAnchor of a valid anchor: %v", err)
	}
	hash := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name string
		line string
		want string
	}{
		{name: "too few range hashes", line: `{"anchor":{"records":5,"prev_hash":"abc","range":["` + hash + `"]}}`, want: "got 1 values, want 2"},
		{name: "short range hash", line: `{"anchor":{"records":1,"prev_hash":"abc","range":["AAAA"]}}`, want: "has 3 bytes, want 32"},
		{name: "no records", line: `{"anchor":{"records":0,"prev_hash":"abc","range":[]}}`, want: "covers no records"},
		{name: "no prev hash", line: `{"anchor":{"records":1,"prev_hash":"","range":["` + hash + `"]}}`, want: "no prev_hash"},
		{name: "null", line: `{"anchor":null}`, want: "anchor is null"},
		{name: "unknown field", line: `{"anchor":{"records":1,"prev_hash":"a","range":["` + hash + `"],"by":"x"}}`, want: "unknown field"},
		{name: "extra spaces", line: strings.Replace(string(good), `"records":5`, `"records": 5`, 1), want: "not in canonical encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAnchor([]byte(tt.line))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseAnchor = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParseAnchor(f *testing.F) {
	tr := newTree()
	for i := range 6 {
		tr.append([]byte{byte(i)})
	}
	good, err := newAnchor(tr, "abc").encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"anchor":{"records":1,"prev_hash":"x","range":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}}`))
	f.Add([]byte(`{"anchor":{"records":18446744073709551615,"prev_hash":"x","range":[]}}`))
	f.Add([]byte(`{"anchor":{}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		a, err := parseAnchor(line)
		if err != nil {
			return
		}
		tr, err := a.tree()
		if err != nil {
			t.Fatalf("parseAnchor accepted an anchor whose range does not load: %v", err)
		}
		if tr.size() != a.Records {
			t.Fatalf("anchor for %d records gives a tree of %d", a.Records, tr.size())
		}
		again, err := a.encode()
		if err != nil || !bytes.Equal(again, line) {
			t.Fatalf("parseAnchor accepted a line that does not re-encode to itself: %q", line)
		}
	})
}

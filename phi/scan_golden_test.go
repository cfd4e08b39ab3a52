package phi

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// updateScanGolden rewrites testdata/scan_golden.txt.gz from the current
// scanner. Run it only when a change to the detectors is meant to change
// what they find, and review the new counts in the diff of the test log.
var updateScanGolden = flag.Bool("update-scan-golden", false, "rewrite testdata/scan_golden.txt.gz from the current scanner")

const scanGoldenPath = "testdata/scan_golden.txt.gz"

// corporaDir holds the public corpora that scanCorpus reads when they are
// present, relative to the package directory.
const corporaDir = "../../shared/corpora"

// corpusText is one text of the scan corpus and where it comes from.
type corpusText struct {
	source string
	text   string
}

// scanCorpus collects the texts that the golden and reference tests scan.
// They are every file under testdata and evaluation/testdata, whole and
// line by line, and every string literal in this package's tests. When
// they are present, the clinical queries, the Presidio sentences and the
// Synthea resources and notes under corporaDir are added.
func scanCorpus(t *testing.T) []corpusText {
	t.Helper()

	var texts []corpusText
	for _, dir := range []string{"testdata", "evaluation/testdata"} {
		texts = append(texts, fileTexts(t, dir)...)
	}
	texts = append(texts, testLiterals(t)...)
	texts = append(texts, queryTexts(t, filepath.Join(corporaDir, "clinical-queries-dev/queries.txt"))...)
	texts = append(texts, presidioTexts(t, filepath.Join(corporaDir, "presidio-synth/synth_dataset_v2.json"))...)
	texts = append(texts, syntheaTexts(t, filepath.Join(corporaDir, "synthea-fhir-10"))...)
	return texts
}

// fileTexts returns each file under dir, except compressed ones, as one
// text and each of its non-empty lines as another.
func fileTexts(t *testing.T, dir string) []corpusText {
	t.Helper()

	var texts []corpusText
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasSuffix(path, ".gz") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		texts = append(texts, corpusText{path, string(data)})
		for line := range strings.SplitSeq(string(data), "\n") {
			if strings.TrimSpace(line) != "" {
				texts = append(texts, corpusText{path + " line", line})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return texts
}

// testLiterals returns the string literals of this package's tests, which
// hold the hand-written cases of every detector.
func testLiterals(t *testing.T) []corpusText {
	t.Helper()

	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatalf("list tests: %v", err)
	}
	var texts []corpusText
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && s != "" {
				texts = append(texts, corpusText{name + " literal", s})
			}
			return true
		})
	}
	return texts
}

// queryTexts returns the queries of a file in the synthetic-clinical-queries
// format, or nothing when the file is absent.
func queryTexts(t *testing.T, path string) []corpusText {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("skipping queries: %v", err)
		return nil
	}
	var texts []corpusText
	for block := range strings.SplitSeq(string(data), "===QUERY===") {
		query, _, _ := strings.Cut(block, "===PHI_TAGS===")
		if query = strings.TrimSpace(query); query != "" {
			texts = append(texts, corpusText{"queries", query})
		}
	}
	return texts
}

// presidioTexts returns the full_text values of a Presidio evaluation
// set, or nothing when the file is absent.
func presidioTexts(t *testing.T, path string) []corpusText {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("skipping Presidio sentences: %v", err)
		return nil
	}
	var records []struct {
		FullText string `json:"full_text"`
	}
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	texts := make([]corpusText, 0, len(records))
	for _, r := range records {
		texts = append(texts, corpusText{"presidio", r.FullText})
	}
	return texts
}

// syntheaTexts returns each line of the Synthea NDJSON files in dir and
// the decoded clinical note of each DocumentReference, or nothing when dir
// is absent.
func syntheaTexts(t *testing.T, dir string) []corpusText {
	t.Helper()

	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if err != nil || len(files) == 0 {
		t.Logf("skipping Synthea resources in %s", dir)
		return nil
	}
	var texts []corpusText
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			texts = append(texts, corpusText{"synthea " + filepath.Base(path), line})
			var doc struct {
				Content []struct {
					Attachment struct{ Data string } `json:"attachment"`
				} `json:"content"`
			}
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			for _, c := range doc.Content {
				if note, err := base64.StdEncoding.DecodeString(c.Attachment.Data); err == nil && len(note) > 0 {
					texts = append(texts, corpusText{"synthea note", string(note)})
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		f.Close()
	}
	return texts
}

// textKey identifies a text in the golden file by a prefix of its SHA-256.
func textKey(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// findingsDigest returns a prefix of the SHA-256 of every field of every
// finding, with the confidence written exactly.
func findingsDigest(findings []Finding) string {
	h := sha256.New()
	for _, f := range findings {
		fmt.Fprintf(h, "%s %d %d %s %s\n", f.Type, f.Start, f.End, strconv.FormatFloat(f.Confidence, 'g', -1, 64), f.Detector)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// TestScanGolden checks that DefaultScanner finds exactly what it found
// when the golden file was written, text by text, in type, span,
// confidence and detector. Texts added since then are counted, not
// checked.
func TestScanGolden(t *testing.T) {
	texts := scanCorpus(t)
	got := make(map[string]string, len(texts))
	for _, c := range texts {
		findings := DefaultScanner().Scan(c.text)
		got[textKey(c.text)] = fmt.Sprintf("%s %d", findingsDigest(findings), len(findings))
	}

	if *updateScanGolden {
		writeScanGolden(t, got)
		return
	}
	want := readScanGolden(t)

	checked, unknown, failed := 0, 0, 0
	seen := make(map[string]bool, len(texts))
	for _, c := range texts {
		key := textKey(c.text)
		if seen[key] {
			continue
		}
		seen[key] = true
		w, ok := want[key]
		if !ok {
			unknown++
			continue
		}
		checked++
		if got[key] != w {
			failed++
			if failed <= 20 {
				t.Errorf("%s %q: findings digest and count %s, golden %s", c.source, preview(c.text), got[key], w)
			}
		}
	}
	t.Logf("checked %d texts against the golden file, %d not in it", checked, unknown)
	if failed > 0 {
		t.Errorf("%d of %d texts differ; if a detector change is meant to alter findings, rerun with -update-scan-golden", failed, checked)
	}
}

func preview(text string) string {
	if len(text) > 80 {
		return text[:80] + "..."
	}
	return text
}

func readScanGolden(t *testing.T) map[string]string {
	t.Helper()

	f, err := os.Open(scanGoldenPath)
	if err != nil {
		t.Fatalf("open golden file (create it with -update-scan-golden): %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("read %s: %v", scanGoldenPath, err)
	}
	want := make(map[string]string)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("%s: invalid line %q, want key, digest and count", scanGoldenPath, sc.Text())
		}
		want[key] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", scanGoldenPath, err)
	}
	return want
}

func writeScanGolden(t *testing.T, got map[string]string) {
	t.Helper()

	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	})
	f, err := os.Create(scanGoldenPath)
	if err != nil {
		t.Fatalf("create golden file: %v", err)
	}
	zw := gzip.NewWriter(f)
	for _, k := range keys {
		fmt.Fprintf(zw, "%s %s\n", k, got[k])
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("write %s: %v", scanGoldenPath, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("write %s: %v", scanGoldenPath, err)
	}
	t.Logf("wrote %d texts to %s", len(keys), scanGoldenPath)
}

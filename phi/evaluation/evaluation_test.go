package evaluation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phigate/phigate/phi"
)

// mark returns a finding over the n-th (0-based) occurrence of sub in
// text, failing the test when there is none.
func mark(t *testing.T, text, sub string, n int, typ phi.Type) phi.Finding {
	t.Helper()
	from := 0
	for {
		i := strings.Index(text[from:], sub)
		if i < 0 {
			t.Fatalf("%q does not occur %d times in %q", sub, n+1, text)
		}
		if n == 0 {
			return phi.Finding{Type: typ, Start: from + i, End: from + i + len(sub), Confidence: 1, Detector: "test"}
		}
		n--
		from += i + 1
	}
}

// maskAll returns findings over every occurrence of each value in text.
func maskAll(text string, values ...string) []phi.Finding {
	var fs []phi.Finding
	for _, v := range values {
		for _, s := range occurrences(text, v, false) {
			fs = append(fs, phi.Finding{Type: phi.TypeOtherID, Start: s[0], End: s[1], Confidence: 1, Detector: "test"})
		}
	}
	return phi.Resolve(fs)
}

func loadOne(t *testing.T, path string) Corpus {
	t.Helper()
	corpora, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if len(corpora) != 1 {
		t.Fatalf("Load(%s) returned %d corpora, want 1", path, len(corpora))
	}
	return corpora[0]
}

func TestCovered(t *testing.T) {
	fs := []phi.Finding{{Start: 2, End: 5}, {Start: 5, End: 8}, {Start: 10, End: 12}}
	tests := []struct {
		name       string
		start, end int
		want       bool
		wantBytes  int
	}{
		{name: "inside one finding", start: 3, end: 5, want: true, wantBytes: 2},
		{name: "across adjacent findings", start: 2, end: 8, want: true, wantBytes: 6},
		{name: "across a gap", start: 4, end: 11, want: false, wantBytes: 5},
		{name: "before every finding", start: 0, end: 2, want: false, wantBytes: 0},
		{name: "partly outside", start: 11, end: 13, want: false, wantBytes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := covered(fs, tt.start, tt.end); got != tt.want {
				t.Errorf("covered(%d, %d) = %v, want %v", tt.start, tt.end, got, tt.want)
			}
			if got := coveredBytes(fs, tt.start, tt.end); got != tt.wantBytes {
				t.Errorf("coveredBytes(%d, %d) = %d, want %d", tt.start, tt.end, got, tt.wantBytes)
			}
		})
	}
}

func TestLoadDetectsFormats(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "README.md"), []byte("# nothing here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		path      string
		wantNames []string
		wantKinds []Kind
		wantErr   error
	}{
		{name: "directory of corpora", path: "testdata", wantNames: []string{"fhir", "queries", "spans"}, wantKinds: []Kind{KindFHIR, KindQueries, KindSpans}},
		{name: "span file", path: "testdata/spans/cases.json", wantNames: []string{"cases.json"}, wantKinds: []Kind{KindSpans}},
		{name: "query directory", path: "testdata/queries", wantNames: []string{"queries"}, wantKinds: []Kind{KindQueries}},
		{name: "single ndjson file", path: "testdata/fhir/Patient.000.ndjson", wantNames: []string{"Patient.000.ndjson"}, wantKinds: []Kind{KindFHIR}},
		{name: "no corpus", path: empty, wantErr: ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			corpora, err := Load(tt.path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Load error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(corpora) != len(tt.wantNames) {
				t.Fatalf("got %d corpora, want %d", len(corpora), len(tt.wantNames))
			}
			for i, c := range corpora {
				if c.Name() != tt.wantNames[i] {
					t.Errorf("corpus %d name = %q, want %q", i, c.Name(), tt.wantNames[i])
				}
				if c.Kind() != tt.wantKinds[i] {
					t.Errorf("corpus %d kind = %q, want %q", i, c.Kind(), tt.wantKinds[i])
				}
			}
		})
	}
}

func TestPredictionsFile(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		corpus  string
		wantOK  bool
		wantErr bool
		wantN   int
	}{
		{name: "matching corpus", json: `{"tool":"x","corpora":[{"corpus":"a","seconds":2,"documents":[{"id":"0","findings":[{"type":"NAME","start":0,"end":3}]},{"id":"1","findings":[]}]}]}`, corpus: "a", wantOK: true, wantN: 2},
		{name: "other corpus", json: `{"tool":"x","corpora":[{"corpus":"a","documents":[]}]}`, corpus: "b", wantOK: false},
		{name: "duplicate document", json: `{"tool":"x","corpora":[{"corpus":"a","documents":[{"id":"0"},{"id":"0"}]}]}`, corpus: "a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := ReadPredictions(strings.NewReader(tt.json))
			if err != nil {
				t.Fatalf("ReadPredictions: %v", err)
			}
			pred, _, ok, err := pf.For(tt.corpus)
			if (err != nil) != tt.wantErr {
				t.Fatalf("For error = %v, want error %v", err, tt.wantErr)
			}
			if ok != tt.wantOK {
				t.Errorf("For ok = %v, want %v", ok, tt.wantOK)
			}
			if len(pred) != tt.wantN {
				t.Errorf("got predictions for %d documents, want %d", len(pred), tt.wantN)
			}
		})
	}
}

func TestScoreRejectsBadPredictions(t *testing.T) {
	c := loadOne(t, "testdata/spans")
	tests := []struct {
		name string
		pred Predictions
		want error
	}{
		{name: "span past the text", pred: Predictions{"0": {{Type: phi.TypeName, Start: 5, End: 500}}}},
		{name: "no known document", pred: Predictions{"nope": nil}, want: ErrNoDocuments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Score(tt.pred)
			if err == nil {
				t.Fatal("Score succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Score error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRunMeasuresThroughput(t *testing.T) {
	c := loadOne(t, "testdata/queries")
	pred, tp := Run(c, phi.DefaultScanner())

	if len(pred) != len(c.Documents()) {
		t.Errorf("Run predicted %d documents, want %d", len(pred), len(c.Documents()))
	}
	if tp.MBPerSecond <= 0 || tp.Seconds < minMeasureTime.Seconds() {
		t.Errorf("throughput = %+v, want a positive rate over at least %v", tp, minMeasureTime)
	}
}

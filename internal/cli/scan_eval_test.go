package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evalCorpora is a directory with one query corpus (testdata/eval/queries)
// and one span corpus (testdata/eval/spans).
var evalCorpora = filepath.Join("testdata", "eval")

// evalReport is the part of a `scan -eval -format json` report the tests
// check.
type evalReport struct {
	Corpus     string `json:"corpus"`
	Kind       string `json:"kind"`
	Tool       string `json:"tool"`
	Documents  int    `json:"documents"`
	Throughput struct {
		MBPerSecond float64 `json:"mb_per_second"`
	} `json:"throughput"`
	Queries *struct {
		Overall struct {
			Tags   int `json:"tags"`
			Leaked int `json:"leaked"`
		} `json:"overall"`
		HardNegatives int `json:"hard_negatives"`
	} `json:"queries"`
	Spans *struct {
		Overall struct {
			Gold int `json:"gold"`
		} `json:"overall"`
	} `json:"spans"`
}

func decodeReports(t *testing.T, stdout string) []evalReport {
	t.Helper()
	var reports []evalReport
	if err := json.Unmarshal([]byte(stdout), &reports); err != nil {
		t.Fatalf("output is not a JSON report list: %v\n%s", err, stdout)
	}
	return reports
}

func TestScanEvalText(t *testing.T) {
	res := run(t, "", "scan", "--eval", evalCorpora)
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	tests := []struct {
		name string
		want string
	}{
		{name: "query corpus header", want: "corpus queries (queries), tool phigate: 4 documents"},
		{name: "span corpus header", want: "corpus spans (spans), tool phigate: 4 documents"},
		{name: "query table", want: "tag type"},
		{name: "span table", want: "precision any"},
		{name: "over-redaction line", want: "hard negatives over-redacted"},
		{name: "excluded labels", want: "excluded gold spans: DATE_TIME 1, ORGANIZATION 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(res.stdout, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, res.stdout)
			}
		})
	}
}

func TestScanEvalJSON(t *testing.T) {
	res := run(t, "", "scan", "-eval", evalCorpora, "-format", "json")
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	reports := decodeReports(t, res.stdout)
	if len(reports) != 2 {
		t.Fatalf("got %d reports, want 2", len(reports))
	}
	q, s := reports[0], reports[1]
	if q.Kind != "queries" || q.Queries == nil || q.Queries.Overall.Tags != 4 || q.Queries.HardNegatives != 2 {
		t.Errorf("query report = %+v, want kind queries with 4 tags and 2 hard negatives", q)
	}
	if s.Kind != "spans" || s.Spans == nil || s.Spans.Overall.Gold != 5 {
		t.Errorf("span report = %+v, want kind spans with 5 gold spans", s)
	}
	for _, r := range reports {
		if r.Tool != "phigate" || r.Throughput.MBPerSecond <= 0 {
			t.Errorf("report %s: tool %q at %v MB/s, want phigate at a positive rate", r.Corpus, r.Tool, r.Throughput.MBPerSecond)
		}
	}
}

func TestScanEvalPredictions(t *testing.T) {
	res := run(t, "", "scan", "-eval", evalCorpora, "-predictions", filepath.Join(evalCorpora, "predictions.json"), "-format", "json")
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	reports := decodeReports(t, res.stdout)
	if len(reports) != 1 {
		t.Fatalf("got %d reports, want 1 (the file covers only the query corpus)", len(reports))
	}
	r := reports[0]
	if r.Tool != "fixture" || r.Corpus != "queries" {
		t.Errorf("report is for tool %q on %q, want fixture on queries", r.Tool, r.Corpus)
	}
	if r.Documents != 3 {
		t.Errorf("documents = %d, want 3 (only those with predictions)", r.Documents)
	}
	if r.Queries == nil || r.Queries.Overall.Leaked != 0 || r.Queries.Overall.Tags != 4 {
		t.Errorf("query figures = %+v, want 4 tags and none leaked", r.Queries)
	}
}

func TestScanEvalExportTexts(t *testing.T) {
	out := filepath.Join(t.TempDir(), "texts.json")
	res := run(t, "", "scan", "-eval", evalCorpora, "-export-texts", out)
	if res.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing when exporting", res.stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("reading exported texts: %v", err)
	}
	var texts struct {
		Corpora []struct {
			Corpus    string `json:"corpus"`
			Documents []struct {
				ID   string `json:"id"`
				Text string `json:"text"`
			} `json:"documents"`
		} `json:"corpora"`
	}
	if err := json.Unmarshal(data, &texts); err != nil {
		t.Fatalf("exported texts are not JSON: %v", err)
	}
	if len(texts.Corpora) != 2 || len(texts.Corpora[0].Documents) != 4 {
		t.Fatalf("exported %+v, want 2 corpora with 4 documents in the first", texts.Corpora)
	}
	if got := texts.Corpora[0].Documents[0].Text; !strings.HasPrefix(got, "Dose for Anna S.") {
		t.Errorf("first text = %q, want the first query", got)
	}
}

func TestScanEvalErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{name: "eval with files", args: []string{"scan", "-eval", evalCorpora, "note.txt"}, code: 2},
		{name: "eval with redact", args: []string{"scan", "-eval", evalCorpora, "-redact"}, code: 2},
		{name: "predictions without eval", args: []string{"scan", "-predictions", "p.json", "note.txt"}, code: 2},
		{name: "missing corpus", args: []string{"scan", "-eval", filepath.Join("testdata", "no-such-corpus")}, code: 1},
		{name: "not a corpus", args: []string{"scan", "-eval", filepath.Join("testdata", "note.txt")}, code: 1},
		{name: "predictions for another corpus", args: []string{"scan", "-eval", filepath.Join(evalCorpora, "spans"), "-predictions", filepath.Join(evalCorpora, "predictions.json")}, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "", tt.args...)
			if res.code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", res.code, tt.code, res.stderr)
			}
			if res.stderr == "" {
				t.Error("stderr is empty, want an error message")
			}
		})
	}
}

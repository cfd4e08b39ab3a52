package phi

import (
	"bufio"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// corpusEnv names the environment variable that points to a query corpus
// in the format of the synthetic-clinical-queries dataset
// (github.com/JamesWeatherhead/synthetic-clinical-queries): blocks of
// "===QUERY===", one query line, "===PHI_TAGS===" and one JSON object
// {"identifier_type", "value"} per line.
const corpusEnv = "PHI_QUERY_CORPUS"

type corpusQuery struct {
	text string
	tags []corpusTag
}

type corpusTag struct {
	Type  string `json:"identifier_type"`
	Value string `json:"value"`
}

func readCorpus(t *testing.T, path string) []corpusQuery {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open corpus: %v", err)
	}
	defer f.Close()

	var queries []corpusQuery
	var section string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "===QUERY===":
			queries = append(queries, corpusQuery{})
			section = "query"
		case line == "===PHI_TAGS===":
			section = "tags"
		case strings.TrimSpace(line) == "" || len(queries) == 0:
		case section == "query":
			queries[len(queries)-1].text += line
		case section == "tags":
			var tag corpusTag
			if err := json.Unmarshal([]byte(line), &tag); err != nil {
				t.Fatalf("parse tag %q: %v", line, err)
			}
			q := &queries[len(queries)-1]
			q.tags = append(q.tags, tag)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	return queries
}

// TestCorpusLeaks measures, on a tagged query corpus, how many tagged
// values survive masking and how many untagged queries lose text. A value
// leaks when it still occurs verbatim in the masked query, the measure the
// dataset's authors use. The floors below sit a little under the figures
// measured on the development half of that dataset, so a regression fails.
func TestCorpusLeaks(t *testing.T) {
	path := os.Getenv(corpusEnv)
	if path == "" {
		t.Skipf("set %s to a synthetic-clinical-queries file to measure leaks", corpusEnv)
	}
	queries := readCorpus(t, path)

	minRecall := map[string]float64{
		"DATE":                   0.97,
		"PHONE_NUMBER":           0.95,
		"SOCIAL_SECURITY_NUMBER": 0.95,
		"EMAIL_ADDRESS":          0.90,
		"MEDICAL_RECORD_NUMBER":  0.95,
		"NAME":                   0.70,
	}
	total := map[string]int{}
	masked := map[string]int{}
	negatives, overRedacted := 0, 0
	scanner := DefaultScanner()
	for _, q := range queries {
		findings := scanner.Scan(q.text)
		out := Mask(q.text, findings, nil)
		if len(q.tags) == 0 {
			negatives++
			if len(findings) > 0 {
				overRedacted++
				if testing.Verbose() {
					t.Logf("over-redacted: %s", out)
				}
			}
			continue
		}
		for _, tag := range q.tags {
			if _, ok := minRecall[tag.Type]; !ok {
				continue
			}
			total[tag.Type]++
			if !strings.Contains(out, tag.Value) {
				masked[tag.Type]++
			} else if testing.Verbose() {
				t.Logf("leaked %s %q: %s", tag.Type, tag.Value, out)
			}
		}
	}

	for _, typ := range slices.Sorted(maps.Keys(minRecall)) {
		floor := minRecall[typ]
		recall := float64(masked[typ]) / float64(max(total[typ], 1))
		t.Logf("%-23s masked %3d of %3d (%.3f)", typ, masked[typ], total[typ], recall)
		if recall < floor {
			t.Errorf("%s recall = %.3f, want at least %.3f", typ, recall, floor)
		}
	}
	t.Logf("hard negatives with any finding: %d of %d", overRedacted, negatives)
	if maxOver := negatives / 20; overRedacted > maxOver {
		t.Errorf("%d of %d hard negatives had findings, want at most %d", overRedacted, negatives, maxOver)
	}
}

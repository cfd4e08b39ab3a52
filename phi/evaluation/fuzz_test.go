package evaluation

import (
	"os"
	"strings"
	"testing"

	"github.com/phigate/phigate/phi"
)

// scoreFuzzed scores a corpus read from fuzzed input with the default
// scanner, checking that scoring valid input never fails.
func scoreFuzzed(t *testing.T, c Corpus) {
	pred, _ := runOnce(c)
	if len(pred) == 0 {
		return
	}
	if _, err := c.Score(pred); err != nil {
		t.Fatalf("Score on scanner output: %v", err)
	}
}

// runOnce is Run without the repeated passes that make the throughput
// figure stable, which a fuzz target cannot afford.
func runOnce(c Corpus) (Predictions, int) {
	pred := Predictions{}
	for _, d := range c.Documents() {
		pred[d.ID] = phi.DefaultScanner().Scan(d.Text)
	}
	return pred, len(pred)
}

func addFileSeed(f *testing.F, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
}

func FuzzReadSpans(f *testing.F) {
	addFileSeed(f, "testdata/spans/cases.json")
	f.Add(`[{"full_text": "é", "spans": [{"entity_type": "PERSON", "entity_value": "é", "start_position": 0, "end_position": 1}]}]`)
	f.Fuzz(func(t *testing.T, input string) {
		samples, err := ReadSpans(strings.NewReader(input))
		if err != nil {
			return
		}
		for _, s := range samples {
			for _, g := range s.Spans {
				if g.Start < 0 || g.End < g.Start || g.End > len(s.Text) {
					t.Fatalf("gold span %d-%d outside the %d-byte text", g.Start, g.End, len(s.Text))
				}
			}
		}
		scoreFuzzed(t, NewSpanCorpus("fuzz", samples))
	})
}

func FuzzReadQueries(f *testing.F) {
	addFileSeed(f, "testdata/queries/queries.txt")
	f.Add("===QUERY===\n\n===PHI_TAGS===\n")
	f.Fuzz(func(t *testing.T, input string) {
		queries, err := ReadQueries(strings.NewReader(input))
		if err != nil {
			return
		}
		scoreFuzzed(t, NewQueryCorpus("fuzz", queries))
	})
}

func FuzzReadFHIR(f *testing.F) {
	addFileSeed(f, "testdata/fhir/Patient.000.ndjson")
	addFileSeed(f, "testdata/fhir/DocumentReference.000.ndjson")
	f.Add(`{"resourceType":"Location","address":{"line":"x"},"name":7}`)
	f.Fuzz(func(t *testing.T, input string) {
		resources, err := ReadFHIR(strings.NewReader(input))
		if err != nil {
			return
		}
		scoreFuzzed(t, NewFHIRCorpus("fuzz", resources))
	})
}

package phi

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCorpusNamesAndPlaces measures, on the query corpus that
// PHI_QUERY_CORPUS names, how many NAME and GEOGRAPHIC_LOCATION values
// survive masking. A value leaks when it still occurs verbatim in the
// masked query. The floors sit a little under the figures measured on the
// development half of the synthetic-clinical-queries dataset.
func TestCorpusNamesAndPlaces(t *testing.T) {
	path := os.Getenv(corpusEnv)
	if path == "" {
		t.Skipf("set %s to a synthetic-clinical-queries file to measure leaks", corpusEnv)
	}
	queries := readCorpus(t, path)

	floors := map[string]float64{"NAME": 0.99, "GEOGRAPHIC_LOCATION": 0.95}
	total, masked := map[string]int{}, map[string]int{}
	for _, q := range queries {
		out := Mask(q.text, DefaultScanner().Scan(q.text), nil)
		for _, tag := range q.tags {
			if _, ok := floors[tag.Type]; !ok {
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
	for typ, floor := range floors {
		recall := float64(masked[typ]) / float64(max(total[typ], 1))
		t.Logf("%-20s masked %3d of %3d (%.3f)", typ, masked[typ], total[typ], recall)
		if recall < floor {
			t.Errorf("%s recall = %.3f, want at least %.3f", typ, recall, floor)
		}
	}
}

// syntheaDir is the Synthea FHIR sample that TestSyntheaNoteNames reads,
// relative to the package directory.
const syntheaDir = "../../shared/corpora/synthea-fhir-10"

// TestSyntheaNoteNames measures the share of Synthea clinical notes in
// which every given and family name of the note's patient that occurs in
// the text is masked. Synthea appends digits to names ("Sumiko254"), which
// the name detector must see through. It skips when the corpus is absent.
func TestSyntheaNoteNames(t *testing.T) {
	patients := readSyntheaPatients(t)
	f, err := os.Open(filepath.Join(syntheaDir, "DocumentReference.000.ndjson"))
	if err != nil {
		t.Skipf("Synthea corpus not found: %v", err)
	}
	defer f.Close()

	ageOver89 := regexp.MustCompile(`\b(9\d|1[01]\d) year-old\b`)
	notes, clean, withNames, ages, agesMasked := 0, 0, 0, 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var doc struct {
			Subject struct{ Reference string } `json:"subject"`
			Content []struct {
				Attachment struct{ Data string } `json:"attachment"`
			} `json:"content"`
		}
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("parse DocumentReference: %v", err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(doc.Content[0].Attachment.Data)
		if err != nil {
			t.Fatalf("decode note: %v", err)
		}
		text := string(raw)
		notes++
		out := Mask(text, DefaultScanner().Scan(text), nil)

		names := patients[strings.TrimPrefix(doc.Subject.Reference, "Patient/")]
		present, leaked := 0, ""
		for _, name := range names {
			if !strings.Contains(text, name) {
				continue
			}
			present++
			if strings.Contains(out, name) && leaked == "" {
				leaked = name
			}
		}
		if present > 0 {
			withNames++
			if leaked == "" {
				clean++
			} else if testing.Verbose() && withNames-clean <= 5 {
				t.Logf("leaked %q", leaked)
			}
		}
		if m := ageOver89.FindString(text); m != "" {
			ages++
			if !strings.Contains(out, m) {
				agesMasked++
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read notes: %v", err)
	}

	share := float64(clean) / float64(max(withNames, 1))
	t.Logf("notes %d, with patient names %d, all names masked %d (%.4f)", notes, withNames, clean, share)
	t.Logf("ages over 89: %d, masked %d", ages, agesMasked)
	if share < 0.99 {
		t.Errorf("all names masked in %.4f of notes, want at least 0.99", share)
	}
	if agesMasked != ages {
		t.Errorf("masked %d of %d ages over 89, want all", agesMasked, ages)
	}
}

// readSyntheaPatients returns the given and family names of each patient,
// by resource id.
func readSyntheaPatients(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(syntheaDir, "Patient.000.ndjson"))
	if err != nil {
		t.Skipf("Synthea corpus not found: %v", err)
	}
	patients := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var p struct {
			ID   string `json:"id"`
			Name []struct {
				Family string   `json:"family"`
				Given  []string `json:"given"`
			} `json:"name"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("parse Patient: %v", err)
		}
		for _, n := range p.Name {
			patients[p.ID] = append(patients[p.ID], n.Family)
			patients[p.ID] = append(patients[p.ID], n.Given...)
		}
	}
	return patients
}

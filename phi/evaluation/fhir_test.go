package evaluation

import (
	"strings"
	"testing"
)

// fixtureValues are every identifying value of testdata/fhir and every
// item of its notes.
var fixtureValues = []string{
	"Jane34", "Roe12", "1930-02-03", "2021-05-06", "555-123-4567", "12 Oak St", "Lawrence", "66044", "999-12-3456",
	"ELM CLINIC", "7855551234", "1 Main St", "TOPEKA", "666011234",
	"2021-05-01", "2020-01-02", "91", "90",
}

func TestFHIRFields(t *testing.T) {
	c := loadOne(t, "testdata/fhir").(*FHIRCorpus)
	want := map[string][]string{
		"Patient":      {"name.given=Jane34", "name.family=Roe12", "birthDate=1930-02-03", "deceasedDateTime=2021-05-06", "telecom[phone]=555-123-4567", "address.line=12 Oak St", "address.city=Lawrence", "address.postalCode=66044", "identifier[SS]=999-12-3456"},
		"Organization": {"name=ELM CLINIC", "telecom[phone]=7855551234", "address.line=1 Main St", "address.city=TOPEKA", "address.postalCode=666011234"},
		"Location":     {"name=ELM CLINIC", "address.line=1 Main St", "address.city=TOPEKA", "address.postalCode=666011234"},
	}
	for _, r := range c.Resources {
		t.Run(r.Type, func(t *testing.T) {
			var got []string
			for _, f := range r.Fields() {
				got = append(got, strings.TrimPrefix(f.Kind, r.Type+".")+"="+f.Value)
			}
			if strings.Join(got, "; ") != strings.Join(want[r.Type], "; ") {
				t.Errorf("fields = %v, want %v", got, want[r.Type])
			}
		})
	}
	if len(c.Notes) != 2 {
		t.Errorf("got %d notes, want 2", len(c.Notes))
	}
}

func TestFHIRScore(t *testing.T) {
	c := loadOne(t, "testdata/fhir").(*FHIRCorpus)
	docs := c.Documents()
	predict := func(values ...string) Predictions {
		p := Predictions{}
		for _, d := range docs {
			p[d.ID] = maskAll(d.Text, values...)
		}
		return p
	}
	firstJane := func() Predictions {
		p := predict(fixtureValues...)
		for _, d := range docs {
			if d.ID == c.Notes[0].ID {
				var fs = maskAll(d.Text, "Roe12", "2021-05-01", "91")
				fs = append(fs, mark(t, d.Text, "Jane34", 0, "NAME"))
				p[d.ID] = fs
			}
		}
		return p
	}

	tests := []struct {
		name        string
		pred        Predictions
		wantFound   int
		wantPassed  int
		wantGivenIn int // occurrences of the given name masked
	}{
		{name: "nothing masked", pred: predict(), wantFound: 0, wantPassed: 0, wantGivenIn: 0},
		{name: "everything masked", pred: predict(fixtureValues...), wantFound: 18, wantPassed: 2, wantGivenIn: 2},
		{name: "one name occurrence left", pred: firstJane(), wantFound: 18, wantPassed: 1, wantGivenIn: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Score(tt.pred)
			if err != nil {
				t.Fatalf("Score: %v", err)
			}
			s := r.FHIR
			if s.Overall.Values != 18 {
				t.Errorf("values = %d, want 18", s.Overall.Values)
			}
			if s.Overall.Found != tt.wantFound {
				t.Errorf("found = %d, want %d", s.Overall.Found, tt.wantFound)
			}
			if s.Notes.Notes != 2 || s.Notes.UnknownPatient != 1 {
				t.Errorf("notes = %d with %d unknown patients, want 2 with 1", s.Notes.Notes, s.Notes.UnknownPatient)
			}
			if s.Notes.Passed != tt.wantPassed {
				t.Errorf("notes passed = %d, want %d", s.Notes.Passed, tt.wantPassed)
			}
			items := map[string]NoteItemScore{}
			for _, it := range s.Notes.Items {
				items[it.Kind] = it
			}
			if got := items[itemGiven]; got.Occurrences != 2 || got.Masked != tt.wantGivenIn {
				t.Errorf("given names: %d of %d masked, want %d of 2", got.Masked, got.Occurrences, tt.wantGivenIn)
			}
			if got := items[itemAge]; got.Occurrences != 2 || got.Notes != 2 {
				t.Errorf("ages over 89: %d in %d notes, want 2 in 2", got.Occurrences, got.Notes)
			}
			if got := items[itemFamily]; got.Occurrences != 1 {
				t.Errorf("family names: %d occurrences, want 1", got.Occurrences)
			}
		})
	}
}

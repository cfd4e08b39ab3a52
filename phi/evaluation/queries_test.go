package evaluation

import (
	"strings"
	"testing"

	"github.com/phigate/phigate/phi"
)

func TestReadQueriesErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{name: "text before marker", text: "hello\n===QUERY===\nq\n"},
		{name: "tags without query", text: "===PHI_TAGS===\n"},
		{name: "invalid tag", text: "===QUERY===\nq\n===PHI_TAGS===\n{not json}\n"},
		{name: "empty value", text: "===QUERY===\nq\n===PHI_TAGS===\n{\"identifier_type\": \"NAME\", \"value\": \"\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ReadQueries(strings.NewReader(tt.text)); err == nil {
				t.Error("ReadQueries succeeded, want an error")
			}
		})
	}
}

// The query fixture has one PHI query (four distinct tags, the MRN tagged
// twice), two hard negatives, and one query whose only tag does not occur
// in its text.
func TestQueryScore(t *testing.T) {
	c := loadOne(t, "testdata/queries").(*QueryCorpus)
	q0, q1 := c.Queries[0].Text, c.Queries[1].Text
	all := func(p Predictions) Predictions {
		for _, id := range []string{"0", "1", "2", "3"} {
			if _, ok := p[id]; !ok {
				p[id] = nil
			}
		}
		return p
	}

	type want struct {
		tags, leaked, absent, fully, over int
		mrnTags                           int
		falseDates                        int
	}
	tests := []struct {
		name string
		pred func(t *testing.T) Predictions
		want want
	}{
		{
			name: "nothing masked",
			pred: func(t *testing.T) Predictions { return all(Predictions{}) },
			want: want{tags: 4, leaked: 4, absent: 1, mrnTags: 1},
		},
		{
			name: "every value masked",
			pred: func(t *testing.T) Predictions {
				return all(Predictions{"0": {
					mark(t, q0, "Anna S.", 0, phi.TypeName),
					mark(t, q0, "Elm Clinic", 0, phi.TypeLocation),
					mark(t, q0, "May 3, 2022", 0, phi.TypeDate),
					mark(t, q0, "12345", 0, phi.TypeMRN),
				}})
			},
			want: want{tags: 4, leaked: 0, absent: 1, fully: 1, mrnTags: 1},
		},
		{
			name: "part of a value masked",
			pred: func(t *testing.T) Predictions {
				return all(Predictions{"0": {mark(t, q0, "Anna", 0, phi.TypeName)}})
			},
			want: want{tags: 4, leaked: 3, absent: 1, mrnTags: 1},
		},
		{
			name: "hard negative masked",
			pred: func(t *testing.T) Predictions {
				return all(Predictions{"1": {mark(t, q1, "2021", 0, phi.TypeDate)}})
			},
			want: want{tags: 4, leaked: 4, absent: 1, over: 1, mrnTags: 1, falseDates: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Score(tt.pred(t))
			if err != nil {
				t.Fatalf("Score: %v", err)
			}
			s := r.Queries
			mrn := 0
			for _, row := range s.Types {
				if row.Type == "MEDICAL_RECORD_NUMBER" {
					mrn = row.Tags
				}
			}
			checks := []struct {
				field     string
				got, want int
			}{
				{"tags", s.Overall.Tags, tt.want.tags},
				{"leaked", s.Overall.Leaked, tt.want.leaked},
				{"absent", s.Overall.Absent, tt.want.absent},
				{"PHI queries", s.PHIQueries, 1},
				{"fully masked", s.FullyMasked, tt.want.fully},
				{"hard negatives", s.HardNegatives, 2},
				{"over-redacted", s.OverRedacted, tt.want.over},
				{"MRN tags", mrn, tt.want.mrnTags},
				{"DATE findings on hard negatives", s.FalseFindings["DATE"], tt.want.falseDates},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s = %d, want %d", ch.field, ch.got, ch.want)
				}
			}
		})
	}
}

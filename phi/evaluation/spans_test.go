package evaluation

import (
	"strings"
	"testing"

	"github.com/phigate/phigate/phi"
)

func TestReadSpansOffsets(t *testing.T) {
	samples, err := ReadSpans(strings.NewReader(`[{"full_text": "Zoë Müller in Köln 😀 Jo", "spans": [
		{"entity_type": "PERSON", "entity_value": "Zoë Müller", "start_position": 0, "end_position": 10},
		{"entity_type": "GPE", "entity_value": "Köln", "start_position": 14, "end_position": 18},
		{"entity_type": "PERSON", "entity_value": "Jo", "start_position": 21, "end_position": 23}]}]`))
	if err != nil {
		t.Fatalf("ReadSpans: %v", err)
	}
	text := samples[0].Text
	tests := []struct {
		name string
		want string
	}{
		{name: "two-byte letters", want: "Zoë Müller"},
		{name: "after two-byte letters", want: "Köln"},
		{name: "after a four-byte emoji", want: "Jo"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := samples[0].Spans[i]
			if got := text[g.Start:g.End]; got != tt.want {
				t.Errorf("span %d covers %q (bytes %d-%d), want %q", i, got, g.Start, g.End, tt.want)
			}
		})
	}
}

func TestReadSpansErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{name: "not an array", json: `{"full_text": "x"}`},
		{name: "end past text", json: `[{"full_text": "abc", "spans": [{"entity_type": "PERSON", "entity_value": "abc", "start_position": 0, "end_position": 4}]}]`},
		{name: "inverted span", json: `[{"full_text": "abc", "spans": [{"entity_type": "PERSON", "entity_value": "", "start_position": 2, "end_position": 1}]}]`},
		{name: "value differs", json: `[{"full_text": "Zoë", "spans": [{"entity_type": "PERSON", "entity_value": "Zoë", "start_position": 0, "end_position": 4}]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ReadSpans(strings.NewReader(tt.json)); err == nil {
				t.Error("ReadSpans succeeded, want an error")
			}
		})
	}
}

// The span fixture has five scored gold spans: NAME and PHONE in sample 0,
// NAME and LOCATION in sample 1 (its ORGANIZATION is excluded), and one
// DATE in sample 2 (its bare year is excluded). Sample 3 has none.
func TestSpanScore(t *testing.T) {
	c := loadOne(t, "testdata/spans").(*SpanCorpus)
	s0, s1, s2, s3 := c.Samples[0].Text, c.Samples[1].Text, c.Samples[2].Text, c.Samples[3].Text

	tests := []struct {
		name string
		pred func(t *testing.T) Predictions
		want SpanTypeScore
	}{
		{
			name: "no predictions",
			pred: func(t *testing.T) Predictions { return Predictions{"0": nil, "1": nil, "2": nil, "3": nil} },
			want: SpanTypeScore{Gold: 5},
		},
		{
			name: "every span with its type",
			pred: func(t *testing.T) Predictions {
				return Predictions{
					"0": {mark(t, s0, "Jane Roe", 0, phi.TypeName), mark(t, s0, "555-123-4567", 0, phi.TypePhone)},
					"1": {mark(t, s1, "Zoë Müller", 0, phi.TypeName), mark(t, s1, "Köln", 0, phi.TypeLocation)},
					"2": {mark(t, s2, "2000-04-16", 0, phi.TypeDate)},
					"3": nil,
				}
			},
			want: SpanTypeScore{Gold: 5, FoundAny: 5, FoundExact: 5, Predicted: 5, CorrectAny: 5, CorrectExact: 5},
		},
		{
			name: "one prediction over two gold spans",
			pred: func(t *testing.T) Predictions {
				f := mark(t, s0, "Jane Roe on 555-123-4567", 0, phi.TypeName)
				return Predictions{"0": {f}}
			},
			want: SpanTypeScore{Gold: 2, FoundAny: 2, FoundExact: 1, Predicted: 1, CorrectAny: 1, CorrectExact: 1},
		},
		{
			name: "two predictions in one gold span",
			pred: func(t *testing.T) Predictions {
				return Predictions{"0": {mark(t, s0, "Jane", 0, phi.TypeName), mark(t, s0, "Roe", 0, phi.TypeName)}}
			},
			want: SpanTypeScore{Gold: 2, FoundAny: 1, FoundExact: 1, Predicted: 2, CorrectAny: 2, CorrectExact: 2},
		},
		{
			name: "adjacent prediction does not match",
			pred: func(t *testing.T) Predictions {
				return Predictions{"0": {mark(t, s0, "Call ", 0, phi.TypeName)}}
			},
			want: SpanTypeScore{Gold: 2, Predicted: 1},
		},
		{
			name: "predictions on excluded spans are not counted",
			pred: func(t *testing.T) Predictions {
				return Predictions{
					"1": {mark(t, s1, "Acme", 0, phi.TypeName)},
					"2": {mark(t, s2, "1977", 0, phi.TypeDate)},
				}
			},
			want: SpanTypeScore{Gold: 3},
		},
		{
			name: "other type of the same kind is exact",
			pred: func(t *testing.T) Predictions {
				return Predictions{"1": {mark(t, s1, "Köln", 0, phi.TypeAddress)}}
			},
			want: SpanTypeScore{Gold: 2, FoundAny: 1, FoundExact: 1, Predicted: 1, CorrectAny: 1, CorrectExact: 1},
		},
		{
			name: "zip in a place span is exact",
			pred: func(t *testing.T) Predictions {
				return Predictions{"1": {mark(t, s1, "Köln", 0, phi.TypeZIP)}}
			},
			want: SpanTypeScore{Gold: 2, FoundAny: 1, FoundExact: 1, Predicted: 1, CorrectAny: 1, CorrectExact: 1},
		},
		{
			name: "wrong type matches any only",
			pred: func(t *testing.T) Predictions {
				return Predictions{"0": {mark(t, s0, "555-123-4567", 0, phi.TypeSSN)}}
			},
			want: SpanTypeScore{Gold: 2, FoundAny: 1, Predicted: 1, CorrectAny: 1},
		},
		{
			name: "false positive in a sample without spans",
			pred: func(t *testing.T) Predictions {
				return Predictions{"3": {mark(t, s3, "Nothing", 0, phi.TypeName)}}
			},
			want: SpanTypeScore{Predicted: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Score(tt.pred(t))
			if err != nil {
				t.Fatalf("Score: %v", err)
			}
			got := r.Spans.Overall
			checks := []struct {
				field     string
				got, want int
			}{
				{"gold", got.Gold, tt.want.Gold},
				{"found any", got.FoundAny, tt.want.FoundAny},
				{"found exact", got.FoundExact, tt.want.FoundExact},
				{"predicted", got.Predicted, tt.want.Predicted},
				{"correct any", got.CorrectAny, tt.want.CorrectAny},
				{"correct exact", got.CorrectExact, tt.want.CorrectExact},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s = %d, want %d", ch.field, ch.got, ch.want)
				}
			}
		})
	}
}

func TestSpanScoreRates(t *testing.T) {
	c := loadOne(t, "testdata/spans").(*SpanCorpus)
	s0 := c.Samples[0].Text
	pred := Predictions{"0": {mark(t, s0, "Jane", 0, phi.TypeName), mark(t, s0, "Call", 0, phi.TypeName)}}

	r, err := c.Score(pred)
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	o := r.Spans.Overall
	tests := []struct {
		name      string
		got, want float64
	}{
		{name: "recall", got: o.RecallAny, want: 0.5},
		{name: "precision", got: o.PrecisionAny, want: 0.5},
		{name: "F1", got: o.F1Any, want: 0.5},
		{name: "byte recall", got: o.ByteRecall, want: 4.0 / 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}
	if got := r.Spans.Excluded["DATE_TIME"]; got != 0 {
		t.Errorf("excluded DATE_TIME = %d for sample 0 only, want 0", got)
	}
}

// A prediction that overlaps no gold span is a false positive of its own
// type, also in a sample that has gold spans. One that overlaps only an
// excluded span (ORGANIZATION here), even if it runs past it into plain
// text, counts neither way.
func TestSpanScoreFalsePositives(t *testing.T) {
	c := loadOne(t, "testdata/spans").(*SpanCorpus)
	s0, s1 := c.Samples[0].Text, c.Samples[1].Text
	pred := Predictions{
		"0": {mark(t, s0, "Jane Roe", 0, phi.TypeName), mark(t, s0, "Call", 0, phi.TypeName)},
		"1": {mark(t, s1, "works", 0, phi.TypeLocation), mark(t, s1, "Acme in", 0, phi.TypeName)},
	}

	r, err := c.Score(pred)
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	rows := map[string]SpanTypeScore{}
	for _, row := range r.Spans.Types {
		rows[row.Type] = row
	}
	tests := []struct {
		name               string
		row                SpanTypeScore
		predicted, correct int
		precision          float64
	}{
		{name: "name", row: rows["NAME"], predicted: 2, correct: 1, precision: 0.5},
		{name: "location", row: rows["LOCATION"], predicted: 1, correct: 0, precision: 0},
		{name: "overall", row: r.Spans.Overall, predicted: 3, correct: 1, precision: 1.0 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.row.Predicted != tt.predicted {
				t.Errorf("predicted = %d, want %d", tt.row.Predicted, tt.predicted)
			}
			if tt.row.CorrectAny != tt.correct {
				t.Errorf("correct any = %d, want %d", tt.row.CorrectAny, tt.correct)
			}
			if tt.row.PrecisionAny != tt.precision {
				t.Errorf("precision any = %v, want %v", tt.row.PrecisionAny, tt.precision)
			}
		})
	}
}

package phi

import (
	"os"
	"slices"
	"testing"
)

func readNote(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/clinical_note.txt")
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return string(b)
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		in   []Finding
		want []Finding
	}{
		{
			name: "longer wins",
			in:   []Finding{{Type: TypeZIP, Start: 4, End: 9, Confidence: 1}, {Type: TypeHealthID, Start: 4, End: 14, Confidence: 0.5}},
			want: []Finding{{Type: TypeHealthID, Start: 4, End: 14, Confidence: 0.5}},
		},
		{
			name: "higher confidence wins at equal length",
			in:   []Finding{{Type: TypeSSN, Start: 0, End: 11, Confidence: 0.85}, {Type: TypeMRN, Start: 0, End: 11, Confidence: 0.95}},
			want: []Finding{{Type: TypeMRN, Start: 0, End: 11, Confidence: 0.95}},
		},
		{
			name: "earlier wins on a tie",
			in:   []Finding{{Type: TypeDate, Start: 3, End: 8, Confidence: 0.5}, {Type: TypeName, Start: 1, End: 6, Confidence: 0.5}},
			want: []Finding{{Type: TypeName, Start: 1, End: 6, Confidence: 0.5}},
		},
		{
			name: "sorted and adjacent kept",
			in:   []Finding{{Type: TypeZIP, Start: 10, End: 15}, {Type: TypeName, Start: 0, End: 5}, {Type: TypeDate, Start: 5, End: 10}},
			want: []Finding{{Type: TypeName, Start: 0, End: 5}, {Type: TypeDate, Start: 5, End: 10}, {Type: TypeZIP, Start: 10, End: 15}},
		},
		{
			name: "empty and inverted dropped",
			in:   []Finding{{Type: TypeName, Start: 3, End: 3}, {Type: TypeName, Start: 5, End: 2}, {Type: TypeName, Start: -1, End: 2}, {Type: TypeDate, Start: 6, End: 9}},
			want: []Finding{{Type: TypeDate, Start: 6, End: 9}},
		},
		{
			name: "nil",
			in:   nil,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Resolve(slices.Clone(tc.in))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Resolve(%v)\n got %v\nwant %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	text := "Jane Roe, SSN 999-12-3456, seen 04/12/2023."
	findings := []Finding{
		{Type: TypeName, Start: 0, End: 8},
		{Type: TypeSSN, Start: 14, End: 25},
		{Type: TypeDate, Start: 32, End: 42},
	}
	tests := []struct {
		name     string
		findings []Finding
		selected func(Type) bool
		want     string
	}{
		{"all", findings, nil, "[PHI:NAME], SSN [PHI:SSN], seen [PHI:DATE]."},
		{"selected types", findings, func(t Type) bool { return t == TypeSSN }, "Jane Roe, SSN [PHI:SSN], seen 04/12/2023."},
		{"none selected", findings, func(Type) bool { return false }, text},
		{"no findings", nil, nil, text},
		{"out of range skipped", []Finding{{Type: TypeDate, Start: 32, End: 99}}, nil, text},
		{"overlap skipped", []Finding{{Type: TypeName, Start: 0, End: 8}, {Type: TypeName, Start: 5, End: 12}}, nil, "[PHI:NAME], SSN 999-12-3456, seen 04/12/2023."},
		{"whole text", []Finding{{Type: TypeName, Start: 0, End: len(text)}}, nil, "[PHI:NAME]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Mask(text, tc.findings, tc.selected); got != tc.want {
				t.Errorf("Mask() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMaskScanOutput(t *testing.T) {
	text := "Pt Jane Roe, phone 555-123-4567, jane.roe@example.com"
	got := Mask(text, DefaultScanner().Scan(text), nil)
	want := "Pt [PHI:NAME], phone [PHI:PHONE], [PHI:EMAIL]"
	if got != want {
		t.Errorf("Mask(Scan()) = %q, want %q", got, want)
	}
}

func TestCounts(t *testing.T) {
	got := Counts([]Finding{{Type: TypeName}, {Type: TypeDate}, {Type: TypeName}})
	if got[TypeName] != 2 || got[TypeDate] != 1 || len(got) != 2 {
		t.Errorf("Counts() = %v, want NAME 2, DATE 1", got)
	}
}

func TestPlaceholder(t *testing.T) {
	if got := Placeholder(TypeSSN); got != "[PHI:SSN]" {
		t.Errorf("Placeholder(SSN) = %q, want %q", got, "[PHI:SSN]")
	}
}

func TestZeroScanner(t *testing.T) {
	var s Scanner
	if got := s.Scan("SSN 123-45-6789"); len(got) != 0 {
		t.Errorf("zero Scanner found %v, want nothing", got)
	}
}

package phi

import (
	"regexp"
	"strings"
	"testing"
)

func TestPseudonymizerApply(t *testing.T) {
	text := "Jane Roe and John Roe; Jane Roe SSN 999-12-3456."
	findings := []Finding{
		{Type: TypeName, Start: 0, End: 8},
		{Type: TypeName, Start: 13, End: 21},
		{Type: TypeName, Start: 23, End: 31},
		{Type: TypeSSN, Start: 36, End: 47},
	}
	tests := []struct {
		name     string
		findings []Finding
		selected func(Type) bool
		want     string
	}{
		{"all", findings, nil, "[NAME_1] and [NAME_2]; [NAME_1] SSN [SSN_1]."},
		{"selected type", findings, func(t Type) bool { return t == TypeSSN }, "Jane Roe and John Roe; Jane Roe SSN [SSN_1]."},
		{"no findings", nil, nil, text},
		{"overlap skipped", []Finding{{Type: TypeName, Start: 0, End: 8}, {Type: TypeName, Start: 5, End: 12}}, nil, "[NAME_1] and John Roe; Jane Roe SSN 999-12-3456."},
		{"out of range skipped", []Finding{{Type: TypeSSN, Start: 36, End: 99}}, nil, text},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPseudonymizer(text)
			got := p.Apply(text, tc.findings, tc.selected)
			if got != tc.want {
				t.Fatalf("Apply() = %q, want %q", got, tc.want)
			}
			if back := p.Restore(got); back != text {
				t.Errorf("Restore(Apply()) = %q, want %q", back, text)
			}
		})
	}
}

func TestPseudonymizerSameValueAcrossTexts(t *testing.T) {
	p := NewPseudonymizer()
	first := p.Apply("Jane Roe", []Finding{{Type: TypeName, Start: 0, End: 8}}, nil)
	second := p.Apply("hi Jane Roe", []Finding{{Type: TypeName, Start: 3, End: 11}}, nil)
	if first != "[NAME_1]" || second != "hi [NAME_1]" {
		t.Errorf("Apply() = %q then %q, want one placeholder for one value", first, second)
	}
	date := p.Apply("Jane Roe", []Finding{{Type: TypeDate, Start: 0, End: 8}}, nil)
	if date != "[DATE_1]" {
		t.Errorf("same value as another type = %q, want %q", date, "[DATE_1]")
	}
}

// TestPseudonymizerUnambiguous checks that "[NAME_1]" is never read inside
// "[NAME_12]" or a longer bracketed token.
func TestPseudonymizerUnambiguous(t *testing.T) {
	p := NewPseudonymizer()
	var b strings.Builder
	var findings []Finding
	for i := range 12 {
		start := b.Len()
		b.WriteString("Name")
		b.WriteByte(byte('A' + i))
		findings = append(findings, Finding{Type: TypeName, Start: start, End: b.Len()})
		b.WriteByte(' ')
	}
	text := b.String()
	out := p.Apply(text, findings, nil)
	if !strings.Contains(out, "[NAME_12]") {
		t.Fatalf("Apply() = %q, want a twelfth placeholder", out)
	}

	tests := []struct {
		name, input, want string
	}{
		{"twelve is not one", "[NAME_12]", "NameL"},
		{"one", "[NAME_1]", "NameA"},
		{"adjacent", "[NAME_1][NAME_12]", "NameANameL"},
		{"unissued number", "[NAME_13]", "[NAME_13]"},
		{"nested bracket", "[x[NAME_2]]", "[xNameB]"},
		{"unclosed", "[NAME_1", "[NAME_1"},
		{"other type", "[SSN_1]", "[SSN_1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Restore(tc.input); got != tc.want {
				t.Errorf("Restore(%q) = %q, want %q", tc.input, got, tc.want)
			}
		})
	}
}

func TestPseudonymizerCollision(t *testing.T) {
	text := "Template uses [NAME_1] for Jane Roe."
	findings := []Finding{{Type: TypeName, Start: 27, End: 35}}
	p := NewPseudonymizer(text)
	out := p.Apply(text, findings, nil)

	marked := regexp.MustCompile(`^Template uses \[NAME_1\] for \[NAME_1_[a-z2-9]{6}\]\.$`)
	if !marked.MatchString(out) {
		t.Fatalf("Apply() = %q, want a marked placeholder", out)
	}
	if back := p.Restore(out); back != text {
		t.Errorf("Restore() = %q, want %q", back, text)
	}
	if got := p.Restore("[NAME_1]"); got != "[NAME_1]" {
		t.Errorf("Restore of the client's own text = %q, want it unchanged", got)
	}
}

func TestPseudonymizerCollisionSeenByApply(t *testing.T) {
	text := "see [SSN_1] and 999-12-3456"
	p := NewPseudonymizer()
	out := p.Apply(text, []Finding{{Type: TypeSSN, Start: 16, End: 27}}, nil)
	if strings.Contains(out, "and [SSN_1]") {
		t.Fatalf("Apply() = %q reused a placeholder that the text already contains", out)
	}
	if back := p.Restore(out); back != text {
		t.Errorf("Restore() = %q, want %q", back, text)
	}
}

func TestPartialPlaceholderLen(t *testing.T) {
	p := NewPseudonymizer()
	p.Apply("Jane Roe", []Finding{{Type: TypeName, Start: 0, End: 8}}, nil)
	tests := []struct {
		name  string
		chunk string
		want  int
	}{
		{"no bracket", "hello", 0},
		{"bracket only", "hello [", 1},
		{"type prefix", "hello [NA", 3},
		{"up to number", "hello [NAME_", 6},
		{"whole placeholder", "hello [NAME_1]", 0},
		{"not a prefix", "hello [x", 0},
		{"last bracket counts", "[[NAME", 5},
		{"empty", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.PartialPlaceholderLen(tc.chunk); got != tc.want {
				t.Errorf("PartialPlaceholderLen(%q) = %d, want %d", tc.chunk, got, tc.want)
			}
		})
	}
}

func TestStreamRestorer(t *testing.T) {
	p := NewPseudonymizer()
	p.Apply("Jane Roe", []Finding{{Type: TypeName, Start: 0, End: 8}}, nil)
	response := "Hello [NAME_1], and [x] [NAME_1]!"
	want := "Hello Jane Roe, and [x] Jane Roe!"
	for size := 1; size <= len(response); size++ {
		s := p.NewStreamRestorer()
		var got strings.Builder
		for i := 0; i < len(response); i += size {
			got.WriteString(s.Next(response[i:min(i+size, len(response))]))
		}
		got.WriteString(s.Flush())
		if got.String() != want {
			t.Errorf("chunks of %d: restored %q, want %q", size, got.String(), want)
		}
	}
}

func TestStreamRestorerWithEncode(t *testing.T) {
	p := NewPseudonymizer()
	p.Apply(`Jane "JR" Roe`, []Finding{{Type: TypeName, Start: 0, End: 13}}, nil)
	escape := func(v string) string { return strings.ReplaceAll(v, `"`, `\"`) }
	arguments := `{"patient": "[NAME_1]"}`
	want := `{"patient": "Jane \"JR\" Roe"}`
	for size := 1; size <= len(arguments); size++ {
		s := p.NewStreamRestorerWith(escape)
		var got strings.Builder
		for i := 0; i < len(arguments); i += size {
			got.WriteString(s.Next(arguments[i:min(i+size, len(arguments))]))
		}
		got.WriteString(s.Flush())
		if got.String() != want {
			t.Errorf("chunks of %d: restored %q, want %q", size, got.String(), want)
		}
	}
	if got := p.RestoreWith("[NAME_1]", nil); got != `Jane "JR" Roe` {
		t.Errorf("RestoreWith(nil encode) = %q, want the value unchanged", got)
	}
}

// TestPseudonymizerRoundTrip pseudonymizes the note fixture with the
// default Scanner's findings and checks that Restore gives it back.
func TestPseudonymizerRoundTrip(t *testing.T) {
	text := readNote(t)
	p := NewPseudonymizer(text)
	out := p.Apply(text, DefaultScanner().Scan(text), nil)
	if out == text {
		t.Fatal("Apply() changed nothing")
	}
	if strings.Contains(out, "Jane Roe") {
		t.Errorf("pseudonymized text still contains a name")
	}
	if back := p.Restore(out); back != text {
		t.Errorf("Restore(Apply()) differs from the input")
	}
}

// FuzzPseudonymizer checks the round trip on arbitrary text and findings
// made from the input bytes: Restore(Apply(text)) == text, and Restore
// leaves text without issued placeholders unchanged.
func FuzzPseudonymizer(f *testing.F) {
	f.Add("Jane Roe [NAME_1] 999-12-3456", []byte{0, 8, 9, 9, 18, 11})
	f.Add("[SSN_1][SSN_12]", []byte{0, 3, 3, 2})
	f.Fuzz(func(t *testing.T, text string, spans []byte) {
		types := []Type{TypeName, TypeSSN, TypeHealthID, TypeDate}
		var findings []Finding
		last := 0
		for i := 0; i+1 < len(spans) && len(text) > 0; i += 2 {
			start := last + int(spans[i])%8
			end := start + 1 + int(spans[i+1])%12
			if end > len(text) {
				break
			}
			findings = append(findings, Finding{Type: types[int(spans[i])%len(types)], Start: start, End: end})
			last = end
		}
		p := NewPseudonymizer(text)
		out := p.Apply(text, findings, nil)
		if back := p.Restore(out); back != text {
			t.Fatalf("Restore(Apply(%q)) = %q (pseudonymized %q)", text, back, out)
		}
		if got := p.Restore(text); got != text {
			t.Fatalf("Restore(%q) changed input text to %q", text, got)
		}
		for cut := 0; cut <= len(out); cut++ {
			s := p.NewStreamRestorer()
			got := s.Next(out[:cut]) + s.Next(out[cut:]) + s.Flush()
			if got != text {
				t.Fatalf("stream split at %d restored %q, want %q", cut, got, text)
			}
		}
	})
}

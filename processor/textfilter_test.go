package processor

import (
	"strings"
	"testing"

	"github.com/phigate/phigate/phi"
	"github.com/phigate/phigate/translate"
)

// feed passes text through the filter in chunks of size bytes, then
// flushes, and returns everything the filter released.
func feed(f *responseFilter, key translate.PartKey, text string, size int) string {
	var out strings.Builder
	for i := 0; i < len(text); i += size {
		out.WriteString(f.Next(key, text[i:min(i+size, len(text))]))
	}
	out.WriteString(f.Flush(key))
	return out.String()
}

func TestResponseFilterRestores(t *testing.T) {
	request := `Summarise the visit of Ann "Nan" Example.`
	name := `Ann "Nan" Example`
	start := strings.Index(request, name)
	tests := []struct {
		name   string
		kind   translate.PartKind
		output string
		want   string
	}{
		{"text", translate.PartText, "[NAME_1] was seen today.", name + " was seen today."},
		{"json arguments", translate.PartJSON, `{"patient":"[NAME_1]"}`, `{"patient":"Ann \"Nan\" Example"}`},
		{"unissued placeholder", translate.PartText, "[NAME_2] and [NAME_12]", "[NAME_2] and [NAME_12]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for size := 1; size <= len(tt.output); size++ {
				pseudo := phi.NewPseudonymizer(request)
				pseudo.Apply(request, []phi.Finding{{Type: phi.TypeName, Start: start, End: start + len(name)}}, nil)
				f := newResponseFilter(pseudo, nil, nil, nil)
				key := translate.PartKey{Kind: tt.kind}
				if got := feed(f, key, tt.output, size); got != tt.want {
					t.Fatalf("chunks of %d: got %q, want %q", size, got, tt.want)
				}
			}
		})
	}
}

func TestResponseFilterMasksNewPHI(t *testing.T) {
	scanner := phi.DefaultScanner()
	known := map[string]bool{"555-0100": true}
	output := "Call the clinic at 555-0100. The patient's SSN is 219-09-9999 and the chart notes nothing else of interest today."
	for size := 1; size <= len(output); size += 7 {
		f := newResponseFilter(nil, scanner, []string{string(phi.TypeSSN), string(phi.TypePhone)}, known)
		got := feed(f, translate.PartKey{}, output, size)
		if strings.Contains(got, "219-09-9999") {
			t.Errorf("chunks of %d: new SSN reached the client: %q", size, got)
		}
		if !strings.Contains(got, "555-0100") {
			t.Errorf("chunks of %d: the request's own phone number was masked: %q", size, got)
		}
		if f.masked[string(phi.TypeSSN)] != 1 {
			t.Errorf("chunks of %d: masked counts = %v, want one SSN", size, f.masked)
		}
	}
}

func TestResponseFilterHoldsBackLittle(t *testing.T) {
	f := newResponseFilter(nil, phi.DefaultScanner(), []string{string(phi.TypeSSN)}, nil)
	key := translate.PartKey{}
	long := strings.Repeat("word ", 40)
	got := f.Next(key, long)
	// The cut falls at a space, so up to one word more than
	// outputHoldBytes stays back.
	if held := len(long) - len(got); held > outputHoldBytes+len("word ") {
		t.Errorf("held back %d bytes of plain text, want at most %d", held, outputHoldBytes+len("word "))
	}
	if got == "" {
		t.Error("released nothing of a long plain text")
	}
}

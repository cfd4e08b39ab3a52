package phi

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are inputs near the edges of the detectors' grammars.
var fuzzSeeds = []string{
	"",
	"SSN: 999-12-3456, MRN: ST-998877, member ID HP-678901",
	"Call (555) 123-4567 or fax +1 555.123.4568 x12",
	"DOB 4/12, seen April 12, 2023, 12 April 2023, Nov. 22nd '23, 17-Feb-2023",
	"Pt. Jane A. Roe, Dr. O'Brien-Smith's note, Anna S.",
	"12 Oak Hill Rd Apt 4B, Lawrence, KS 66044-1234",
	"https://example.com/a_(b). www.example.org, jane.roe@example.com.",
	"10.0.0.1 1.2.3.4.5 fe80::1: ::ffff:192.0.2.1 :: 1::",
	"take 1/2 tab 3/4 times daily, BP 120/80, E11.9, Vitamin D.",
	"MRN 123e4567-e89b-12d3-a456-426614174000",
}

// FuzzScan checks the Scanner's contract on arbitrary text: spans lie
// within the text, are sorted and do not overlap, and masking removes each
// finding's text unless the same text also occurs outside the findings.
func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add(readNote(f))
	f.Fuzz(func(t *testing.T, text string) {
		findings := DefaultScanner().Scan(text)
		last := 0
		for _, fd := range findings {
			if fd.Start < last || fd.End <= fd.Start || fd.End > len(text) {
				t.Fatalf("finding %+v out of order or bounds (previous end %d, text length %d)", fd, last, len(text))
			}
			if fd.Confidence <= 0 || fd.Confidence > 1 || fd.Detector == "" || fd.Type == "" {
				t.Fatalf("finding %+v: want confidence in (0, 1], a detector and a type", fd)
			}
			last = fd.End
		}

		out := Mask(text, findings, nil)
		var rest strings.Builder
		last = 0
		for _, fd := range findings {
			rest.WriteString(text[last:fd.Start])
			rest.WriteByte(0)
			last = fd.End
		}
		rest.WriteString(text[last:])
		// A short value can also be part of a placeholder ("A" in
		// "[PHI:ADDRESS]"), which is no leak.
		var placeholders strings.Builder
		for _, fd := range findings {
			placeholders.WriteString(Placeholder(fd.Type))
		}
		for _, fd := range findings {
			value := text[fd.Start:fd.End]
			if strings.Contains(out, value) && !strings.Contains(rest.String(), value) && !strings.Contains(value, "[PHI:") && !strings.Contains(placeholders.String(), value) {
				t.Fatalf("masked output %q still contains %q", out, value)
			}
		}
	})
}

// FuzzDetectors runs each detector alone and checks that it appends to
// dst, names itself and stays within the text. It also checks each value
// with an independent validator: IP addresses must parse with net/netip,
// numeric dates with time.Parse, and email addresses must have one "@".
func FuzzDetectors(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	sentinel := Finding{Type: TypeOtherID, Start: 0, End: 0, Detector: "sentinel"}
	f.Fuzz(func(t *testing.T, text string) {
		for _, d := range DefaultScanner().detectors {
			out := d.Detect(text, []Finding{sentinel})
			if len(out) == 0 || out[0] != sentinel {
				t.Fatalf("%s: dst not kept", d.Name())
			}
			for _, fd := range out[1:] {
				if fd.Start < 0 || fd.End <= fd.Start || fd.End > len(text) || fd.Detector != d.Name() {
					t.Fatalf("%s: invalid finding %+v for text length %d", d.Name(), fd, len(text))
				}
				checkValue(t, fd, text[fd.Start:fd.End])
			}
		}
	})
}

func checkValue(t *testing.T, fd Finding, value string) {
	t.Helper()
	switch fd.Type {
	case TypeIPAddress:
		if _, err := netip.ParseAddr(value); err != nil {
			t.Fatalf("IP finding %q does not parse: %v", value, err)
		}
	case TypeEmail:
		if strings.Count(value, "@") != 1 {
			t.Fatalf("email finding %q: want one @", value)
		}
	case TypeDate:
		if len(value) == 10 && value[4] == '-' && value[7] == '-' {
			if _, err := time.Parse("2006-01-02", value); err != nil {
				t.Fatalf("ISO date finding %q does not parse: %v", value, err)
			}
		}
		if len(value) == 10 && value[2] == '/' && value[5] == '/' {
			_, errMonthFirst := time.Parse("01/02/2006", value)
			_, errDayFirst := time.Parse("02/01/2006", value)
			if errMonthFirst != nil && errDayFirst != nil {
				t.Fatalf("numeric date finding %q is valid neither month first nor day first", value)
			}
		}
	}
}

// resolveReference is the plain quadratic form of Resolve's rule: rank all
// findings best first and keep each one that overlaps no kept finding.
func resolveReference(findings []Finding) []Finding {
	var valid []Finding
	for _, f := range findings {
		if f.End > f.Start && f.Start >= 0 {
			valid = append(valid, f)
		}
	}
	slices.SortFunc(valid, compareRank)
	var kept []Finding
	for _, f := range valid {
		overlaps := false
		for _, k := range kept {
			if f.Start < k.End && k.Start < f.End {
				overlaps = true
			}
		}
		if !overlaps {
			kept = append(kept, f)
		}
	}
	slices.SortFunc(kept, func(a, b Finding) int { return a.Start - b.Start })
	return kept
}

// FuzzResolve checks that Resolve, which works cluster by cluster, keeps
// exactly the findings that the plain rule keeps. Each group of four input
// bytes is one finding: start, length (which may be negative), confidence
// and type.
func FuzzResolve(f *testing.F) {
	f.Add([]byte{0, 5, 1, 0, 3, 5, 2, 1, 10, 2, 1, 2})
	f.Add([]byte{0, 4, 1, 0, 2, 4, 1, 1, 4, 4, 1, 2, 6, 4, 1, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		types := []Type{TypeName, TypeDate, TypeSSN, TypeMRN}
		var in []Finding
		for i := 0; i+4 <= len(data); i += 4 {
			start := int(data[i] % 64)
			in = append(in, Finding{
				Type:       types[data[i+3]%4],
				Start:      start,
				End:        start + int(int8(data[i+1]))%16,
				Confidence: float64(data[i+2]%4) / 4,
			})
		}
		want := resolveReference(slices.Clone(in))
		got := Resolve(slices.Clone(in))
		if !slices.Equal(got, want) {
			t.Fatalf("Resolve(%v)\n got %v\nwant %v", in, got, want)
		}
	})
}

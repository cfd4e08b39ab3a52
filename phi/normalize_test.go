package phi

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalizeView(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // "" when the text needs no change
	}{
		{"ascii", "SSN 999-12-3456", ""},
		{"accented prose", "José García, café", ""},
		{"russian prose", "Пациент Мария", ""},
		{"backslash without escape", `C:\dir \d+`, ""},
		{"full-width digits", "９９９-１２-３４５６", "999-12-3456"},
		{"arabic-indic digits", "٩٩٩-١٢-٣٤٥٦", "999-12-3456"},
		{"devanagari digits", "९९९", "999"},
		{"mathematical digits", "𝟗𝟗𝟗", "999"},
		{"superscript digits", "¹²³", "123"},
		{"circled number", "①⑩", "110"},
		{"non-breaking hyphen", "999\u201112\u20113456", "999-12-3456"},
		{"em dash and minus", "1\u20142\u22123", "1-2-3"},
		{"no-break spaces", "a\u00a0b\u202fc\u3000d", "a b c d"},
		{"zero-width characters", "9\u200b9\u200c9\u200d-\u2060\ufeff12", "999-12"},
		{"soft hyphen", "Ja\u00adne", "Jane"},
		{"bidirectional override", "\u202e999\u202c", "999"},
		{"keycap digit", "9\ufe0f\u20e3", "9"},
		{"combining mark after ascii", "9\u03369\u0336", "99"},
		{"tag characters", "\U000e0053\U000e0053\U000e004e", "SSN"},
		{"cyrillic look-alikes in latin word", "МRN", "MRN"},
		{"greek look-alikes alone", "ΜΡΝ", "MPN"},
		{"typographic apostrophe", "O\u2019Brien", "O'Brien"},
		{"numero sign", "№ 5", "No 5"},
		{"json newline", `x\nJane`, "x\nJane"},
		{"json tab and quote", `\t\"a\"`, "\t\"a\""},
		{"json escaped backslash", `\\n`, `\n`},
		{"json unicode escape", `\u0039\u00e9`, "9é"},
		{"json escaped full-width digit", `\uff19`, "9"},
		{"json escaped zero-width space", `9\u200b9`, "99"},
		{"json surrogate pair", `\ud835\udfd7`, "9"},
		{"json lone surrogate", `\ud835x`, ""},
		{"json control escape", `a\u0001b`, "a b"},
		{"invalid utf-8", "9\xff9", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			view := normalize(tc.input)
			if tc.want == "" {
				if view != nil {
					t.Fatalf("normalize(%q) = %q, want no change", tc.input, view.text)
				}
				return
			}
			if view == nil {
				t.Fatalf("normalize(%q) = no change, want %q", tc.input, tc.want)
			}
			if view.text != tc.want {
				t.Errorf("normalize(%q) = %q, want %q", tc.input, view.text, tc.want)
			}
		})
	}
}

// TestScanObfuscated checks that detectors see through obfuscation and
// that each span covers exactly the original characters.
func TestScanObfuscated(t *testing.T) {
	runScanCases(t, []scanCase{
		{"non-breaking hyphens", "SSN 999\u201112\u20113456.", []span{{TypeSSN, "999\u201112\u20113456"}}},
		{"full-width ssn", "SSN: ９９９-１２-３４５６", []span{{TypeSSN, "９９９-１２-３４５６"}}},
		{"zero-width inside ssn", "ssn 9\u200b9\u200b9-12-3456", []span{{TypeSSN, "9\u200b9\u200b9-12-3456"}}},
		{"zero-width after span stays out", "ssn 999-12-3456\u200b ok", []span{{TypeSSN, "999-12-3456"}}},
		{"arabic-indic phone", "phone ٥٥٥-١٢٣-٤٥٦٧", []span{{TypePhone, "٥٥٥-١٢٣-٤٥٦٧"}}},
		{"cyrillic label", "МRN: 12345678", []span{{TypeMRN, "12345678"}}},
		{"no-break space in date", "DOB 04/12/1961\u00a0today", []span{{TypeDate, "04/12/1961"}}},
		{"email with full-width at", "jane.roe＠example.com", []span{{TypeEmail, "jane.roe＠example.com"}}},
		{"spaced ssn digits", "SSN 9 9 9 1 2 3 4 5 6", []span{{TypeSSN, "9 9 9 1 2 3 4 5 6"}}},
		{"dashed ssn digits", "social security 9-9-9-1-2-3-4-5-6", []span{{TypeSSN, "9-9-9-1-2-3-4-5-6"}}},
		{"spaced phone digits", "call 5 5 5 2 1 2 4 5 6 7", []span{{TypePhone, "5 5 5 2 1 2 4 5 6 7"}}},
		{"spaced fax digits", "fax 55 52 12 45 67", []span{{TypeFax, "55 52 12 45 67"}}},
		{"spaced digits without cue", "scores 9 9 9 1 2 3 4 5 6", nil},
		{"json escaped ssn", `{\"ssn\":\"999-12-3456\"}`, []span{{TypeSSN, "999-12-3456"}}},
		{"json newline before label", `note\nMRN: 12345678`, []span{{TypeMRN, "12345678"}}},
		{"json escaped digits", `SSN \u0039\u0039\u0039-12-3456`, []span{{TypeSSN, `\u0039\u0039\u0039-12-3456`}}},
		{"pasted json", `{"name":"Jane Roe","ssn":"999-12-3456"}`, []span{{TypeName, "Jane Roe"}, {TypeSSN, "999-12-3456"}}},
		{"dosage with unicode fraction", "take ½ tab", nil},
		{"vitals with no-break space", "BP\u00a0120/80, HR\u00a072, SpO2\u00a098%", nil},
	})
}

// TestNormalizeNewlineSeparatesName checks that an escaped newline does
// not glue to the word after it: "\nJane" must read as "Jane" at a line
// start.
func TestNormalizeNewlineSeparatesName(t *testing.T) {
	text := `Patient:\nJane Roe`
	view := normalize(text)
	if view == nil {
		t.Fatal("normalize returned no view for a JSON escape")
	}
	i := strings.Index(view.text, "Jane")
	if i < 1 || view.text[i-1] != '\n' {
		t.Fatalf("view %q: want a line break right before Jane", view.text)
	}
	if got := text[view.start(i):view.end(i+len("Jane Roe"))]; got != "Jane Roe" {
		t.Errorf("mapped span = %q, want %q", got, "Jane Roe")
	}
}

func TestDigitValueRanges(t *testing.T) {
	for _, table := range []struct {
		name   string
		ranges [][2]rune
	}{
		{"R16", func() (rs [][2]rune) {
			for _, r := range unicode.Nd.R16 {
				rs = append(rs, [2]rune{rune(r.Lo), rune(r.Hi)})
			}
			return rs
		}()},
		{"R32", func() (rs [][2]rune) {
			for _, r := range unicode.Nd.R32 {
				rs = append(rs, [2]rune{rune(r.Lo), rune(r.Hi)})
			}
			return rs
		}()},
	} {
		t.Run(table.name, func(t *testing.T) {
			for _, r := range table.ranges {
				if (r[1]-r[0]+1)%10 != 0 {
					t.Errorf("Nd range %U-%U is not a whole number of 0-9 runs", r[0], r[1])
				}
			}
		})
	}
	if got := digitValue('٧'); got != 7 {
		t.Errorf("digitValue(Arabic-Indic seven) = %d, want 7", got)
	}
	if got := digitValue('x'); got != -1 {
		t.Errorf("digitValue('x') = %d, want -1", got)
	}
}

func TestNormalizeASCIINoAllocation(t *testing.T) {
	text := readNote(t)
	allocs := testing.AllocsPerRun(100, func() {
		if normalize(text) != nil {
			t.Fatal("normalize changed ASCII text")
		}
	})
	if allocs != 0 {
		t.Errorf("normalize of ASCII text: %v allocations, want 0", allocs)
	}
}

// runeBoundaries returns the offsets where a range loop over s starts a
// character, plus len(s).
func runeBoundaries(s string) map[int]bool {
	b := map[int]bool{len(s): true}
	for i := range s {
		b[i] = true
	}
	return b
}

// FuzzNormalize checks the offset map: it never panics, mapped offsets lie
// within the original text on character boundaries and never decrease,
// each span maps to a non-empty span, and text that is ASCII without
// backslashes is left as it is.
func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("９９９\u2011１２\u200b-3456 \\u0039\\n\\\"x\\ud835\\udfd7 МRN ①")
	f.Add("\xe2\x82 \\u12 \\")
	f.Fuzz(func(t *testing.T, text string) {
		view := normalize(text)
		if view == nil {
			return
		}
		if needsNormalizing(text) < 0 {
			t.Fatalf("normalize changed %q, which is ASCII without backslashes", text)
		}
		bounds := runeBoundaries(text)
		prevStart, prevEnd := 0, 0
		for o := 0; o < len(view.text); o++ {
			s, e := view.start(o), view.end(o+1)
			if s < 0 || e > len(text) || s >= e {
				t.Fatalf("byte %d of view %q maps to [%d, %d) of %q", o, view.text, s, e, text)
			}
			if !bounds[s] || !bounds[e] {
				t.Fatalf("byte %d maps to [%d, %d), not on character boundaries of %q", o, s, e, text)
			}
			if s < prevStart || e < prevEnd {
				t.Fatalf("byte %d maps to [%d, %d) before the previous [%d, %d)", o, s, e, prevStart, prevEnd)
			}
			prevStart, prevEnd = s, e
		}
		if !utf8.ValidString(text) {
			return
		}
		for _, seg := range view.segs {
			if seg.identity && seg.srcEnd-seg.src > 0 {
				out := view.text[seg.out : seg.out+seg.srcEnd-seg.src]
				if out != text[seg.src:seg.srcEnd] {
					t.Fatalf("identity segment %+v copies %q, want %q", seg, out, text[seg.src:seg.srcEnd])
				}
			}
		}
	})
}

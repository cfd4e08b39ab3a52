package phi

import (
	"strings"
	"testing"
)

// setMaskByDefinition is the mask of the word sets that hold word as
// inWordSet tests it, one set at a time.
func setMaskByDefinition(word string) uint64 {
	if len(word) == 0 || len(word) > 24 || !isLetter(word[0]) {
		return 0
	}
	return wordSetMask(word)
}

// TestLookupWordSets checks that the word-set mask a lexicon lookup returns
// equals what inWordSet tests, for every member of every set in three
// cases and for words outside ASCII, whose Unicode lowercase differs from
// their ASCII one.
func TestLookupWordSets(t *testing.T) {
	words := []string{
		"tér", "TÉR", "Tér", "út", "straße", "STRASSE", "İs", "İS", "Šárka",
		"Ölz", "K\u212Aa", "", "x", "-", "'s", "women's", "cedars-sinai",
		"abcdefghijklmnopqrstuvwxy", "abcdefghijklmnopqrstuvwxyz0123456789",
	}
	for _, w := range wordSetTable.words {
		if w == "" {
			continue
		}
		words = append(words, w, strings.ToUpper(w), strings.ToUpper(w[:1])+w[1:])
	}
	for _, w := range words {
		if got, want := lookupWord(w).sets, setMaskByDefinition(w); got != want {
			t.Errorf("lookupWord(%q).sets = %#x, want %#x", w, got, want)
		}
	}
}

// TestLexHashCase checks that the lexicon hash ignores ASCII case only.
func TestLexHashCase(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "ascii case", a: "MaRtInEz", b: "martinez", same: true},
		{name: "eight bytes", a: "ABCDEFGH", b: "abcdefgh", same: true},
		{name: "long word", a: "Vasquez-Rodriguez", b: "vasquez-rodriguez", same: true},
		{name: "different word", a: "anna", b: "anne"},
		{name: "trailing zero byte", a: "ab", b: "ab\x00"},
		{name: "non-ascii case", a: "Å", b: "å"},
		{name: "punctuation is not a letter", a: "@", b: "`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lexHash(tt.a) == lexHash(tt.b); got != tt.same {
				t.Errorf("lexHash(%q) == lexHash(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
			}
			if lexHash(tt.a)>>63 != 1 {
				t.Errorf("lexHash(%q) has the top bit clear, which marks an empty slot", tt.a)
			}
		})
	}
}

// TestIndexLookup checks that the word cache of the index returns what
// lookupWord returns, for every word start of several texts and for the
// word ends the detectors use, on the first and the repeated lookup and
// after the index is rebuilt for another text.
func TestIndexLookup(t *testing.T) {
	texts := []string{
		readNote(t),
		"Dear Šárka Nováková, Anna-Maria O'Brien and Zoë met Dr. Åberg in Cedars-Sinai on Elm St.",
		"patient mary johnson lives in san francisco, CA 94110; son: Jörg",
		"X",
	}
	var ix textIndex
	for round := 0; round < 2; round++ {
		for _, text := range texts {
			ix.build(text)
			for pass := 0; pass < 2; pass++ {
				for i := 0; i < len(text); i++ {
					if !isLetter(text[i]) || i > 0 && isAlnum(text[i-1]) {
						continue
					}
					for _, end := range []int{wordEnd(text, i), nameWordEnd(text, i), placeWordEnd(text, i)} {
						got, want := ix.lookup(text, i, end), lookupWord(text[i:end])
						if got != want {
							t.Fatalf("round %d pass %d: lookup of %q = %+v, want %+v", round, pass, text[i:end], got, want)
						}
					}
				}
			}
		}
	}
}

// TestIndexLookupNotWordStart checks that a word that does not start at a
// word start of the index is looked up without the cache.
func TestIndexLookupNotWordStart(t *testing.T) {
	text := "4Anna Smith"
	var ix textIndex
	ix.build(text)
	if got, want := ix.lookup(text, 1, 5), lookupWord("Anna"); got != want {
		t.Errorf("lookup after a digit = %+v, want %+v", got, want)
	}
	if ix.slot(text, 1, 5) != nil {
		t.Error("slot after a digit is not nil, want nil: the index has no word start there")
	}
}

// TestPrevLetterStart compares the backward bitmap search with a walk over
// the bytes, for every position and window of a text longer than one
// 64-bit word of the bitmap.
func TestPrevLetterStart(t *testing.T) {
	text := strings.Repeat("DOB: 04/12/1961, seen 5x in clinic; tel 555 010 4477. ", 3)
	var ix textIndex
	ix.build(text)
	walk := func(i, from int) int {
		for ; i >= from; i-- {
			if isLetter(text[i]) && (i == 0 || !isLetter(text[i-1])) {
				return i
			}
		}
		return from - 1
	}
	for from := 0; from < len(text); from += 7 {
		for i := from - 1; i < len(text); i++ {
			if got, want := ix.prevLetterStart(text, i, from), walk(i, from); got != want {
				t.Fatalf("prevLetterStart(%d, %d) = %d, want %d", i, from, got, want)
			}
		}
	}
}

func TestDigitRunHas(t *testing.T) {
	tests := []struct {
		name string
		text string
		n    int
		want bool
	}{
		{name: "dose", text: "500 mg", n: 7, want: false},
		{name: "decimal", text: "14.2, then", n: 7, want: false},
		{name: "dashed phone", text: "555-010-4478", n: 7, want: true},
		{name: "parenthesized phone", text: "(555) 010-4477", n: 7, want: true},
		{name: "international phone", text: "+44 (0) 20 7946 0018", n: 7, want: true},
		{name: "spaced digits", text: "5 5 5 0 1 0 4", n: 7, want: true},
		{name: "gap of three", text: "555 - 0104", n: 7, want: true},
		{name: "gap of four", text: "555 -- 0104", n: 7, want: false},
		{name: "slash ends the run", text: "555/010-4477", n: 7, want: false},
		{name: "ssn", text: "999-55-0101", n: 9, want: true},
		{name: "short ssn", text: "999-55-010", n: 9, want: false},
		{name: "card in groups", text: "4111 1111 1111 1111", n: 13, want: true},
		{name: "end of text", text: "555010", n: 7, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := digitRunHas(tt.text, 0, tt.n); got != tt.want {
				t.Errorf("digitRunHas(%q, 0, %d) = %v, want %v", tt.text, tt.n, got, tt.want)
			}
		})
	}
}

// TestPlaceWordsFirstWords checks that the place-word filter holds the
// first word of every country name, which mayBePlace relies on.
func TestPlaceWordsFirstWords(t *testing.T) {
	for _, name := range countryNames.members {
		first, _, _ := strings.Cut(name, " ")
		if !inWordSet(placeWords, first) {
			t.Errorf("placeWords lacks %q, the first word of %q", first, name)
		}
	}
	for _, w := range []string{"st", "saint", "hospital", "county", "street", "ucsf"} {
		if !inWordSet(placeWords, w) {
			t.Errorf("placeWords lacks %q", w)
		}
	}
}

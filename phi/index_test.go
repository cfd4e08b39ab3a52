package phi

import (
	"slices"
	"strings"
	"testing"
)

// scanReference is Scan without a textIndex: every detector walks every
// byte of the text, as the detectors did before the index and as Detect
// still does. It shares normalization, Resolve and repeatNames with Scan, so a
// difference between the two can only come from the index, for example a
// byteSet that misses a byte where a detector can start a finding.
func scanReference(s *Scanner, text string) []Finding {
	found := Resolve(s.detect(text, normalize(text), nil, nil))
	if more := repeatNames(text, found, nil); more != nil {
		found = Resolve(more)
	}
	return found
}

// inByteSet is the definition of the byte sets, one position at a time.
func inByteSet(text string, i int, set byteSet) bool {
	c := text[i]
	afterAlnum := i > 0 && isAlnum(text[i-1])
	afterLetter := i > 0 && isLetter(text[i-1])
	switch set {
	case setLetter:
		return isLetter(c)
	case setAlnum:
		return isAlnum(c)
	case setNumberStart:
		return isDigit(c) && !afterAlnum
	case setPhoneStart:
		return (isDigit(c) || '(' <= c && c <= '+') && !afterAlnum
	case setDateStart:
		return isDigit(c) && !afterAlnum || isUpper(c) && !afterLetter && triggersAt(text, i)&triggerDateWord != 0
	case setPlaceStart:
		return (isUpper(c) || c >= 0xC0) && !afterAlnum
	case setCapitalStart:
		return isUpper(c) && !afterAlnum
	case setWordStart:
		return isLetter(c) && !afterAlnum
	case setLetterStart:
		return isLetter(c) && !afterLetter
	case setCodeStart:
		return '(' <= c && c <= '+' || isDigit(c) && !afterAlnum || inByteSet(text, i, setCapitalPair) ||
			isHex(c) && isLetter(c) && !afterAlnum && macGroupAt(text, i)
	case setCapitalPair:
		return isUpper(c) && !afterAlnum && i+1 < len(text) && (isUpper(text[i+1]) || isDigit(text[i+1]))
	case setPostcodeStart:
		return inByteSet(text, i, setNumberStart) || inByteSet(text, i, setCapitalPair)
	case setNameVisit:
		return (isUpper(c) || c >= 0xC0) && !afterAlnum || isLetter(c) && !afterAlnum && triggersAt(text, i)&triggerName != 0
	case setNameCue:
		return isLetter(c) && !afterAlnum && triggersAt(text, i)&triggerName != 0
	case setIDCue:
		return isLetter(c) && !afterLetter && triggersAt(text, i)&triggerID != 0
	case setAddressVisit:
		return isDigit(c) || isLetter(c) && !afterAlnum && triggersAt(text, i)&triggerAddress != 0
	}
	panic("unknown byte set")
}

// triggersAt returns the word triggers of the letter at i.
func triggersAt(text string, i int) uint8 {
	a, b := prefixClasses(text, i)
	return wordTriggers[a][b]
}

// nextByWalking is textIndex.next written as a walk over the bytes.
func nextByWalking(text string, set byteSet, i int) int {
	if i >= len(text) {
		return i
	}
	for i < len(text) && !inByteSet(text, i, set) {
		i++
	}
	return i
}

// TestClassify64 checks classify64 and classifyTail with every byte value
// at every place of a 64-byte block, among fillers that are in no class,
// in a class and not ASCII.
func TestClassify64(t *testing.T) {
	for _, filler := range []byte{0, ' ', 'a', 'Z', '5', '(', 0x80, 0xff} {
		for c := range 256 {
			for lane := range 64 {
				var chunk [64]byte
				for k := range chunk {
					chunk[k] = filler
				}
				chunk[lane] = byte(c)
				for _, classify := range []func(string) byteClasses{classify64, classifyTail} {
					got := classify(string(chunk[:]))
					for k, b := range chunk {
						gotBits := [5]bool{got.digit>>k&1 == 1, got.upper>>k&1 == 1, got.lower>>k&1 == 1, got.open>>k&1 == 1, got.lead>>k&1 == 1}
						want := [5]bool{isDigit(b), isUpper(b), isLower(b), '(' <= b && b <= '+', b >= 0xC0}
						if gotBits != want {
							t.Fatalf("byte %d of a block with %#x in lane %d: digit, upper, lower, open, lead = %v, want %v", k, c, lane, gotBits, want)
						}
					}
				}
			}
		}
	}
}

// checkIndexNext compares next, wordEnd and alnumEnd with an index built
// for text against walks over the bytes, at every position and for every
// set.
func checkIndexNext(t *testing.T, text string) {
	t.Helper()
	var ix textIndex
	ix.build(text)
	for set := range numByteSets {
		for i := 0; i <= len(text)+1; i++ {
			got := ix.next(text, set, i)
			want := nextByWalking(text, set, i)
			if got != want {
				t.Fatalf("next(set %d, %d) on %q = %d, want %d", set, i, text, got, want)
			}
		}
	}
	for i := 0; i <= len(text)+1; i++ {
		if got, want := ix.wordEnd(text, i), wordEnd(text, i); got != want {
			t.Fatalf("wordEnd(%d) on %q = %d, want %d", i, text, got, want)
		}
		if got, want := ix.alnumEnd(text, i), alnumEnd(text, i); got != want {
			t.Fatalf("alnumEnd(%d) on %q = %d, want %d", i, text, got, want)
		}
	}
}

func TestTextIndexNext(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"one byte", "7"},
		{"no candidates", strings.Repeat(" .,;", 40)},
		{"block edges", strings.Repeat("x", 63) + "A" + strings.Repeat(" ", 64) + "9"},
		{"last byte", strings.Repeat(" ", 127) + "("},
		{"non-ASCII", "Zoë née Šimić, tel. ٠١٢ +1 (555) 010-4477 \xff\x80"},
		{"note", readNote(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkIndexNext(t, tc.text)
		})
	}
}

func TestTextIndexReuse(t *testing.T) {
	var ix textIndex
	long := strings.Repeat("Jane Roe 555-010-4477 ", 20)
	ix.build(long)
	ix.build("ab 12")
	if got := ix.next("ab 12", setNumberStart, 0); got != 3 {
		t.Errorf("next digit after rebuild = %d, want 3", got)
	}
	if got := ix.next("ab 12", setCapitalStart, 0); got != 5 {
		t.Errorf("next uppercase after rebuild = %d, want 5 (none)", got)
	}
	if got := (*textIndex)(nil).next("ab 12", setNumberStart, 1); got != 1 {
		t.Errorf("next without an index = %d, want 1, every position", got)
	}
}

// TestScanMatchesReference checks that Scan, with its index, finds
// exactly what every detector finds by walking each text byte by byte.
func TestScanMatchesReference(t *testing.T) {
	texts := scanCorpus(t)
	for _, s := range fuzzSeeds {
		texts = append(texts, corpusText{"fuzz seed", s})
	}
	scanner := DefaultScanner()
	for _, c := range texts {
		got := scanner.Scan(c.text)
		want := scanReference(scanner, c.text)
		if !slices.Equal(got, want) {
			t.Errorf("%s %q:\n got %v\nwant %v", c.source, preview(c.text), got, want)
		}
	}
}

// FuzzScanReference checks that Scan finds exactly what the detectors
// find by walking every byte, on arbitrary text.
func FuzzScanReference(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add(readNote(f))
	scanner := DefaultScanner()
	f.Fuzz(func(t *testing.T, text string) {
		got := scanner.Scan(text)
		want := scanReference(scanner, text)
		if !slices.Equal(got, want) {
			t.Fatalf("Scan(%q)\n got %v\nwant %v", text, got, want)
		}
	})
}

// FuzzTextIndex checks next with an index against next without one.
func FuzzTextIndex(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			text = text[:4096]
		}
		checkIndexNext(t, text)
	})
}

// TestScanResultNotReused checks that a later Scan, which reuses the
// pooled buffers, leaves the findings of an earlier one intact.
func TestScanResultNotReused(t *testing.T) {
	first := DefaultScanner().Scan("SSN 999-12-3456, call 555-123-4567")
	want := slices.Clone(first)
	for range 3 {
		DefaultScanner().Scan("Jane Roe, MRN: EX-0012345, seen 04/12/2023 at 10.0.0.1")
	}
	if !slices.Equal(first, want) {
		t.Errorf("first result changed to %v, want %v", first, want)
	}
	if len(first) == 0 {
		t.Fatalf("first Scan found nothing, want an SSN and a phone number")
	}
}

func TestMonthOf(t *testing.T) {
	for m, names := range monthNames {
		for _, name := range names {
			for _, word := range []string{name, strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:]} {
				if got := monthOf(word); got != m+1 {
					t.Errorf("monthOf(%q) = %d, want %d", word, got, m+1)
				}
			}
		}
	}
	for _, word := range []string{"", "Ma", "Marc", "Mayo", "Junee", "Decade", "9an", "Sept.", "Septemberr"} {
		if got := monthOf(word); got != 0 {
			t.Errorf("monthOf(%q) = %d, want 0", word, got)
		}
	}
}

// TestWordTriggers checks that every word a trigger set is built from
// puts its first letter in that set, in lowercase and capitalized.
func TestWordTriggers(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		set   byteSet
	}{
		{"name cues", nameCueWords, setNameVisit},
		{"relative cues", relativeCues.members, setNameVisit},
		{"address words", addressWords, setAddressVisit},
		{"identifier labels", idCueLabels(), setIDCue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.words {
				for _, text := range []string{"x " + w + " 1", "x " + strings.ToUpper(w[:1]) + w[1:] + " 1"} {
					var ix textIndex
					ix.build(text)
					if got := ix.next(text, tc.set, 0); got != 2 {
						t.Errorf("next in %q = %d, want 2", text, got)
					}
				}
			}
		})
	}
}

// TestWordTriggersSkip checks that words no trigger names are left out
// of the trigger sets, which is what saves the detectors their visits.
func TestWordTriggersSkip(t *testing.T) {
	text := "we put the dose"
	var ix textIndex
	ix.build(text)
	for _, set := range []byteSet{setNameVisit, setIDCue, setAddressVisit} {
		if got := ix.next(text, set, 0); got != len(text) {
			t.Errorf("next(set %d) = %d, want %d", set, got, len(text))
		}
	}
}

func idCueLabels() []string {
	var labels []string
	for _, cue := range idCues {
		labels = append(labels, cue.label)
	}
	return labels
}

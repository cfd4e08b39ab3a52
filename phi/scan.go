package phi

import "math/bits"

// defaultScanner is built once: the detectors hold no state, so one
// Scanner serves every goroutine.
var defaultScanner = NewScanner(
	SSNDetector{},
	PhoneDetector{},
	EmailDetector{},
	DateDetector{},
	IdentifierDetector{},
	NameDetector{},
	ClinicianNameDetector{},
	AddressDetector{},
	LocationDetector{},
	AgeDetector{},
	ZIPDetector{},
	URLDetector{},
	IPDetector{},
	CodedIDDetector{},
	FHIRDetector{},
)

// DefaultScanner returns the shared Scanner that runs every detector of
// this package. It is safe for concurrent use.
func DefaultScanner() *Scanner { return defaultScanner }

// Confidence levels shared by the detectors. A value in explicit context
// ("SSN: ...") scores higher than the same shape found alone.
const (
	confContext = 0.95
	confHigh    = 0.85
	confMedium  = 0.7
	confLow     = 0.5
)

// cueWindow is how many bytes before a candidate are searched for a
// context word such as "DOB" or "fax". It covers a cue, a label separator
// and a few filler words ("date of birth is").
const cueWindow = 30

// The byte tests subtract the first value of a range and compare once,
// because they run for most bytes of a text.
func isDigit(c byte) bool { return c-'0' < 10 }
func isUpper(c byte) bool { return c-'A' < 26 }
func isLower(c byte) bool { return c-'a' < 26 }

// isLetter reports whether c is an ASCII letter: setting bit 0x20 maps
// 'A' to 'Z' onto 'a' to 'z' and no other byte into that range.
func isLetter(c byte) bool { return (c|0x20)-'a' < 26 }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func lower(c byte) byte {
	if isUpper(c) {
		return c + 'a' - 'A'
	}
	return c
}

// digitsAt returns the length of the run of ASCII digits starting at i.
func digitsAt(text string, i int) int {
	n := 0
	for i+n < len(text) && isDigit(text[i+n]) {
		n++
	}
	return n
}

// atoi parses a short run of ASCII digits that the caller has checked.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// hasPrefixFold reports whether text[i:] starts with prefix, ignoring ASCII
// case. The prefix must be lowercase.
func hasPrefixFold(text string, i int, prefix string) bool {
	if i < 0 || len(text)-i < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		if lower(text[i+j]) != prefix[j] {
			return false
		}
	}
	return true
}

// digitStart reports whether a number may start at i: text[i] is a digit
// that does not continue a word, a longer number or a dotted or dashed
// digit run such as "1.2.3" or "12-34".
func digitStart(text string, i int) bool {
	if !isDigit(text[i]) {
		return false
	}
	if i == 0 {
		return true
	}
	switch byteBeforeNumber[text[i-1]] {
	case beforeNumberWord:
		return false
	case beforeNumberJoiner:
		return i < 2 || !isDigit(text[i-2])
	}
	return true
}

// The kinds of byte before a digit that digitStart distinguishes.
const (
	beforeNumberFree = iota
	// beforeNumberWord is a letter or digit, which the digit continues.
	beforeNumberWord
	// beforeNumberJoiner is '.', '-', '/', ':' or ',', which join the digit
	// to a number before them.
	beforeNumberJoiner
)

// byteBeforeNumber holds the kind of each byte value for digitStart, so
// that one table read replaces the comparisons.
var byteBeforeNumber = func() (t [256]uint8) {
	for c := range t {
		switch b := byte(c); {
		case isAlnum(b):
			t[c] = beforeNumberWord
		case b == '.' || b == '-' || b == '/' || b == ':' || b == ',':
			t[c] = beforeNumberJoiner
		}
	}
	return t
}()

// digitEnd reports whether a number may end at i (exclusive): the next byte
// neither continues it nor joins it to more digits with a separator.
func digitEnd(text string, i int) bool {
	if i >= len(text) {
		return true
	}
	next := text[i]
	if isAlnum(next) {
		return false
	}
	if (next == '.' || next == '-' || next == '/' || next == ':') && i+1 < len(text) && isDigit(text[i+1]) {
		return false
	}
	return true
}

// cueList is a list of cue words with an index by first letter. Cues are
// lowercase and start with a letter.
type cueList struct {
	words []string
	// byFirst has bit k of entry c set when words[k] starts with 'a'+c.
	byFirst [26]uint64
}

// newCueList returns the list of words, which must be lowercase, start
// with a letter and number at most 64.
func newCueList(words ...string) *cueList {
	l := &cueList{words: words}
	for k, w := range words {
		l.byFirst[w[0]-'a'] |= 1 << k
	}
	return l
}

// cueBefore returns the index in cues of the cue that starts nearest before
// pos, searching at most window bytes back, or -1 when none occurs. Cues
// match whole words, ignoring ASCII case. A cue that ends in punctuation,
// such as "ss#", needs no word boundary after it. Only word starts in the
// window are compared, and only with the cues of their first letter. With
// an index, the word starts are read from its bitmap of letter starts.
func cueBefore(ix *textIndex, text string, pos, window int, cues *cueList) int {
	k, _ := cueStartBefore(ix, text, pos, window, cues)
	return k
}

// cueStartBefore is cueBefore that also returns where the cue starts, or
// -1 with the index.
func cueStartBefore(ix *textIndex, text string, pos, window int, cues *cueList) (int, int) {
	from := max(pos-window, 0)
	for i := ix.prevLetterStart(text, pos-1, from); i >= from; i = ix.prevLetterStart(text, i-1, from) {
		if !isLetter(text[i]) || (i > 0 && isLetter(text[i-1])) {
			continue
		}
		for m := cues.byFirst[lower(text[i])-'a']; m != 0; m &= m - 1 {
			k := bits.TrailingZeros64(m)
			cue := cues.words[k]
			if i+len(cue) > pos || !hasPrefixFold(text, i, cue) {
				continue
			}
			end := i + len(cue)
			if isLetter(cue[len(cue)-1]) && end < len(text) && isLetter(text[end]) {
				continue
			}
			return k, i
		}
	}
	return -1, -1
}

// identifierCueAfter reports whether an SSN cue or an identifier label
// ("mrn", "account") starts in text[from+1:pos]. With an index it visits
// only the letter starts. A number takes the type of
// its nearest cue, so a phone cue further back does not make the number
// after such a label a phone number.
func identifierCueAfter(ix *textIndex, text string, from, pos int) bool {
	for i := ix.prevLetterStart(text, pos-1, from+1); i > from; i = ix.prevLetterStart(text, i-1, from+1) {
		if !isLetter(text[i]) || (i > 0 && isLetter(text[i-1])) {
			continue
		}
		for _, cue := range ssnCues.words {
			end := i + len(cue)
			if end <= pos && hasPrefixFold(text, i, cue) && !(isLetter(cue[len(cue)-1]) && end < len(text) && isLetter(text[end])) {
				return true
			}
		}
		if _, end := matchIDCue(ix, text[:pos], i); end >= 0 {
			return true
		}
	}
	return false
}

// wordEnd returns the end of the run of ASCII letters starting at i.
func wordEnd(text string, i int) int {
	for i < len(text) && isLetter(text[i]) {
		i++
	}
	return i
}

// equalFold reports whether word equals the lowercase string want, ignoring
// ASCII case.
func equalFold(word, want string) bool {
	return len(word) == len(want) && hasPrefixFold(word, 0, want)
}

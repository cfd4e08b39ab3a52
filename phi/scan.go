package phi

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

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool { return isUpper(c) || isLower(c) }
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
	prev := text[i-1]
	if isAlnum(prev) {
		return false
	}
	if (prev == '.' || prev == '-' || prev == '/' || prev == ':' || prev == ',') && i >= 2 && isDigit(text[i-2]) {
		return false
	}
	return true
}

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

// cueBefore returns the index in cues of the cue that starts nearest before
// pos, searching at most window bytes back, or -1 when none occurs. Cues are
// lowercase, start with a letter and match whole words, ignoring ASCII
// case. A cue that ends in punctuation, such as "ss#", needs no word
// boundary after it. Only word starts in the window are compared, which keeps
// the cost near one comparison per word.
func cueBefore(text string, pos, window int, cues []string) int {
	k, _ := cueStartBefore(text, pos, window, cues)
	return k
}

// cueStartBefore is cueBefore that also returns where the cue starts, or
// -1 with the index.
func cueStartBefore(text string, pos, window int, cues []string) (int, int) {
	from := max(pos-window, 0)
	for i := pos - 1; i >= from; i-- {
		if !isLetter(text[i]) || (i > 0 && isLetter(text[i-1])) {
			continue
		}
		first := lower(text[i])
		for k, cue := range cues {
			if cue[0] != first || i+len(cue) > pos || !hasPrefixFold(text, i, cue) {
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
// ("mrn", "account") starts in text[from:pos]. A number takes the type of
// its nearest cue, so a phone cue further back does not make the number
// after such a label a phone number.
func identifierCueAfter(text string, from, pos int) bool {
	for i := pos - 1; i > from; i-- {
		if !isLetter(text[i]) || (i > 0 && isLetter(text[i-1])) {
			continue
		}
		for _, cue := range ssnCues {
			end := i + len(cue)
			if end <= pos && hasPrefixFold(text, i, cue) && !(isLetter(cue[len(cue)-1]) && end < len(text) && isLetter(text[end])) {
				return true
			}
		}
		if _, end := matchIDCue(text[:pos], i); end >= 0 {
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

package phi

// AddressDetector finds street addresses: a house number of one to six
// digits, one to four capitalized words or ordinals ("Main", "5th", "N."),
// a capitalized street suffix ("Street", "St", "Ave.", "Blvd", ...), and
// an optional unit ("Apt 4B", "Suite 200", "#12"). City, state and ZIP are
// not part of the span; ZIPDetector reports the ZIP code.
type AddressDetector struct{}

// streetSuffixes are the street types, lowercase, that end an address.
var streetSuffixes = []string{
	"street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd",
	"lane", "ln", "drive", "dr", "court", "ct", "way", "place", "pl",
	"terrace", "ter", "parkway", "pkwy", "circle", "cir", "highway", "hwy",
}

// unitLabels are the words that introduce an apartment or suite, lowercase.
var unitLabels = []string{"apartment", "apt", "suite", "ste", "unit", "room", "rm", "floor", "fl"}

// Name returns "address".
func (AddressDetector) Name() string { return "address" }

// Detect appends the street addresses in text to dst.
func (d AddressDetector) Detect(text string, dst []Finding) []Finding {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) {
			continue
		}
		n := digitsAt(text, i)
		start := i
		i += n - 1
		if n > 6 || !digitStart(text, start) || start+n >= len(text) || text[start+n] != ' ' {
			continue
		}
		end := streetEnd(text, start+n+1)
		if end < 0 {
			continue
		}
		end = unitEnd(text, end)
		dst = append(dst, Finding{Type: TypeAddress, Start: start, End: end, Confidence: confHigh, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// streetEnd returns the end of the street name and suffix that start at i,
// or -1. The last suffix among up to five words ends the street, so that
// "12 Court Rd" keeps "Court" as a name.
func streetEnd(text string, i int) int {
	end := -1
	j := i
	for words := 0; words < 5; words++ {
		w := streetWordEnd(text, j)
		if w < 0 {
			break
		}
		word := text[j:w]
		wordStop := w
		if w < len(text) && text[w] == '.' {
			wordStop = w + 1
		}
		if words > 0 && isUpper(word[0]) && isStreetSuffix(word) {
			end = wordStop
		}
		if wordStop >= len(text) || text[wordStop] != ' ' {
			break
		}
		j = wordStop + 1
	}
	return end
}

// streetWordEnd returns the end of a capitalized word ("Main", "O'Neil")
// or an ordinal ("5th") at i, or -1.
func streetWordEnd(text string, i int) int {
	if i >= len(text) {
		return -1
	}
	if isDigit(text[i]) {
		n := digitsAt(text, i)
		if n > 3 || i+n+2 > len(text) {
			return -1
		}
		suffix := text[i+n : i+n+2]
		if !equalFold(suffix, "st") && !equalFold(suffix, "nd") && !equalFold(suffix, "rd") && !equalFold(suffix, "th") {
			return -1
		}
		if i+n+2 < len(text) && isLetter(text[i+n+2]) {
			return -1
		}
		return i + n + 2
	}
	if !isUpper(text[i]) {
		return -1
	}
	return nameWordEnd(text, i)
}

func isStreetSuffix(word string) bool {
	for _, s := range streetSuffixes {
		if equalFold(word, s) {
			return true
		}
	}
	return false
}

// unitEnd extends an address that ends at i over an apartment or suite
// ("Apt 4B", ", Suite 200", " #12") and returns the new end.
func unitEnd(text string, i int) int {
	j := i
	if j < len(text) && text[j] == ',' {
		j++
	}
	j = skipSpaces(text, j)
	if j == i && (j >= len(text) || text[j] != '#') {
		return i
	}
	switch {
	case j < len(text) && text[j] == '#':
		j++
	case j < len(text) && isUpper(text[j]):
		w := wordEnd(text, j)
		found := false
		for _, label := range unitLabels {
			if equalFold(text[j:w], label) {
				found = true
				break
			}
		}
		if !found {
			return i
		}
		j = w
		if j < len(text) && text[j] == '.' {
			j++
		}
		j = skipSpaces(text, j)
		if j < len(text) && text[j] == '#' {
			j++
		}
	default:
		return i
	}

	k := j
	for k < len(text) && k-j < 8 && (isAlnum(text[k]) || text[k] == '-') {
		k++
	}
	if k == j || (k < len(text) && isAlnum(text[k])) || !containsDigit(text[j:k]) && k-j > 2 {
		return i
	}
	return k
}

func containsDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			return true
		}
	}
	return false
}

// ZIPDetector finds US ZIP codes ("66044", "66044-1234") where the context
// shows them to be ZIP codes: after a two-letter state code ("KS 66044",
// the end of an address line) or after "ZIP", "zip code" or "postal code".
// A five-digit number on its own is not reported.
//
// NOTE: a ZIP code after a spelled-out state ("Kansas 66044") is missed.
type ZIPDetector struct{}

// zipCues are the words that mark a number as a ZIP code.
var zipCues = []string{"zip", "zip code", "zipcode", "postal code"}

// usStates lists the USPS codes of the states, DC and the territories.
const usStates = "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI"

// Name returns "zip".
func (ZIPDetector) Name() string { return "zip" }

// Detect appends the ZIP codes in text to dst.
func (d ZIPDetector) Detect(text string, dst []Finding) []Finding {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) {
			continue
		}
		n := digitsAt(text, i)
		start := i
		i += n - 1
		if n != 5 || !digitStart(text, start) {
			continue
		}
		end := start + 5
		if end+5 <= len(text) && text[end] == '-' && digitsAt(text, end+1) == 4 {
			end += 5
		}
		if !digitEnd(text, end) {
			continue
		}
		if !afterStateCode(text, start) && cueBefore(text, start, 15, zipCues) < 0 {
			continue
		}
		dst = append(dst, Finding{Type: TypeZIP, Start: start, End: end, Confidence: confHigh, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// afterStateCode reports whether a state code and one space, optionally
// with a comma ("KS 66044", "KS, 66044"), precede position i.
func afterStateCode(text string, i int) bool {
	j := i - 1
	if j < 0 || text[j] != ' ' {
		return false
	}
	if j > 0 && text[j-1] == ',' {
		j--
	}
	if j < 2 || !isUpper(text[j-2]) || !isUpper(text[j-1]) || (j >= 3 && isLetter(text[j-3])) {
		return false
	}
	for k := 0; k+2 <= len(usStates); k += 3 {
		if usStates[k] == text[j-2] && usStates[k+1] == text[j-1] {
			return true
		}
	}
	return false
}

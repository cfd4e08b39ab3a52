package phi

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// AddressDetector finds street addresses in these shapes:
//   - US and UK: a house number of one to six digits, one to four
//     capitalized words or ordinals ("Main", "5th", "N."), and a
//     capitalized street suffix ("Street", "St", "Ave.", "Close",
//     "Crescent", ...): "1234 Main St.", "14 High Street";
//   - a street type before the name, with a house number before or after
//     it: "12 Rue de la Paix", "Via Roma 131", "ul. Słowicza 10",
//     "Avda. Rio Nalon 58";
//   - a street name ending in a street word of its language, followed by
//     the house number: "Strickstrasse 61", "Søndergade 52", "Kiannonkatu
//     98", or a street type after the name: "Erzsébet tér 19";
//   - post office and military boxes: "P.O. Box 242", "PSC 7589, Box
//     0572", "Unit 8505 Box 9220", "APO AE 20040".
//
// An extra number before the house number is included ("515 385 Gemsbok
// St"), and so is a unit after it, on the same line or the next ("Apt
// 4B", "Suite 200", "#12", "Flat 3"). The town, region, postal code and
// country that follow after commas or on the lines below are reported as
// LOCATION and ZIP findings of their own (see appendPostalTail). A unit
// alone on its line under a line with a house number, and a house number
// after an "Address:" label, open an address too, whatever the street's
// shape.
type AddressDetector struct{}

// streetSuffixes are the street types, lowercase, that end an address
// after its house number and name. Types that are also frequent words in
// notes ("walk" of "6 Minute Walk", "point", "station", "view") are left
// out.
var streetSuffixes = []string{
	"street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd",
	"lane", "ln", "drive", "dr", "court", "ct", "way", "place", "pl",
	"terrace", "ter", "parkway", "pkwy", "circle", "cir", "highway", "hwy",
}

// extraStreetSuffixes end an address only after a house number, because
// without one they end region and landmark names too ("Ohio River
// Valley", "Brook Village").
var extraStreetSuffixes = []string{
	"close", "crescent", "cres", "row", "square", "sq", "gardens", "gdns",
	"mews", "grove", "trail", "trl", "plaza", "loop", "pike", "alley",
	"expressway", "freeway", "turnpike", "ridge", "heights", "hollow",
	"crossing", "estates", "junction", "landing", "manor", "meadows",
	"mills", "rapids", "ranch", "shores", "springs", "summit", "valley",
	"village", "ville", "forge", "forges", "mall", "harbor", "harbour",
	"brook", "creek", "glen", "haven", "knoll", "motorway", "orchard",
	"plains", "prairie", "spur", "viaduct", "vista", "ports",
}

// streetPrefixes are the street types, lowercase, that open a street name
// in Romance and Slavic languages ("Via Roma", "Rue de la Paix", "ul.
// Słowicza"). Only "rue" and "ul" count in lowercase, because "via" and
// "av" are English words too.
var streetPrefixes = newWordSet(
	"via", "viale", "piazza", "corso", "strada", "rue", "avenue",
	"boulevard", "chemin", "calle", "avenida", "avda", "paseo", "plaza",
	"carrer", "camino", "rua", "travessa", "ul", "ulica", "aleja", "plac",
)

// streetEndings end a one-word street name in Germanic, Nordic, Dutch,
// Finnish and Hungarian ("Strickstrasse", "Ringvej", "Kiannonkatu").
// Such a name counts only before a house number.
var streetEndings = []string{
	"strasse", "straße", "gasse", "weg", "vej", "gade", "gata", "gatan",
	"vägen", "vagen", "veien", "vegen", "straat", "laan", "katu", "kuja",
	"tie", "utca", "allee", "platz", "plein", "steeg", "dreef", "kade",
	"gracht", "torget", "stræde", "vænget", "gränd",
}

// streetTypesAfter are street types written as a word after the name and
// before the house number ("Erzsébet tér 19", "Hegedűs Gyula utca 76").
var streetTypesAfter = newWordSet("utca", "út", "tér", "gate", "vei", "vej", "gata", "gatan", "straße", "strasse")

// unitLabels are the words that introduce an apartment or suite, lowercase.
var unitLabels = []string{"apartment", "apt", "suite", "ste", "unit", "room", "rm", "floor", "fl", "flat"}

// Name returns "address".
func (AddressDetector) Name() string { return "address" }

// Detect appends the street addresses in text to dst.
func (d AddressDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// addressWords open the words at which AddressDetector reads a box, a unit
// line, an address label or a street corner: the prefixes that mayOpenBox
// accepts, the unit labels, "address" and "corner". Their first two bytes
// decide which words the detector visits (see setAddressVisit).
var addressWords = append([]string{"p.", "po", "psc", "apo", "fpo", "dpo", "address", "corner"}, unitLabels...)

// detectIndexed is Detect visiting only the positions of setAddressVisit,
// through ix when it is not nil.
func (d AddressDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setAddressVisit, 0); i < len(text); i = ix.next(text, setAddressVisit, i+1) {
		c := text[i]
		if !isDigit(c) {
			if i > 0 && isAlnum(text[i-1]) {
				continue
			}
			if mayOpenBox(text, i) {
				if end := boxEnd(text, i); end > 0 {
					dst, i = d.appendAddress(text, i, unitEnd(text, end), confHigh, dst)
					continue
				}
			}
			if start, end, ok := unitLineAddress(text, i); ok {
				dst, i = d.appendAddress(text, start, end, confMedium, dst)
				continue
			}
			if lower(c) == 'c' {
				if start, end := cornerEnd(text, i); end > 0 {
					dst = append(dst, Finding{Type: TypeAddress, Start: start, End: end, Confidence: confMedium, Detector: d.Name()})
					i = end - 1
				}
				continue
			}
			if lower(c) == 'a' {
				if start := labelledAddressStart(text, i, ix.wordEnd(text, i)); start > 0 {
					if end := labelledAddressEnd(text, start); end > start {
						dst, i = d.appendAddress(text, start, end, confHigh, dst)
					}
				}
			}
			continue
		}
		n := digitsAt(text, i)
		start := i
		i += n - 1
		if n > 6 || !digitStart(text, start) {
			continue
		}
		if begin, ok := streetBefore(text, start); ok {
			// houseNumberEnd returns start itself when the digits are not
			// a house number ("4B" runs into a letter). Such a match is no
			// address, and stepping back to it would loop forever.
			if end := houseNumberEnd(text, start); end > start {
				var last int
				dst, last = d.appendAddress(text, begin, unitEnd(text, end), confMedium, dst)
				i = max(i, last)
				continue
			}
		}
		// A street name before the number ends in a letter and a space.
		if start >= 2 && text[start-1] == ' ' && (isLetter(text[start-2]) || text[start-2] >= utf8.RuneSelf) {
			if end := houseNumberEnd(text, start); end > start && streetNameEndFits(text, end) {
				if begin := cuedStreetNameStart(text, start); begin >= 0 {
					dst, i = d.appendAddress(text, begin, end, confMedium, dst)
					continue
				}
			}
		}
		if start+n >= len(text) || text[start+n] != ' ' {
			continue
		}
		after := start + n + 1
		end := streetAfterNumber(text, after)
		if m := digitsAt(text, after); end < 0 && m > 0 && m <= 6 && after+m < len(text) && text[after+m] == ' ' {
			// "515 385 Gemsbok St": a second number before the street.
			end = streetAfterNumber(text, after+m+1)
		}
		if end < 0 {
			// A street in no shape above, after "lives at" and the like.
			if end = residenceAddressEnd(text, start); end > 0 {
				dst, i = d.appendAddress(text, start, end, confMedium, dst)
			}
			continue
		}
		dst, i = d.appendAddress(text, start, unitEnd(text, end), confHigh, dst)
	}
	return dst
}

// residenceCues are the phrases, lowercase, after which a house number
// opens a postal address whatever the shape of the street that follows
// ("lives at 10252 Μεγάλη Άμμος 184").
var residenceCues = [...]string{"lives at ", "live at ", "lived at ", "living at ", "located at ", "lives on ", "live on "}

// maxResidenceStreet bounds the street read after a residence cue, in
// bytes.
const maxResidenceStreet = 60

// residenceAddressEnd returns the end of the street that starts with the
// house number at i after a residence cue, or -1. The street runs to a
// comma, a line break, a sentence end or the end of the text, and must
// hold a letter, so that "lives at 5" is no address.
func residenceAddressEnd(text string, i int) int {
	// Every cue ends in "at " or "on ", which few numbers follow.
	if i < 4 || text[i-1] != ' ' || !(lower(text[i-3]) == 'a' && lower(text[i-2]) == 't' || lower(text[i-3]) == 'o' && lower(text[i-2]) == 'n') {
		return -1
	}
	cued := false
	for _, cue := range residenceCues {
		if i >= len(cue) && equalFold(text[i-len(cue):i], cue) && (i == len(cue) || !isAlnum(text[i-len(cue)-1])) {
			cued = true
			break
		}
	}
	if !cued {
		return -1
	}
	letters := false
	for end := i; end < len(text) && end-i <= maxResidenceStreet; end++ {
		c := text[end]
		switch {
		case c == ',' || c == '\n' || c == '\r' || c == ';' || c == '?' || c == '!':
			return residenceEnd(text, i, end, letters)
		case c == '.' && (end+1 == len(text) || text[end+1] == ' ' || text[end+1] == '\n'):
			if streetAbbreviationBefore(text, i, end) {
				return residenceEnd(text, i, end+1, letters)
			}
			return residenceEnd(text, i, end, letters)
		case isLetter(c) || c >= utf8.RuneSelf:
			letters = true
		}
	}
	if len(text)-i <= maxResidenceStreet {
		return residenceEnd(text, i, len(text), letters)
	}
	return -1
}

// maxCuedStreetWords bounds the street name that cuedStreetNameStart reads
// back from a house number.
const maxCuedStreetWords = 4

// cuedStreetNameStart returns the start of a street name of one to
// maxCuedStreetWords words that follows a residence cue and precedes the
// house number at i ("lives on Via dei Fiorentini 17"), or -1. The words
// hold no digits and pass residenceStreetFits.
func cuedStreetNameStart(text string, i int) int {
	if i < 2 || text[i-1] != ' ' {
		return -1
	}
	j := i - 1
	for words := 0; words < maxCuedStreetWords; words++ {
		k := j
		for k > 0 && (isLetter(text[k-1]) || text[k-1] >= utf8.RuneSelf || text[k-1] == '-' || text[k-1] == '.') {
			k--
		}
		if k == j || !isLetter(text[k]) && text[k] < utf8.RuneSelf {
			return -1
		}
		// Every cue ends in "at " or "on ", which few words follow.
		if k >= 4 && text[k-1] == ' ' && (lower(text[k-3]) == 'a' && lower(text[k-2]) == 't' || lower(text[k-3]) == 'o' && lower(text[k-2]) == 'n') {
			if begin := residenceStreetStart(text, k, i); begin >= 0 {
				return begin
			}
		}
		if k < 2 || text[k-1] != ' ' {
			return -1
		}
		j = k - 1
	}
	return -1
}

// residenceStreetStart returns k when a residence cue ends at k and the
// street name text[k:i-1] passes residenceStreetFits, or -1.
func residenceStreetStart(text string, k, i int) int {
	for _, cue := range residenceCues {
		if k >= len(cue) && equalFold(text[k-len(cue):k], cue) && (k == len(cue) || !isAlnum(text[k-len(cue)-1])) {
			if !residenceStreetFits(text[k : i-1]) {
				return -1
			}
			return k
		}
	}
	return -1
}

// streetNameEndFits reports whether the house number that ends at i ends
// a street named before it: a street type follows ("17 street", "50
// St."), or a comma, a sentence end or the end of the text.
func streetNameEndFits(text string, i int) bool {
	if partEnds(text, i, false) {
		return true
	}
	if i+1 >= len(text) || text[i] != ' ' {
		return false
	}
	w := wordEnd(text, i+1)
	return isStreetSuffix(text[i+1:w]) && partEnds(text, w, false)
}

// residenceEnd returns end, with spaces before it trimmed, when the street
// text[i:end] holds a letter and reads as a street (see
// residenceStreetFits), or -1.
func residenceEnd(text string, i, end int, letters bool) int {
	for end > i && text[end-1] == ' ' {
		end--
	}
	if !letters || end <= i || !residenceStreetFits(text[i:end]) {
		return -1
	}
	return end
}

// residenceStreetFits reports whether street holds no lowercase English
// word other than a street type or a unit label, so that a clause ("5 and
// takes 10 mg") is not read as a street. Street names in other languages
// and capitalized words pass ("10252 Μεγάλη Άμμος 184", "255 hersnapvej
// 18").
func residenceStreetFits(street string) bool {
	for k := 0; k < len(street); {
		if !isLower(street[k]) || k > 0 && isNameWordByte(street[k-1]) {
			k++
			continue
		}
		w := k
		for w < len(street) && isNameWordByte(street[w]) {
			w++
		}
		word := street[k:w]
		k = w
		if len(word) < 2 || inWordSet(streetPrefixes, word) || inWordSet(streetTypesAfter, word) || slices.Contains(unitLabels, word) || slices.Contains(streetSuffixes, word) {
			continue
		}
		if lookupWord(word).common {
			return false
		}
	}
	return true
}

// cornerEnd returns the start and end of the street corner that the text
// names after "corner of" at i ("the corner of Bygget 64 and Komel
// Club"), from "the" or "corner" to the end of the second street, or -1.
func cornerEnd(text string, i int) (start, end int) {
	const cue = "corner of "
	if !hasPrefixFold(text, i, cue) {
		return 0, -1
	}
	start = i
	if start >= 4 && equalFold(text[start-4:start], "the ") {
		start -= 4
	}
	return start, cornerStreetsEnd(text, i+len(cue))
}

// maxCornerStreet bounds each street of a corner in bytes.
const maxCornerStreet = 48

// cornerStreetsEnd returns the end of "X and Y" at i, two streets, or -1.
// The first street must hold a house number or start with a capital, so
// that "the corner of her eye and" is no address. Each street ends at a
// comma, a semicolon, "?", "!", a line break, the end of the text or a
// period that ends a sentence. The period of "St." and "Str." ends none.
func cornerStreetsEnd(text string, i int) int {
	andAt := strings.Index(text[i:min(len(text), i+maxCornerStreet)], " and ")
	if andAt <= 0 {
		return -1
	}
	first := text[i : i+andAt]
	if strings.ContainsAny(first, ",;?!\n") || !containsDigit(first) && !isNameStart(text, i) {
		return -1
	}
	j := i + andAt + len(" and ")
	if j >= len(text) || !isAlnum(text[j]) && text[j] < utf8.RuneSelf {
		return -1
	}
	for end := j; end < len(text) && end-j <= maxCornerStreet; end++ {
		switch text[end] {
		case ',', ';', '?', '!', '\n', '\r':
			return end
		case '.':
			if end+1 < len(text) && text[end+1] != ' ' && text[end+1] != '\n' || streetAbbreviationBefore(text, j, end) && end+1 < len(text) {
				continue
			}
			return end
		}
	}
	if len(text)-j <= maxCornerStreet {
		return len(text)
	}
	return -1
}

// streetAbbreviationBefore reports whether the word of text[from:end] that
// ends at end is "St" or "Str", whose period does not end a sentence.
func streetAbbreviationBefore(text string, from, end int) bool {
	k := end
	for k > from && isLetter(text[k-1]) {
		k--
	}
	return equalFold(text[k:end], "st") || equalFold(text[k:end], "str")
}

// appendAddress appends the address text[start:end] and the postal parts
// after it (see appendPostalTail) to dst. It returns dst and the position
// of the last byte read, where the detector's scan goes on.
func (d AddressDetector) appendAddress(text string, start, end int, conf float64, dst []Finding) ([]Finding, int) {
	at := len(dst)
	dst = append(dst, Finding{Type: TypeAddress, Start: start, End: end, Confidence: conf, Detector: d.Name()})
	dst, addressEnd, last := appendPostalTail(text, end, dst, d.Name())
	dst[at].End = addressEnd
	return dst, last - 1
}

// streetAfterNumber returns the end of the street that follows a house
// number and starts at i, in any shape that AddressDetector documents, or
// -1.
func streetAfterNumber(text string, i int) int {
	if end := streetEnd(text, i); end > 0 {
		return end
	}
	if end := prefixStreetEnd(text, i); end > 0 {
		return houseNumberEnd(text, end)
	}
	if !isNameStart(text, i) {
		return -1
	}
	w := nameWordEnd(text, i)
	if w+1 >= len(text) || text[w] != ' ' || !isDigit(text[w+1]) {
		return -1
	}
	if hasStreetEnding(text[i:w]) {
		return houseNumberEnd(text, w+1)
	}
	return bareStreetEnd(text, i, w)
}

// bareStreetEnd returns the end of "Word 56" after a house number, a street
// name without a street type and its number ("87331 Dunajska 56"), or -1.
// The shape also fits doses ("2 Tylenol 500"), so three conditions apply.
// The number before must open a line or have three digits or more. The
// word must be a name word of four letters or more, not a drug or eponym.
// The line or clause must end right after the house number.
func bareStreetEnd(text string, i, w int) int {
	j := i - 1
	k := j
	for k > 0 && isDigit(text[k-1]) {
		k--
	}
	if j-k < 3 && !lineStart(text, k) {
		return -1
	}
	word := text[i:w]
	if w-i < 4 || !isNameWord(word) || inWordSet(notNameWords, word) || inWordSet(streetPrefixes, word) {
		return -1
	}
	end := houseNumberEnd(text, w+1)
	if end == w+1 {
		return -1
	}
	if end == len(text) || text[end] == '\n' || text[end] == '\r' || text[end] == ',' {
		return end
	}
	if e := unitEnd(text, end); e > end {
		return end
	}
	if e := trailingStreetTypeEnd(text, end); e > end {
		return e
	}
	return -1
}

// trailingStreetTypeEnd returns the end of " St." or " Street" written
// after the house number of a street named first ("68 St." in
// "87818 Dalmatinova 68 St."), or -1.
func trailingStreetTypeEnd(text string, i int) int {
	if i >= len(text) || text[i] != ' ' {
		return -1
	}
	for _, t := range [...]string{"street", "st."} {
		if !hasPrefixFold(text, i+1, t) {
			continue
		}
		end := i + 1 + len(t)
		if end < len(text) && isAlnum(text[end]) {
			continue
		}
		return end
	}
	return -1
}

// prefixStreetEnd returns the end of a street whose type comes first
// ("Via Roma", "Rue de la Paix", "ul. Słowicza") at i, or -1. Up to four
// words follow the type: capitalized words and the lowercase particles of
// place names ("de", "la", "del"), ending on a capitalized word.
func prefixStreetEnd(text string, i int) int {
	if i >= len(text) || !isLetter(text[i]) {
		return -1
	}
	w := wordEnd(text, i)
	word := text[i:w]
	if !inWordSet(streetPrefixes, word) || isLower(text[i]) && !equalFold(word, "rue") && !equalFold(word, "ul") {
		return -1
	}
	j := w
	if j < len(text) && text[j] == '.' {
		j++
	}
	end := -1
	for words := 0; words < 4; words++ {
		if j+1 >= len(text) || text[j] != ' ' {
			break
		}
		k := j + 1
		if isNameStart(text, k) {
			e := nameWordEnd(text, k)
			if e-k < 2 || !isNameWord(text[k:e]) {
				break
			}
			end, j = e, e
			continue
		}
		e := wordEnd(text, k)
		if e == k || !inWordSet(placeParticles, text[k:e]) {
			break
		}
		j = e
	}
	return end
}

// placeParticles are the lowercase words inside street and town names
// ("Rue de la Paix", "Villafranca del Cid").
var placeParticles = newWordSet("de", "la", "le", "les", "des", "du", "del", "della", "di", "da", "do", "dos", "das", "van", "der", "den", "von", "y", "e")

// hasStreetEnding reports whether word, a capitalized word with at least
// three letters before the ending, ends in one of streetEndings.
func hasStreetEnding(word string) bool {
	// The shortest ending has three bytes and needs three more before it.
	if len(word) < 6 {
		return false
	}
	for _, e := range streetEndings {
		if len(word) >= len(e)+3 && hasPrefixFold(word, len(word)-len(e), e) {
			return true
		}
	}
	return false
}

// houseNumberEnd returns the end of a house number at i (" 61", " 19.",
// " 12b") or, when none is there, i itself. The number may follow a space.
func houseNumberEnd(text string, i int) int {
	j := i
	if j < len(text) && text[j] == ' ' {
		j++
	}
	n := digitsAt(text, j)
	if n == 0 || n > 5 {
		return i
	}
	end := j + n
	if end < len(text) && isLower(text[end]) && (end+1 == len(text) || !isLetter(text[end+1])) {
		end++
	}
	if end < len(text) && isAlnum(text[end]) {
		return i
	}
	if end+1 < len(text) && text[end] == '.' && text[end+1] == '\n' {
		end++
	}
	return end
}

// streetBefore reports whether the number at i is a house number after a
// street name ("Strickstrasse 61", "Via Roma 131", "Erzsébet tér 19") and
// returns where the address starts: at the street or at a number before
// it ("83854 Strickstrasse 61").
func streetBefore(text string, i int) (int, bool) {
	if i < 3 || text[i-1] != ' ' || !isLetter(text[i-2]) && text[i-2] < utf8.RuneSelf {
		return 0, false
	}
	// Every shape ends in a capitalized name word or a street type, so a
	// number after a lowercase word ("take 2") is rejected before the
	// words are collected.
	k := i - 2
	for k > 0 && text[k-1] != ' ' && text[k-1] != '\n' && i-k < 40 {
		k--
	}
	if !isNameStart(text, k) && !inWordSet(streetTypesAfter, text[k:i-1]) {
		return 0, false
	}
	// A word without lowercase letters ("BP 142", "WBC 14.2") can end a
	// street only as a street type or with a street ending: the name
	// words that follow a street prefix need lowercase letters.
	if last := text[k : i-1]; isAcronym(last) && !hasStreetEnding(last) && !inWordSet(streetTypesAfter, last) {
		return 0, false
	}
	var starts [5]int
	n := 0
	j := i - 1
	for n < len(starts) && j > 0 && text[j] == ' ' {
		k := j
		for k > 0 && text[k-1] != ' ' && text[k-1] != '\n' && j-k < 40 {
			k--
		}
		if k == j {
			break
		}
		starts[n] = k
		n++
		j = k - 1
	}
	if n == 0 {
		return 0, false
	}

	begin := -1
	last := text[starts[0] : i-1]
	switch {
	case isNameStart(text, starts[0]) && hasStreetEnding(last):
		begin = starts[0]
	case n >= 2 && inWordSet(streetTypesAfter, last) && isNameStart(text, starts[1]):
		begin = starts[1]
		if n >= 3 && isNameStart(text, starts[2]) && isNameWord(firstWord(text, starts[2])) {
			begin = starts[2]
		}
	default:
		for k := 0; k < n; k++ {
			if prefixStreetEnd(text, starts[k]) == i-1 {
				begin = starts[k]
				break
			}
		}
	}
	if begin < 0 {
		return 0, false
	}
	if begin >= 2 && text[begin-1] == ' ' && isDigit(text[begin-2]) {
		k := begin - 1
		for k > 0 && isDigit(text[k-1]) {
			k--
		}
		if begin-1-k <= 6 && digitStart(text, k) {
			begin = k
		}
	}
	return begin, true
}

// firstWord returns the word, as nameWordEnd reads it, at i.
func firstWord(text string, i int) string {
	return text[i:nameWordEnd(text, i)]
}

// mayOpenBox reports whether "P.O.", "PO", "PSC", "Unit", "APO", "FPO" or
// "DPO" may start at i, judging by two bytes, so that boxEnd runs on few
// words.
func mayOpenBox(text string, i int) bool {
	if i+1 >= len(text) {
		return false
	}
	c, next := text[i], lower(text[i+1])
	switch c {
	case 'P', 'p':
		return next == '.' || next == 'o' || next == 's'
	case 'U', 'u':
		return next == 'n'
	case 'A', 'F', 'D':
		return text[i+1] == 'P'
	}
	return false
}

// boxEnd returns the end of a post office or military box at i, or -1:
// "P.O. Box 242", "PO Box 12", "PSC 7589, Box 0572", "Unit 8505 Box 9220",
// and the military post line "APO AE 20040" (APO, FPO or DPO, then AA, AE
// or AP and five digits).
func boxEnd(text string, i int) int {
	j := -1
	switch {
	case hasPrefixFold(text, i, "p.o. box "):
		j = i + 9
	case hasPrefixFold(text, i, "po box "):
		j = i + 7
	case hasPrefixFold(text, i, "psc ") || hasPrefixFold(text, i, "unit "):
		k := i + 4
		if text[i] == 'U' || text[i] == 'u' {
			k++
		}
		n := digitsAt(text, k)
		if n == 0 || n > 5 {
			return -1
		}
		k += n
		if k < len(text) && text[k] == ',' {
			k++
		}
		if !hasPrefixFold(text, k, " box ") {
			return -1
		}
		j = k + 5
	case i+12 <= len(text) && (text[i:i+4] == "APO " || text[i:i+4] == "FPO " || text[i:i+4] == "DPO "):
		code := text[i+4 : i+7]
		if code != "AA " && code != "AE " && code != "AP " || digitsAt(text, i+7) != 5 || !digitEnd(text, i+12) {
			return -1
		}
		return i + 12
	default:
		return -1
	}
	n := digitsAt(text, j)
	if n == 0 || n > 6 || !digitEnd(text, j+n) {
		return -1
	}
	return j + n
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
		if words > 0 && isUpper(word[0]) && isAnyStreetSuffix(word) {
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

// streetSuffixSet and anyStreetSuffixSet hold streetSuffixes, and those
// and extraStreetSuffixes, for lookups by word.
var (
	streetSuffixSet    = newWordSet(streetSuffixes...)
	anyStreetSuffixSet = newWordSet(append(slices.Clone(streetSuffixes), extraStreetSuffixes...)...)
)

// isStreetSuffix reports whether word is in streetSuffixes, the suffixes
// that end a street name even without a house number.
func isStreetSuffix(word string) bool { return inWordSet(streetSuffixSet, word) }

// isAnyStreetSuffix reports whether word is in streetSuffixes or
// extraStreetSuffixes.
func isAnyStreetSuffix(word string) bool { return inWordSet(anyStreetSuffixSet, word) }

// unitEnd extends an address that ends at i over an apartment or suite
// ("Apt 4B", ", Suite 200", " #12", or "Apt. 5" on the next line) and
// returns the new end.
func unitEnd(text string, i int) int {
	j := i
	if j < len(text) && text[j] == ',' {
		j++
	}
	j = skipSpaces(text, j)
	if j < len(text) && text[j] == '\n' {
		j = skipSpaces(text, j+1)
		for j < len(text) && isQuoteMarker(text[j]) {
			j = skipSpaces(text, j+1)
		}
	}
	if j == i && (j >= len(text) || text[j] != '#') {
		return i
	}
	if end := unitAt(text, j); end > j {
		return end
	}
	return i
}

// unitAt returns the end of a unit that starts at i ("Apt 4B", "Suite
// 200", "#12", "Apt. 5", "apt. 169"), or i.
func unitAt(text string, i int) int {
	j := i
	switch {
	case j < len(text) && text[j] == '#':
		j++
	case j < len(text) && isLetter(text[j]):
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
	// A label typed in lowercase ("apt. 169", "suite 463") needs a number,
	// because "unit a" or "floor b" read as words too.
	if isLower(text[i]) && !containsDigit(text[j:k]) {
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

// ZIPDetector finds postal codes where the context shows them to be postal
// codes:
//   - US ZIP codes ("66044", "66044-1234") after a two-letter state code
//     ("KS 66044", the end of an address line);
//   - after "ZIP", "zip code" or "postal code", any common national shape:
//     three to six digits, "394 13", "53-320", "3610-114", "7412 SL";
//   - four to six digits, or the shapes above, right after a country name
//     ("Finland 41600");
//   - three to six digits, or the shapes above, after a town of one to
//     four capitalized words and particles that follows "in" ("in Bjert
//     6091", "in ÖVERTURINGEN 840 24"). The town is reported too, as a
//     LOCATION, because the place rules miss towns in capitals or with
//     particles;
//   - UK postcodes ("SW1A 1AA", "M1 1AE") and Canadian postal codes ("B0J
//     2H0") anywhere, in capitals with the space, because their letter
//     and digit pattern rarely occurs otherwise.
//
// A five-digit number on its own is not reported.
//
// NOTE: a ZIP code after a spelled-out state ("Kansas 66044") is missed.
type ZIPDetector struct{}

// zipCues are the words that mark a number as a ZIP code.
var zipCues = newCueList("zip", "zip code", "zipcode", "postal code")

// usStates lists the USPS codes of the states, DC and the territories.
const usStates = "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI"

// Name returns "zip".
func (ZIPDetector) Name() string { return "zip" }

// Detect appends the ZIP codes in text to dst.
func (d ZIPDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of
// setPostcodeStart, through ix when it is not nil.
func (d ZIPDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setPostcodeStart, 0); i < len(text); i = ix.next(text, setPostcodeStart, i+1) {
		c := text[i]
		if isUpper(c) && (i == 0 || !isAlnum(text[i-1])) && i+1 < len(text) && (isDigit(text[i+1]) || isUpper(text[i+1])) {
			if end := ukOrCanadianPostcodeEnd(text, i); end > 0 {
				dst = append(dst, Finding{Type: TypeZIP, Start: i, End: end, Confidence: confMedium, Detector: d.Name()})
				i = end - 1
			}
			continue
		}
		if !isDigit(c) {
			continue
		}
		n := digitsAt(text, i)
		start := i
		if !digitStart(text, start) {
			i += n - 1
			continue
		}
		if end := postalCodeEnd(text, start); end > 0 {
			country, town := false, -1
			if n >= 3 {
				if country = afterCountry(text, start); !country {
					town = townInStart(text, start, end)
				}
			}
			if country || town >= 0 || cueBefore(ix, text, start, 15, zipCues) >= 0 {
				if town >= 0 {
					dst = append(dst, Finding{Type: TypeLocation, Start: town, End: start - 1, Confidence: confMedium, Detector: d.Name()})
				}
				dst = append(dst, Finding{Type: TypeZIP, Start: start, End: end, Confidence: confHigh, Detector: d.Name()})
				i = end - 1
				continue
			}
		}
		i += n - 1
		if n != 5 {
			continue
		}
		end := start + 5
		if end+5 <= len(text) && text[end] == '-' && digitsAt(text, end+1) == 4 {
			end += 5
		}
		if !digitEnd(text, end) {
			continue
		}
		if !afterStateCode(text, start) && cueBefore(ix, text, start, 15, zipCues) < 0 {
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

// postalCodeEnd returns the end of a postal code in one of the numeric
// national shapes at i ("880", "53650", "394 13", "53-320", "3610-114",
// "7412 SL"), or -1.
func postalCodeEnd(text string, i int) int {
	n := digitsAt(text, i)
	if n < 2 || n > 6 || n == 2 && (i+n >= len(text) || text[i+n] != '-') {
		return -1
	}
	end := i + n
	if end+1 < len(text) {
		sep := text[end]
		m := digitsAt(text, end+1)
		switch {
		case sep == ' ' && n == 3 && m == 2, sep == '-' && n == 2 && m == 3, sep == '-' && n >= 4 && (m == 3 || m == 4):
			end += 1 + m
		case n == 2:
			return -1
		case sep == ' ' && n == 4 && end+3 <= len(text) && isUpper(text[end+1]) && isUpper(text[end+2]) && (end+3 == len(text) || !isAlnum(text[end+3])):
			end += 3
		}
	}
	if !digitEnd(text, end) || end < len(text) && isLetter(text[end]) {
		return -1
	}
	return end
}

// townInStart returns the start of the town before the postal code
// text[i:end], or -1. The town has one to four capitalized words and
// particles and follows "in" ("in Bjert 6091", "in Quinta de São Tiago
// 3610-114"), the way an address names a place in a sentence. A
// four-digit number from 1900 to 2099 is a year ("in London 2012"), not a
// postal code.
func townInStart(text string, i, end int) int {
	if end-i == 4 && (text[i] == '1' && text[i+1] == '9' || text[i] == '2' && text[i+1] == '0') {
		return -1
	}
	if i < 5 || text[i-1] != ' ' {
		return -1
	}
	town := -1
	j := i - 1
	for words := 0; words <= 4; words++ {
		k := j
		for k > 0 && (isLetter(text[k-1]) || text[k-1] >= utf8.RuneSelf) {
			k--
		}
		if k == j {
			return -1
		}
		word := text[k:j]
		if equalFold(word, "in") {
			// "in" ends the search, after one to four words.
			return town
		}
		if !isNameStart(text, k) && !inWordSet(placeParticles, word) || isNameStopWord(word) || inWordSet(notNameWords, word) {
			return -1
		}
		if k < 2 || text[k-1] != ' ' {
			return -1
		}
		town = k
		j = k - 1
	}
	return -1
}

// afterCountry reports whether a country name and one space precede i.
func afterCountry(text string, i int) bool {
	if i < 5 || text[i-1] != ' ' || !isLetter(text[i-2]) {
		return false
	}
	start := i - 1
	for words := 0; words < 3; words++ {
		k := start
		for k > 0 && isLetter(text[k-1]) {
			k--
		}
		if k == start || !isUpper(text[k]) {
			return false
		}
		if inWordSet(countryNames, text[k:i-1]) {
			return true
		}
		if k < 2 || text[k-1] != ' ' {
			return false
		}
		start = k - 1
	}
	return false
}

// ukOrCanadianPostcodeEnd returns the end of a UK postcode ("SW1A 1AA",
// "M1 1AE") or a Canadian postal code ("K1A 0B1") at i, or -1. Both must
// be in capitals with one space, and end a word.
func ukOrCanadianPostcodeEnd(text string, i int) int {
	// Outward code: one or two letters, a digit, and an optional letter or
	// digit.
	j := i
	for j < len(text) && j-i < 2 && isUpper(text[j]) {
		j++
	}
	if j == i || j >= len(text) || !isDigit(text[j]) {
		return -1
	}
	j++
	if j < len(text) && (isDigit(text[j]) || isUpper(text[j])) {
		j++
	}
	if j+4 > len(text) || text[j] != ' ' {
		return -1
	}
	// Inward code: UK digit letter letter, Canada digit letter digit.
	a, b, c := text[j+1], text[j+2], text[j+3]
	if !isDigit(a) || !isUpper(b) || !isDigit(c) && !isUpper(c) {
		return -1
	}
	end := j + 4
	if end < len(text) && isAlnum(text[end]) {
		return -1
	}
	outward := text[i:j]
	canadian := len(outward) == 3 && isUpper(outward[0]) && isDigit(outward[1]) && isUpper(outward[2]) && isDigit(c)
	uk := isUpper(c)
	if !canadian && !uk {
		return -1
	}
	return end
}

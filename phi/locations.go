package phi

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// LocationDetector finds facilities, towns and counties, which HIPAA Safe
// Harbor counts as geographic subdivisions smaller than a state. It reads
// each run of capitalized words (with "of", "and", "&", possessives and
// the abbreviations "St.", "Mt." inside) as a place phrase and reports it
// as TypeLocation when:
//
//   - a word of it names a kind of facility: "Methodist Hospital", "Elm
//     Clinic", "UCLA Medical Center", "Mass General", "Greenfield Senior
//     Center", "Stanford Health Care", or a trailing lowercase "clinic" or
//     "hospital" ("our New York clinic");
//   - it starts with "St.", "Saint", "Mt." or "Mount" ("St. Vincent's"),
//     except "St. John's wort";
//   - it contains a well-known health-system name from healthSystems
//     ("Cedars-Sinai", "Kaiser Permanente", "UCSF");
//   - it ends in "County", "Parish" or "Borough";
//   - it follows "at", "visited", an admission phrase ("admitted to",
//     "transferred from") or a residence phrase ("lives in", "resident
//     of"), which make any capitalized phrase a place ("at Cedar Crest");
//   - it is a US town from the GeoNames list after "in", "from", "near" or
//     "to", or before ", ST" with a state code or name ("Atlanta, GA");
//   - it is a country: with high confidence in context, after "in",
//     "from", "to", "near", "at" or a residence or travel phrase ("moved
//     here from Estonia"), on a line of its own or before a postal code,
//     because postal addresses end that way ("Finland 41600"); with low
//     confidence anywhere else, unless a noun follows it ("Estonia was
//     fun", but not "Brazil nut");
//   - it is written in capitals after a cue (see capitalsPlace).
//
// A state alone is never reported, because Safe Harbor allows it: "Atlanta,
// GA" yields "Atlanta". A country is not a subdivision smaller than a
// state either, but in text about a person it names where the person
// lives or travels, so it is reported, with a confidence that says how
// sure the context is; names of countries that are also US states or
// given names ("Georgia", "Jordan") are left out.
//
// NOTE: towns that are also English words ("Mobile", "Independence") count
// only before a state, and towns with fewer than 5,000 people are found
// only through context.
type LocationDetector struct{}

// Name returns "location".
func (LocationDetector) Name() string { return "location" }

const (
	confLocationFacility = 0.8
	confLocationKnown    = 0.85
	confLocationContext  = 0.7
)

// maxPlaceWords bounds a place phrase ("Johns Hopkins University Hospital
// of the ...").
const maxPlaceWords = 7

// placePhrase is a run of capitalized words. ends[k] is the end of word k
// without a possessive, so that a span can stop after any word.
type placePhrase struct {
	start, end int
	words      int
	ends       [maxPlaceWords]int
	starts     [maxPlaceWords]int
}

func (p *placePhrase) word(text string, k int) string {
	return text[p.starts[k]:p.ends[k]]
}

// in reports whether word k of the phrase is in set.
func (p *placePhrase) in(ix *textIndex, text string, k int, set *wordSet) bool {
	return ix.inSet(text, p.starts[k], p.ends[k], set)
}

// Detect appends the places in text to dst.
func (d LocationDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setPlaceStart,
// through ix when it is not nil. A phrase may start with a capital outside
// ASCII ("ÅLESUND", "Črni Vrh").
func (d LocationDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	lastEnd := -1
	var p placePhrase
	for i := ix.next(text, setPlaceStart, 0); i < len(text); i = ix.next(text, setPlaceStart, i+1) {
		if c := text[i]; c >= utf8.RuneSelf {
			if !isNameStart(text, i) || letterOrDigitBefore(text, i) {
				continue
			}
		} else if !isUpper(c) || i > 0 && isAlnum(text[i-1]) {
			continue
		}
		if !readPlace(ix, text, i, &p) {
			i = ix.wordEnd(text, i) - 1
			continue
		}
		start, end, conf := judgePlace(ix, text, &p, lastEnd)
		if end > start {
			dst = append(dst, Finding{Type: TypeLocation, Start: start, End: end, Confidence: conf, Detector: d.Name()})
			lastEnd = end
			i = end - 1
			continue
		}
		i = p.ends[0] - 1
	}
	if !hasCapitalWordStart(text, ix) {
		dst = d.appendLowercasePlaces(text, ix, dst)
	}
	return dst
}

// appendLowercasePlaces reports places in text typed without capitals,
// where nothing else marks them: a country, or a listed town that is not
// an English word or a frequent given name, right after "from", "in",
// "to" or "near" ("moved here from tunisia", "lives in harburg").
func (d LocationDetector) appendLowercasePlaces(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setWordStart, 0); i < len(text); i = ix.next(text, setWordStart, i+1) {
		if !isLetter(text[i]) || i > 0 && isAlnum(text[i-1]) {
			continue
		}
		w := ix.wordEnd(text, i)
		switch text[i:w] {
		case "from", "in", "to", "near":
		default:
			i = w - 1
			continue
		}
		k := w + 1
		if k >= len(text) || text[w] != ' ' || !isLower(text[k]) {
			continue
		}
		end := lowercasePlaceEnd(ix, text, k)
		if end < 0 {
			continue
		}
		dst = append(dst, Finding{Type: TypeLocation, Start: k, End: end, Confidence: confLocationContext, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// lowercasePlaceEnd returns the end of a country of one to three words or
// of a listed town of one word at i, in lowercase, or -1.
func lowercasePlaceEnd(ix *textIndex, text string, i int) int {
	end := wordEnd(text, i)
	e := ix.lookup(text, i, end)
	for words := 1; words <= 3; words++ {
		if ix.inSet(text, i, end, countryNames) {
			return end
		}
		if end+1 >= len(text) || text[end] != ' ' || !isLower(text[end+1]) {
			break
		}
		end = wordEnd(text, end+1)
	}
	if !e.isPlace() || e.common || e.in(nameStopWords) || e.in(notNameWords) || e.in(usStateNames) {
		return -1
	}
	if e.firstRank > 0 && e.firstRank <= 1000 {
		return -1
	}
	return wordEnd(text, i)
}

// readPlace reads the place phrase that starts at i into p and reports
// whether it has a word.
func readPlace(ix *textIndex, text string, i int, p *placePhrase) bool {
	p.words = 0
	p.start = i
	j := i
	for p.words < maxPlaceWords && j < len(text) {
		if !isNameStart(text, j) {
			break
		}
		w := placeWordEnd(text, placeLettersEnd(ix, text, j))
		if w == j+1 && (w >= len(text) || text[w] != '.') {
			break
		}
		p.starts[p.words] = j
		p.ends[p.words] = w
		p.words++
		stop := w
		if w < len(text) && text[w] == '.' && isPlaceAbbrev(text[j:w]) {
			stop = w + 1
		}
		stop = possessiveEnd(text, stop)
		p.end = stop
		if stop+1 >= len(text) || text[stop] != ' ' {
			break
		}
		next := stop + 1
		if isNameStart(text, next) {
			j = next
			continue
		}
		// A connector joins two capitalized words: "Brigham and Women's".
		c := wordEnd(text, next)
		conn := text[next:c]
		if (conn == "of" || conn == "and" || conn == "the") && c+1 < len(text) && text[c] == ' ' && isNameStart(text, c+1) {
			j = c + 1
			continue
		}
		if next < len(text) && text[next] == '&' && next+2 < len(text) && text[next+1] == ' ' && isNameStart(text, next+2) {
			j = next + 2
			continue
		}
		break
	}
	return p.words > 0
}

// placeLettersEnd returns the end of the run of letters and digits at i,
// ASCII or not ("ÖSTERSKÄR", "Kędzierzyn").
func placeLettersEnd(ix *textIndex, text string, i int) int {
	j := ix.alnumEnd(text, i)
	for j < len(text) && text[j] >= utf8.RuneSelf {
		e := letterRunEnd(text, j)
		if e == j {
			break
		}
		j = ix.alnumEnd(text, e)
	}
	return j
}

// placeWordEnd returns the end of a capitalized word, an acronym or a
// hyphenated name ("Cedars-Sinai") at i, without a possessive. A caller
// that knows the end of the run of letters and digits at i may pass that
// end instead of i.
func placeWordEnd(text string, i int) int {
	j := i
	for j < len(text) && isAlnum(text[j]) {
		j++
	}
	for j+1 < len(text) && text[j] == '-' && isAlnum(text[j+1]) {
		j++
		for j < len(text) && isAlnum(text[j]) {
			j++
		}
	}
	return j
}

// possessiveEnd returns the end of "'s" or "’s" at i, or i.
func possessiveEnd(text string, i int) int {
	if i+1 < len(text) && text[i] == '\'' && text[i+1] == 's' && (i+2 == len(text) || !isLetter(text[i+2])) {
		return i + 2
	}
	if hasPrefixFold(text, i, "\u2019s") && (i+4 == len(text) || !isLetter(text[i+4])) {
		return i + 4
	}
	return i
}

func isPlaceAbbrev(word string) bool {
	switch word {
	case "St", "Mt", "Ft", "Ste", "Med", "Hosp", "Ctr", "Univ", "Gen":
		return true
	}
	return false
}

// judgePlace decides whether the phrase p is a place and returns its span
// and confidence, or an empty span. lastEnd is the end of the previous
// place found, so that "Hospital, Dallas" can add the town.
func judgePlace(ix *textIndex, text string, p *placePhrase, lastEnd int) (int, int, float64) {
	first := 0
	for first < p.words-1 && (p.in(ix, text, first, placeLeadWords) || schoolOf(ix, text, p, first)) {
		first++
	}
	start, end := p.starts[first], p.end
	if lineEnd := townLineEnd(ix, text, start); lineEnd > 0 {
		return start, lineEnd, confLocationContext
	}
	if !mayBePlace(ix, text, p, first, lastEnd) {
		return 0, 0, 0
	}
	w0 := p.word(text, first)
	if countryEnd := countryPrefix(ix, text, p, first); countryEnd > 0 {
		if countryInContext(text, start, countryEnd) {
			return start, countryEnd, confLocationContext
		}
		// Elsewhere a country followed by a noun is a kind of thing
		// ("Brazil nut", "Canada geese"); before a verb or punctuation it
		// is the place itself ("Estonia was fun", "tribute to Norway.").
		if !followedByNoun(ix, text, countryEnd) || countryRoleAfter(text, countryEnd) {
			return start, countryEnd, confLow
		}
	}
	if ix.inSet(text, start, end, usStateNames) {
		// A state alone is not a subdivision smaller than a state, even
		// after a cue ("lives in Georgia").
		return 0, 0, 0
	}
	if p.words-first == 1 {
		return judgeSingleWord(ix, text, p, first, lastEnd)
	}

	if w0 == "St" || w0 == "Saint" || w0 == "Mt" || w0 == "Mount" {
		if p.words > first+1 && !followedByWord(text, end, "wort") {
			return start, end, confLocationFacility
		}
		return 0, 0, 0
	}
	for k := first; k < p.words; k++ {
		if p.in(ix, text, k, healthSystems) {
			return start, end, confLocationKnown
		}
	}
	if facilityPhrase(ix, text, p, first) {
		return start, end, confLocationFacility
	}
	if p.words-first >= 2 && p.in(ix, text, p.words-1, regionWords) {
		return start, end, confLocationFacility
	}
	if head := lowercaseFacilityAfter(text, end); head > end && p.words-first <= 3 && !allStopWords(ix, text, p, first) {
		return start, head, confLocationFacility
	}
	if p.words-first >= 2 && isStreetSuffix(p.word(text, p.words-1)) {
		return start, end, confLocationContext
	}

	// The remaining rules need context. Sentence capitalization and
	// eponyms ("Wells score") rule the phrase out, unless a facility word
	// follows "at", which still names a place ("at County General").
	cue := placeCue(text, start)
	if capitalsPlace(ix, text, p, first, cue) {
		return start, end, confLocationContext
	}
	if allStopWords(ix, text, p, first) || eponymAfter(ix, text, end) {
		if cue == cueAny && p.words-first >= 2 && p.in(ix, text, p.words-1, facilityWords) {
			return start, end, confLocationContext
		}
		return 0, 0, 0
	}
	// Only a state after the phrase, a cue or a place before it can make
	// the phrase a place now, so the town lists are read only then.
	stateEnd := stateAfter(text, end)
	afterPlace := lastEnd >= 0 && start == lastEnd+2 && text[lastEnd] == ','
	if stateEnd < 0 && cue == cueNone && !afterPlace {
		return 0, 0, 0
	}
	townEnd, town := townPrefix(ix, text, p, first)
	if stateEnd > 0 {
		code := text[end+2 : stateEnd]
		if town || code != "MD" && code != "PA" && p.words-first <= 3 {
			return start, end, confLocationKnown
		}
	}
	switch cue {
	case cueAny:
		return start, end, confLocationContext
	case cueTown:
		if town {
			return start, townEnd, confLocationContext
		}
		if postalCodeAfter(text, end) {
			return start, end, confLocationContext
		}
	}
	if town && afterPlace {
		return start, townEnd, confLocationContext
	}
	return 0, 0, 0
}

// placeWords holds the words that can make a phrase a place without
// context: the first words of countries, saints, health systems,
// facilities, regions and street types.
var placeWords = func() *wordSet {
	var words []string
	for _, set := range []*wordSet{countryFirstWords, saintWords, healthSystems, facilityWords, regionWords, streetSuffixSet} {
		words = append(words, set.members...)
	}
	return newWordSet(words...)
}()

// countryFirstWords are the first words of countryNames.
var countryFirstWords = func() *wordSet {
	var words []string
	for _, name := range countryNames.members {
		first, _, _ := strings.Cut(name, " ")
		words = append(words, first)
	}
	return newWordSet(words...)
}()

// saintWords open a place phrase ("St. Vincent's", "Mount Sinai").
var saintWords = newWordSet("st", "saint", "mt", "mount")

// mayBePlace reports whether judgePlace can find a place in the phrase p,
// whose words from first on are judged, by checks that cost less than
// judging it. It needs a word that can make a phrase a place alone
// (placeWords) or a context that can: a place cue or a place before the
// phrase, or a state or a lowercase facility word after it. Most
// capitalized phrases open sentences and have neither, so the detector
// rejects them here.
func mayBePlace(ix *textIndex, text string, p *placePhrase, first, lastEnd int) bool {
	for k := first; k < p.words; k++ {
		if p.in(ix, text, k, placeWords) {
			return true
		}
	}
	start, end := p.starts[first], p.end
	return placeCue(text, start) != cueNone || stateAfter(text, end) > 0 ||
		lastEnd >= 0 && start == lastEnd+2 && text[lastEnd] == ',' ||
		lowercaseFacilityAfter(text, end) > end
}

// judgeSingleWord judges a place phrase of one word, which needs a
// health-system name or context: most single capitalized words in notes
// open sentences.
func judgeSingleWord(ix *textIndex, text string, p *placePhrase, first int, lastEnd int) (int, int, float64) {
	start, end := p.starts[first], p.end
	cue := placeCue(text, start)
	state := stateAfter(text, end)
	afterPlace := lastEnd >= 0 && start == lastEnd+2 && text[lastEnd] == ','
	head := lowercaseFacilityAfter(text, end)
	if cue == cueNone && state < 0 && !afterPlace && head == end && !isUpper(text[start+1]) {
		return 0, 0, 0
	}
	if p.in(ix, text, first, healthSystems) {
		return start, end, confLocationKnown
	}
	if capitalsPlace(ix, text, p, first, cue) {
		return start, end, confLocationContext
	}
	if allStopWords(ix, text, p, first) || eponymAfter(ix, text, end) {
		return 0, 0, 0
	}
	if head > end {
		return start, head, confLocationFacility
	}
	townEnd, town := townPrefix(ix, text, p, first)
	if state > 0 {
		code := text[end+2 : state]
		if town || code != "MD" && code != "PA" {
			return start, end, confLocationKnown
		}
	}
	switch {
	case cue == cueAny:
		return start, end, confLocationContext
	case cue == cueTown && postalCodeAfter(text, end):
		return start, end, confLocationContext
	case town && (cue == cueTown || afterPlace):
		return start, townEnd, confLocationContext
	case cue == cueTown && toponymSuffix(text[start:end]):
		// An unlisted word with the ending of an English place name
		// ("to Auroratown", "in Pudičmouth"). The lexicon marks only the
		// English words that are also names or places, so a few English
		// words with these endings are listed in toponymFalseFriends.
		if e := ix.lookup(text, start, end); !e.common && !e.isName() && !inWordSet(toponymFalseFriends, text[start:end]) {
			return start, end, confLocationContext
		}
	}
	return 0, 0, 0
}

// toponymSuffixes are endings of English place names. Most come from Old
// English words for a fort (-bury, -borough, -burgh, -chester), a
// settlement (-ton, -wick, -worth, -stead, -thorpe), a river crossing
// (-ford), open land (-field, -dale) or a harbour (-mouth, -haven). -town
// and -ville are later. "-port" is left out because of "Support",
// "Transport" and "Report".
var toponymSuffixes = [...]string{
	"bury", "borough", "burgh", "chester", "cester", "caster", "ton",
	"town", "wick", "worth", "stead", "thorpe", "ford", "field", "dale",
	"mouth", "haven", "ville", "minster",
}

// toponymFalseFriends are English words with an ending of
// toponymSuffixes that the lexicon does not hold as names.
var toponymFalseFriends = newWordSet(
	"skeleton", "baton", "crouton", "piston", "wanton", "downtown",
	"uptown", "midtown", "hometown", "battlefield", "minefield",
	"airfield", "outfield", "infield",
)

// toponymSuffix reports whether word ends in one of toponymSuffixes after
// a stem of at least three bytes.
func toponymSuffix(word string) bool {
	for _, suffix := range toponymSuffixes {
		if len(word) >= len(suffix)+3 && equalFold(word[len(word)-len(suffix):], suffix) {
			return true
		}
	}
	return false
}

// schoolOf reports whether word k of the phrase is "University" or
// "College" and "of" joins it to the next word ("University of Nicosia"),
// whose town the place span keeps. residenceVerbs holds both words, so
// the town after them has a place cue.
func schoolOf(ix *textIndex, text string, p *placePhrase, k int) bool {
	if k+1 >= p.words || p.starts[k+1]-p.ends[k] != 4 || text[p.ends[k]:p.starts[k+1]] != " of " {
		return false
	}
	w := p.word(text, k)
	return equalFold(w, "university") || equalFold(w, "college")
}

// placeLeadWords are capitalized words that open a sentence before a place
// ("The Cleveland Clinic", "Our Elm Clinic") and are not part of it.
var placeLeadWords = newWordSet("the", "our", "at", "in", "from", "to", "a", "an", "this", "their", "his", "her", "its", "my", "your")

// facilityWords end or head a facility name. "Health", "Center" and
// "General" need a word before them that is not a generic modifier, which
// facilityPhrase checks.
var facilityWords = newWordSet(
	"hospital", "hospitals", "hosp", "clinic", "clinics", "infirmary",
	"hospice", "healthcare", "rehab", "rehabilitation", "sanitarium",
	"sanatorium", "center", "centre", "ctr", "health", "general",
	"memorial", "regional", "community", "nursing", "medical", "med",
	"presbyterian", "methodist", "baptist", "urgent", "pavilion",
)

// standaloneFacilityWords name a facility after any other word ("Elm
// Clinic"), unlike "Health" or "Center", which need a specific one.
var standaloneFacilityWords = newWordSet(
	"hospital", "hospitals", "hosp", "clinic", "clinics", "infirmary",
	"hospice", "healthcare", "rehab", "rehabilitation", "sanitarium",
	"sanatorium",
)

// genericHealthWords before "Health" or "Center" make a topic, not a
// facility: "Mental Health", "Public Health", "Cancer Center" alone.
var genericHealthWords = newWordSet(
	"mental", "public", "behavioral", "behavioural", "global", "oral",
	"sexual", "reproductive", "occupational", "population", "digital",
	"environmental", "world", "national", "women's", "men's", "child",
	"children's", "family", "home", "rural", "urban", "international",
	"cancer", "heart", "trauma", "disease", "control", "prevention",
	"research", "data", "medical", "health", "general", "community",
	"regional", "memorial", "the", "of", "and", "for",
)

// facilityPhrase reports whether the phrase names a facility.
func facilityPhrase(ix *textIndex, text string, p *placePhrase, first int) bool {
	for k := first; k < p.words; k++ {
		w := p.word(text, k)
		if !p.in(ix, text, k, facilityWords) {
			continue
		}
		switch {
		case p.in(ix, text, k, standaloneFacilityWords):
			// A facility word alone ("Hospital course") is a heading.
			if p.words-first >= 2 {
				return true
			}
		case equalFold(w, "medical") || equalFold(w, "med"):
			if k+1 < p.words && p.in(ix, text, k+1, facilityWords) && k > first {
				return true
			}
		case equalFold(w, "nursing"):
			if k+1 < p.words && equalFold(p.word(text, k+1), "home") {
				return true
			}
		default:
			// Health, Center, General, Memorial, Regional, Community and
			// the denominations need a specific word before them.
			if k > first && !p.in(ix, text, k-1, genericHealthWords) && !p.in(ix, text, first, notNameWords) {
				return true
			}
			if k > first+1 && !p.in(ix, text, first, genericHealthWords) {
				return true
			}
		}
	}
	return false
}

// allStopWords reports whether every word of the phrase is a stop word,
// an eponym, a month or another word that cannot name a place alone.
func allStopWords(ix *textIndex, text string, p *placePhrase, first int) bool {
	for k := first; k < p.words; k++ {
		if !p.in(ix, text, k, notNameWords) && !p.in(ix, text, k, nameStopWords) && !isAcronym(p.word(text, k)) {
			return false
		}
	}
	return true
}

// isAcronym reports whether w is all capitals and digits ("ICU", "T2DM").
func isAcronym(w string) bool {
	for i := 0; i < len(w); i++ {
		if isLower(w[i]) {
			return false
		}
	}
	return true
}

// regionWords end the name of a county or similar subdivision.
var regionWords = newWordSet("county", "parish", "borough", "township")

// healthSystems are well-known US hospital and health-system names that
// occur without a facility word ("treated at Cedars-Sinai").
var healthSystems = newWordSet(
	"cedars-sinai", "cedar-sinai", "sinai", "permanente", "langone",
	"bellevue", "montefiore", "ochsner", "geisinger", "intermountain",
	"kettering", "dana-farber", "brigham", "hopkins", "newyork-presbyterian",
	"ucsf", "ucla", "upmc", "uwmc", "musc", "ohsu", "vumc", "ucsd", "nyu",
	"mgh", "chop", "northwell", "atrium", "sutter", "mayo",
)

// lowercaseFacilityAfter returns the end of a lowercase facility word
// right after i ("New York clinic"), or i.
func lowercaseFacilityAfter(text string, i int) int {
	if i+1 >= len(text) || text[i] != ' ' || !isLower(text[i+1]) {
		return i
	}
	w := wordEnd(text, i+1)
	switch text[i+1 : w] {
	case "clinic", "hospital", "office", "branch", "campus":
		return w
	case "medical", "health":
		if hasPrefixFold(text, w, " center") {
			return w + 7
		}
	}
	return i
}

// townPrefix reports whether the phrase starts with a town from the
// lexicon of up to three words, and returns the end of that town. A town
// that is also an English word does not count.
func townPrefix(ix *textIndex, text string, p *placePhrase, first int) (int, bool) {
	for n := min(3, p.words-first); n >= 1; n-- {
		last := first + n - 1
		var e lexEntry
		if n == 1 && p.ends[first]-p.starts[first] <= 32 {
			// lookupWord reads words of up to 32 bytes, lookupPhrase
			// phrases of up to 48.
			e = ix.lookup(text, p.starts[first], p.ends[first])
		} else {
			e = lookupPhrase(text, p.starts[first], p.ends[last])
		}
		if n == 1 && p.word(text, first) == "NYC" {
			return p.ends[last], true
		}
		if !e.isPlace() || n == 1 && e.common {
			continue
		}
		if n == 1 && p.in(ix, text, first, usStateNames) {
			continue
		}
		return p.ends[last], true
	}
	return 0, false
}

// stateAfter returns the end of ", ST" or ", Statename" right after i, or
// -1. The state itself is not PHI and is not part of the span.
func stateAfter(text string, i int) int {
	if i+3 >= len(text) || text[i] != ',' || text[i+1] != ' ' || !isUpper(text[i+2]) {
		return -1
	}
	j := i + 2
	if j+2 <= len(text) && isUpper(text[j+1]) && (j+2 == len(text) || !isAlnum(text[j+2])) {
		for k := 0; k+2 <= len(usStates); k += 3 {
			if usStates[k] == text[j] && usStates[k+1] == text[j+1] {
				return j + 2
			}
		}
		return -1
	}
	w := wordEnd(text, j)
	if inWordSet(usStateNames, text[j:w]) {
		return w
	}
	return -1
}

// countryPrefix returns the end of the country name of one to three words
// that opens the phrase, or -1.
func countryPrefix(ix *textIndex, text string, p *placePhrase, first int) int {
	for n := min(3, p.words-first); n >= 1; n-- {
		last := first + n - 1
		if ix.inSet(text, p.starts[first], p.ends[last], countryNames) {
			return p.ends[last]
		}
	}
	return -1
}

// countryInContext reports whether the country text[start:end] follows a
// place cue, is alone on its line or precedes a postal code.
func countryInContext(text string, start, end int) bool {
	if placeCue(text, start) != cueNone {
		return true
	}
	j := skipSpaces(text, end)
	if j == len(text) && lineStart(text, start) || j < len(text) && (text[j] == '\n' || text[j] == '\r') && lineStart(text, start) {
		return true
	}
	return j == end+1 && j < len(text) && isDigit(text[j])
}

// isQuoteMarker reports whether c may open a line as a marker that is
// not part of its content: ">" of a quoted mail, or "?", which is what a
// bullet character becomes when a text passes through a single-byte
// encoding ("??? Suite 292"). A "?" counts only where nothing but
// markers and spaces precede it on its line, as the callers check.
func isQuoteMarker(c byte) bool { return c == '>' || c == '?' }

// lineStart reports whether only spaces, tabs and quote markers (see
// isQuoteMarker) stand between the start of the line and i.
func lineStart(text string, i int) bool {
	for i > 0 {
		switch text[i-1] {
		case ' ', '\t', '>', '?':
			i--
		case '\n', '\r':
			return true
		default:
			return false
		}
	}
	return true
}

// countryNames are the short English names of countries, lowercase.
// Names that are also US states, given names or common words ("Georgia",
// "Jordan", "Chad", "Turkey") are left out.
var countryNames = newWordSet(
	"afghanistan", "albania", "algeria", "andorra", "angola", "argentina",
	"armenia", "australia", "austria", "azerbaijan", "bahamas", "bahrain",
	"bangladesh", "barbados", "belarus", "belgium", "belize", "benin",
	"bhutan", "bolivia", "bosnia", "botswana", "brazil", "brunei",
	"bulgaria", "burundi", "cambodia", "cameroon", "canada", "chile",
	"china", "colombia", "congo", "costa rica", "croatia", "cuba",
	"cyprus", "czech republic", "czechia", "denmark", "djibouti",
	"dominican republic", "ecuador", "egypt", "el salvador", "eritrea",
	"estonia", "eswatini", "ethiopia", "fiji", "finland", "france",
	"gabon", "gambia", "germany", "ghana", "greece", "greenland",
	"guatemala", "guyana", "haiti", "honduras", "hong kong", "hungary",
	"iceland", "india", "indonesia", "iran", "iraq", "ireland", "israel",
	"italy", "jamaica", "japan", "kazakhstan", "kenya", "kosovo", "kuwait",
	"kyrgyzstan", "laos", "latvia", "lebanon", "lesotho", "liberia",
	"libya", "liechtenstein", "lithuania", "luxembourg", "madagascar",
	"malawi", "malaysia", "maldives", "mali", "malta", "mauritania",
	"mauritius", "mexico", "moldova", "monaco", "mongolia", "montenegro",
	"morocco", "mozambique", "myanmar", "namibia", "nepal", "netherlands",
	"new zealand", "nicaragua", "nigeria", "north korea",
	"north macedonia", "norway", "oman", "pakistan", "panama",
	"papua new guinea", "paraguay", "peru", "philippines", "poland",
	"portugal", "puerto rico", "qatar", "romania", "russia", "rwanda",
	"san marino", "saudi arabia", "senegal", "serbia", "sierra leone",
	"singapore", "slovakia", "slovenia", "somalia", "south africa",
	"south korea", "south sudan", "spain", "sri lanka", "sudan",
	"suriname", "sweden", "switzerland", "syria", "taiwan", "tajikistan",
	"tanzania", "thailand", "tunisia", "turkmenistan", "uganda", "ukraine",
	"united arab emirates", "united kingdom", "united states", "uruguay",
	"uzbekistan", "venezuela", "vietnam", "yemen", "zambia", "zimbabwe",
	"england", "scotland", "wales", "northern ireland",
)

// usStateNames are the state names other than "New York", which names a
// town too. townPrefix reads only one-word entries, because the others
// end in a word that does not name a town alone.
var usStateNames = newWordSet(
	"alabama", "alaska", "arizona", "arkansas", "california", "colorado",
	"connecticut", "delaware", "florida", "georgia", "hawaii", "idaho",
	"illinois", "indiana", "iowa", "kansas", "kentucky", "louisiana",
	"maine", "maryland", "massachusetts", "michigan", "minnesota",
	"mississippi", "missouri", "montana", "nebraska", "nevada", "ohio",
	"oklahoma", "oregon", "pennsylvania", "tennessee", "texas", "utah",
	"vermont", "virginia", "washington", "wisconsin", "wyoming",
	"new hampshire", "new jersey", "new mexico", "north carolina",
	"north dakota", "south carolina", "south dakota", "rhode island",
	"west virginia",
)

type placeCueKind int

const (
	cueNone placeCueKind = iota
	// cueAny makes any capitalized phrase after it a place.
	cueAny
	// cueTown makes a listed town after it a place.
	cueTown
)

// placeCue classifies the words just before position i.
func placeCue(text string, i int) placeCueKind {
	j := i
	for j > 0 && text[j-1] == ' ' {
		j--
	}
	if j > 0 && text[j-1] == ':' {
		// A form field: "Where: Beerze Country Club".
		if equalFold(previousWord(text, j-1), "where") {
			return cueAny
		}
		return cueNone
	}
	k := j
	for k > 0 && isLetter(text[k-1]) {
		k--
	}
	if k == j {
		return cueNone
	}
	word := text[k:j]
	prev := previousWord(text, k)
	switch {
	case equalFold(word, "at") || equalFold(word, "visited"):
		return cueAny
	case equalFold(word, "city") || equalFold(word, "town") || equalFold(word, "village"):
		// "home city Assen", "the town Tobel"; "City Hospital" is read
		// as one phrase and never reaches here.
		return cueAny
	case equalFold(word, "to") || equalFold(word, "from"):
		if inWordSet(admissionVerbs, prev) {
			return cueAny
		}
		return cueTown
	case equalFold(word, "in") || equalFold(word, "of"):
		if inWordSet(residenceVerbs, prev) || equalFold(word, "in") && firstPersonAm(text, k) {
			return cueAny
		}
		if equalFold(word, "in") {
			return cueTown
		}
	case equalFold(word, "near"):
		return cueTown
	}
	return cueNone
}

// previousWord returns the word that ends before position i, skipping
// spaces.
func previousWord(text string, i int) string {
	j := i
	for j > 0 && text[j-1] == ' ' {
		j--
	}
	k := j
	for k > 0 && isLetter(text[k-1]) {
		k--
	}
	return text[k:j]
}

// admissionVerbs before "to" or "from" make the next phrase a facility.
var admissionVerbs = newWordSet(
	"admitted", "transferred", "presented", "referred", "discharged",
	"sent", "taken", "brought", "readmitted", "moved", "relocated",
	"transported", "returned", "flew", "fly", "flying", "travelling",
	"traveling", "travelled", "traveled", "travel", "arrived", "came",
	"went", "emigrated", "immigrated", "drove", "headed", "here",
	"originally", "coming", "going", "trip", "visit", "visiting", "moving",
)

// residenceVerbs before "in" or "of" make the next phrase a place. A
// street lies in a town, so "street in" counts too ("Glyn St street in
// Highveld").
var residenceVerbs = newWordSet(
	"lives", "living", "resides", "residing", "resident", "born",
	"native", "located", "live", "lived", "based", "up", "am", "raised",
	"grew", "stayed", "staying", "settled", "university", "college",
	"street",
)

// followedByWord reports whether word follows position i after one space.
func followedByWord(text string, i int, word string) bool {
	if i >= len(text) || text[i] != ' ' {
		return false
	}
	w := wordEnd(text, i+1)
	return equalFold(text[i+1:w], word)
}

// capitalsPlace reports whether the phrase, written in capitals ("LEPPEN",
// "UPTON SCUDAMORE"), names a place: after a cue that makes any phrase a
// place when it has six letters or more, because shorter capitals after
// "transferred to" are units ("MICU", "PACU"), and after any cue when it
// is a listed town ("in LONDON").
func capitalsPlace(ix *textIndex, text string, p *placePhrase, first int, cue placeCueKind) bool {
	if cue == cueNone {
		return false
	}
	letters := 0
	for k := first; k < p.words; k++ {
		for _, r := range p.word(text, k) {
			if r < utf8.RuneSelf && !isUpper(byte(r)) || r >= utf8.RuneSelf && !unicode.IsUpper(r) {
				return false
			}
			letters++
		}
	}
	if cue == cueAny && (letters >= 6 || letters >= 3 && residenceCue(text, p.starts[first])) {
		return true
	}
	_, town := townPrefix(ix, text, p, first)
	return town && !p.in(ix, text, first, usStateNames)
}

// residenceCue reports whether a residence phrase ("grew up in", "lives
// in", "born in", "I'm in") ends just before i. Units of a hospital do not follow
// such a phrase, so a short name in capitals after it is a place ("grew up
// in SUND").
func residenceCue(text string, i int) bool {
	word := previousWord(text, i)
	if !equalFold(word, "in") && !equalFold(word, "of") {
		return false
	}
	k := i
	for k > 0 && text[k-1] == ' ' {
		k--
	}
	k -= len(word)
	return inWordSet(residenceVerbs, previousWord(text, k)) || equalFold(word, "in") && firstPersonAm(text, k)
}

// followedByNoun reports whether a lowercase word other than a verb of
// personVerbs follows position i after one space.
func followedByNoun(ix *textIndex, text string, i int) bool {
	if i+1 >= len(text) || text[i] != ' ' || !isLower(text[i+1]) {
		return false
	}
	return !verbAfter(ix, text, i)
}

// countryRoles are nouns for people and bodies that act for a country.
// After one of them a country is the place itself ("Brazil leader gives",
// "Spain officials said"), not a kind of thing.
var countryRoles = newWordSet(
	"leader", "leaders", "president", "prime", "premier", "minister",
	"ministers", "government", "officials", "authorities", "police",
	"army", "military", "parliament", "embassy", "consulate",
)

// countryRoleAfter reports whether a word of countryRoles follows the
// space at i.
func countryRoleAfter(text string, i int) bool {
	if i+1 >= len(text) || text[i] != ' ' {
		return false
	}
	return inWordSet(countryRoles, text[i+1:letterRunEnd(text, i+1)])
}

// firstPersonAm reports whether "I'm" or "I am" ends before the word at i
// ("I'm in Flateyri"), because where a speaker is can only be a place.
func firstPersonAm(text string, i int) bool {
	j := i
	for j > 0 && text[j-1] == ' ' {
		j--
	}
	switch {
	case j >= 3 && equalFold(text[j-3:j], "i'm") && (j == 3 || !isLetter(text[j-4])):
		return true
	case j >= 4 && equalFold(text[j-4:j], "i am") && (j == 4 || !isLetter(text[j-5])):
		return true
	}
	return false
}

// townLineEnd returns the end of a town that fills the line starting at
// i, when the next line that is not blank holds a country, alone or
// before a postal code ("Chiclana de la Frontera" above "Spain", "ALFRICK"
// above "United Kingdom"), or -1. Postal addresses end this way. The town
// has one to five capitalized words and particles ("de", "nad") and no
// digits.
func townLineEnd(ix *textIndex, text string, i int) int {
	if !lineStart(text, i) {
		return -1
	}
	// The line below is read first: it rules out most lines.
	lineEnd := len(text)
	if nl := strings.IndexByte(text[i:], '\n'); nl >= 0 {
		lineEnd = i + nl
	}
	if countryLineAfter(text, lineEnd, lineEnd) < 0 {
		return -1
	}
	end, words := i, 0
	k := i
	for k < len(text) && text[k] != '\n' && text[k] != '\r' {
		if text[k] == ' ' {
			k++
			continue
		}
		w := placeWordEnd(text, k)
		if w < len(text) && text[w] >= utf8.RuneSelf {
			w = nameWordEnd(text, k)
		}
		if w == k || words == 5 {
			return -1
		}
		if !isNameStart(text, k) && !inWordSet(placeParticles, text[k:w]) && !equalFold(text[k:w], "nad") {
			return -1
		}
		if containsDigit(text[k:w]) || inWordSet(notNameWords, text[k:w]) && !isAcronym(text[k:w]) {
			return -1
		}
		words++
		end, k = w, w
	}
	if words == 0 || inWordSet(countryNames, text[i:end]) {
		return -1
	}
	return countryLineAfter(text, k, end)
}

// maxCountryLine bounds the line that countryLineAfter reads.
const maxCountryLine = 40

// countryLineAfter returns end when the first line after position k that
// is not blank holds only a country name and optionally a postal code,
// and -1 otherwise.
func countryLineAfter(text string, k, end int) int {
	for k < len(text) && (text[k] == '\n' || text[k] == '\r' || text[k] == ' ' || text[k] == '\t' || isQuoteMarker(text[k])) {
		k++
	}
	if w := wordEnd(text, k); !countryFirstWords.mayHold(text[k:w]) {
		return -1
	}
	// A country and a postal code take at most maxCountryLine bytes.
	lineEnd := k
	for lineEnd < len(text) && text[lineEnd] != '\n' && text[lineEnd] != '\r' {
		if lineEnd-k == maxCountryLine {
			return -1
		}
		lineEnd++
	}
	country := lineEnd
	for country > k && (isDigit(text[country-1]) || text[country-1] == ' ' || text[country-1] == '-') {
		country--
	}
	if country == k || !inWordSet(countryNames, text[k:country]) {
		return -1
	}
	return end
}

// postalCodeAfter reports whether a postal code of three digits or more
// follows position i after one space ("in Bjert 6091"), which makes the
// phrase before it a town. A four-digit number from 1900 to 2099 is read
// as a year.
func postalCodeAfter(text string, i int) bool {
	if i+1 >= len(text) || text[i] != ' ' || digitsAt(text, i+1) < 3 {
		return false
	}
	end := postalCodeEnd(text, i+1)
	if end < 0 {
		return false
	}
	k := i + 1
	return end-k != 4 || !(text[k] == '1' && text[k+1] == '9' || text[k] == '2' && text[k+1] == '0')
}

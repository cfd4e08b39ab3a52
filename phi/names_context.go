package phi

// Rules for names that the Census lists alone do not settle. They cover
// names of other origins and names without a listed given name. They also
// cover given names alone where only a person fits: in a list of people, a
// possessive or a form of address.

// unlistedPairEnd judges two name words starting with first at i, which
// pairNameEnd did not accept, and returns the end of the name or -1. It
// accepts:
//   - a word and a listed surname ("Kloz Araujo", "Petr Kloz" when Petr is
//     not a frequent given name) away from the start of a sentence;
//   - two words of which one has letters outside ASCII ("Rubija
//     Liberšar", "Krisztián Szöllösy"), anywhere, because English clinical
//     vocabulary is written in ASCII;
//   - either shape with a bare initial between ("Szabina J Gelencsér");
//   - at the start of a sentence or a line, a pair with a listed surname
//     before a verb, or a pair with a listed word that fills its line.
//
// No word may be a common English word, a country or a town that is not
// also a listed name, so that "New Westminster" and "Costa Rica" stay
// places while "Murphy" (a surname and a town) may still be a name.
func unlistedPairEnd(text string, i int, first nameToken, initial bool) int {
	next := first.end + 1
	if next >= len(text) || text[first.end] != ' ' || !isNameStart(text, next) {
		return -1
	}
	e1 := first.entry()
	if e1.common || e1.isPlace() && !e1.isName() || inWordSet(countryNames, first.word) {
		return -1
	}
	if middle := bareInitialEnd(text, next); middle > next && middle+1 < len(text) {
		next = middle + 1
	}
	second, ok := nameTokenAt(text, next)
	if !ok || second.digits {
		return -1
	}
	e2 := second.entry()
	if e2.common || e2.isPlace() && !e2.isName() || inWordSet(countryNames, second.word) || eponymAfter(text, second.end) {
		return -1
	}
	if lookupPhrase(text, i, second.end).isPlace() {
		return -1
	}
	foreign := !isASCIIWord(first.word) || !isASCIIWord(second.word)
	switch {
	case foreign:
		return second.end
	case initial:
		// At the start of a sentence two capitalized words need a
		// listed surname and a verb after it: "Tomomi Nishiyama lives".
		if e2.isLast() && verbAfter(text, second.end) {
			return second.end
		}
		// A pair with a listed word that fills the rest of its line is
		// an addressee, a signature or a form value: "Philippe
		// Guernon" above an address, "Directed By: Johannes Varvio".
		if (e1.isFirst() || e2.isLast()) && lineEndAt(text, second.end) && !organizationWord(second.word) {
			return second.end
		}
		return -1
	case e2.isLast() || e1.isFirst():
		return second.end
	}
	return -1
}

// organizationWords end the name of a company or an institution ("Rand
// Corporation"), which the lists do not mark as English words because
// they are neither names nor towns.
var organizationWords = newWordSet(
	"corporation", "corp", "incorporated", "inc", "llc", "ltd", "limited",
	"company", "group", "partners", "associates", "holdings", "industries",
	"solutions", "systems", "services", "technologies", "labs",
	"consulting", "bank", "foundation", "institute", "university",
	"college", "school", "pharmacy", "insurance", "agency", "trust",
)

// organizationWord reports whether word ends an organization's name or
// a facility's.
func organizationWord(word string) bool {
	return inWordSet(organizationWords, word) || inWordSet(facilityWords, word)
}

// lineEndAt reports whether a line ends at i, before optional spaces.
func lineEndAt(text string, i int) bool {
	i = skipSpaces(text, i)
	return i == len(text) || text[i] == '\n' || text[i] == '\r'
}

// bareInitialEnd returns the end of a middle initial at i, "J" or "J.",
// followed by a space, or i.
func bareInitialEnd(text string, i int) int {
	if i+2 >= len(text) || !isUpper(text[i]) {
		return i
	}
	j := i + 1
	if text[j] == '.' {
		j++
	}
	if j < len(text) && text[j] == ' ' {
		return j
	}
	return i
}

// nameListFindings reports the items of an enumeration of single name
// words starting at i ("Kónya, Becker and Vasquez", "Usamov and Bowers
// were", "Gaetane, Hannah, Anthony and Andrew") and returns the extended
// dst and the end of the list, or dst and -1. Every item must be a name
// word that is not an eponym, a country, a town that is not also a listed
// name, or a common English word other than a Census name. At least half
// of the items must be listed names or hold letters outside ASCII, so
// that "Norco, Xanax and Valium" is not a list of people.
func nameListFindings(text string, i int, dst []Finding, detector string) ([]Finding, int) {
	var items [8]nameToken
	var starts [8]int
	n, evidence, common, unlisted := 0, 0, 0, 0
	pos := i
	// Most capitalized words are not followed by a list separator, so
	// that is checked before any lookup.
	if tok, ok := nameTokenAt(text, i); !ok || tok.digits || listSeparatorEnd(text, tok.end) < 0 {
		return dst, -1
	}
	for n < len(items) {
		tok, ok := nameTokenAt(text, pos)
		if !ok || tok.digits {
			break
		}
		e := tok.entry()
		if e.common && !e.isCensusName() || e.isPlace() && !e.isName() || inWordSet(countryNames, tok.word) || eponymAfter(text, tok.end) {
			return dst, -1
		}
		listed := e.isName() || !isASCIIWord(tok.word)
		if listed {
			evidence++
		}
		switch {
		case e.common:
			common++
		case !listed:
			unlisted++
		}
		items[n], starts[n] = tok, pos
		n++
		sep := listSeparatorEnd(text, tok.end)
		if sep < 0 {
			break
		}
		pos = sep
	}
	// Census names that are also English words ("Reed", "Park") count
	// only beside listed names that are not ("Park and Mann"), and never
	// beside an unlisted word: "Brown, Black and White" are colours and
	// "Wisdom and Discipline" are virtues.
	if n < 2 || 2*evidence < n || common > 0 && (unlisted > 0 || common == n) {
		return dst, -1
	}
	// The last item must end the list: a word that continues after it
	// ("Becker and Vasquez Partners") makes it a name of something else.
	last := items[n-1]
	if last.end+1 < len(text) && text[last.end] == ' ' && isNameStart(text, last.end+1) {
		return dst, -1
	}
	for k := 0; k < n; k++ {
		dst = append(dst, Finding{Type: TypeName, Start: starts[k], End: items[k].end, Confidence: confNameSingle, Detector: detector})
	}
	return dst, last.end
}

// listSeparatorEnd returns where the next item starts after ", ", ", and
// ", " and " or " & " at i, or -1.
func listSeparatorEnd(text string, i int) int {
	j := i
	if j < len(text) && text[j] == ',' {
		j++
	}
	if j >= len(text) || text[j] != ' ' {
		return -1
	}
	j++
	switch {
	case hasPrefixFold(text, j, "and "):
		j += 4
	case hasPrefixFold(text, j, "& "):
		j += 2
	case j == i+1:
		// Two words joined by a space alone are not a list.
		return -1
	}
	if j >= len(text) || !isNameStart(text, j) {
		return -1
	}
	return j
}

// addressedNameEnd returns the end of a given name alone that the text
// addresses or possesses, or -1: "Leif, can I" at the start of a line,
// "Remember me, Mary?", "Matej's address", "Mette has". The name must be
// a listed given name that is not a common word; a possessive must not
// make an eponym ("Wilson's disease").
//
// A town that is also a given name counts when the lists rank it higher
// as a given name than as a US city and it is a frequent given name
// ("Mary", "Roy"): towns are not addressed or asked questions.
func addressedNameEnd(text string, i int, tok nameToken) int {
	e := tok.entry()
	if !e.isFirst() || e.common || e.isPlace() && !namePlaceFits(e) {
		return -1
	}
	end := tok.end
	if end >= len(text) {
		return -1
	}
	switch c := text[end]; {
	case c == '\'' || hasPrefixFold(text, end, "\u2019"):
		if !eponymAfter(text, end) {
			return end
		}
	case c == ',' && lineStart(text, i):
		return end
	case (c == '?' || c == '!' || c == ',') && i >= 2 && text[i-1] == ' ' && text[i-2] == ',':
		return end
	case c == ':' && lineStart(text, i) && (!isASCIIWord(tok.word) || speakerLabel(text, end)):
		return end
	}
	return -1
}

// namePlaceFits reports whether a given name that is also a town is
// frequent enough as a given name to read as a person in a context that
// fits only a person.
func namePlaceFits(e lexEntry) bool {
	return e.firstRank > 0 && e.firstRank <= 1000 && (e.cityRank == 0 || e.cityRank > e.firstRank)
}

// speakerLabel reports whether the colon at i ends the speaker label of a
// line of dialogue: a quote follows it (Elizabeth:"I'm), or a capitalized
// sentence follows and another line within speakerWindow bytes opens with
// a capitalized word and a colon ("Ella: What a wife." above "Lisa: Remember me").
// Headings of notes ("Plan: Continue") are not names, which the callers
// check through the lists.
func speakerLabel(text string, i int) bool {
	j := skipSpaces(text, i+1)
	if j < len(text) && (text[j] == '"' || hasPrefixFold(text, j, "\u201c")) {
		return true
	}
	if j == i+1 || j >= len(text) || !isUpper(text[j]) {
		return false
	}
	// Only the lines near the label are read, so that a long text with
	// many labels costs time linear in its length.
	from, to := max(i-speakerWindow, 0), min(i+speakerWindow, len(text))
	for k := from; k < to; k++ {
		if text[k] != '\n' {
			continue
		}
		l := k + 1
		if l >= len(text) || !isNameStart(text, l) {
			continue
		}
		w := nameWordEnd(text, l)
		if w < len(text) && text[w] == ':' && l != lineStartOf(text, i) {
			return true
		}
	}
	return false
}

// speakerWindow is how many bytes before and after a speaker label
// speakerLabel searches for another speaker line.
const speakerWindow = 400

// lineStartOf returns the start of the line holding position i.
func lineStartOf(text string, i int) int {
	for i > 0 && text[i-1] != '\n' {
		i--
	}
	return i
}

// verbAfter reports whether a verb that takes a person as its subject
// follows position i after one space ("is", "has", "said", "lives").
func verbAfter(text string, i int) bool {
	if i+1 >= len(text) || text[i] != ' ' || !isLower(text[i+1]) {
		return false
	}
	return inWordSet(personVerbs, text[i+1:wordEnd(text, i+1)])
}

// personVerbs are verbs that follow the name of a person who opens a
// sentence. Drugs and diseases open sentences too ("Metformin is"), so a
// name before one of these verbs counts only when the lists know it as a
// given name of other origin or it has letters outside ASCII.
var personVerbs = newWordSet(
	"is", "was", "has", "had", "will", "would", "can", "could", "said",
	"says", "told", "lives", "lived", "shouted", "spent", "began", "went",
	"came", "wrote", "works", "worked", "called", "asked", "thinks",
	"thought", "wants", "wanted", "loves", "loved", "likes", "met",
	"moved", "married", "died", "left", "joined", "gave", "got", "became",
)

// lowercasePairEnd returns the end of a name typed in lowercase ("eva
// kleist", "monika žilková") at i, where w ends the first word, or -1.
// The first word must be a listed given name and the second a listed
// surname or a word with letters outside ASCII. Neither may be a common
// English word, a stop word or a word such as a month or a drug.
func lowercasePairEnd(text string, i, w int) int {
	if w+1 >= len(text) || text[w] != ' ' {
		return -1
	}
	e1 := lookupWord(text[i:w])
	if !e1.isFirst() || e1.common || e1.isPlace() || isNameStopWord(text[i:w]) || inWordSet(notNameWords, text[i:w]) {
		return -1
	}
	k := w + 1
	if !isLower(text[k]) && text[k] < 0x80 {
		return -1
	}
	end := nameWordEnd(text, k)
	second := text[k:end]
	if end-k < 2 || isNameStart(text, k) {
		return -1
	}
	e2 := lookupWord(second)
	if e2.common || isNameStopWord(second) || inWordSet(notNameWords, second) || eponymAfter(text, end) {
		return -1
	}
	if !e2.isLast() && isASCIIWord(second) {
		return -1
	}
	return end
}

// hasCapitalWordStart reports whether a word of text starts with an ASCII
// capital, reading the index when ix is not nil.
func hasCapitalWordStart(text string, ix *textIndex) bool {
	if ix != nil {
		return ix.next(text, setCapitalStart, 0) < len(text)
	}
	for i := 0; i < len(text); i++ {
		if isUpper(text[i]) && (i == 0 || !isAlnum(text[i-1])) {
			return true
		}
	}
	return false
}

// lowercaseNameAt returns lowercasePairEnd(text, i, w) in text typed
// without capitals, and -1 elsewhere without reading the lists.
func lowercaseNameAt(text string, i, w int, lowercaseText bool) int {
	if !lowercaseText {
		return -1
	}
	return lowercasePairEnd(text, i, w)
}

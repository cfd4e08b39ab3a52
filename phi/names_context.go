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
//   - either shape with a bare initial between ("Szabina J Gelencsér").
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
		return -1
	case e2.isLast() || e1.isFirst():
		return second.end
	}
	return -1
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
// word that is not a common English word, an eponym, a country or a town
// that is not also a listed name,
// and at least half of the items must be listed names or hold letters
// outside ASCII, so that "Norco, Xanax and Valium" is not a list of
// people.
func nameListFindings(text string, i int, dst []Finding, detector string) ([]Finding, int) {
	var items [8]nameToken
	var starts [8]int
	n, evidence := 0, 0
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
		if e.common || e.isPlace() && !e.isName() || inWordSet(countryNames, tok.word) || eponymAfter(text, tok.end) {
			return dst, -1
		}
		if e.isName() || !isASCIIWord(tok.word) {
			evidence++
		}
		items[n], starts[n] = tok, pos
		n++
		sep := listSeparatorEnd(text, tok.end)
		if sep < 0 {
			break
		}
		pos = sep
	}
	if n < 2 || 2*evidence < n {
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
func addressedNameEnd(text string, i int, tok nameToken) int {
	e := tok.entry()
	if !e.isFirst() || e.common || e.isPlace() {
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
	case c == ':' && lineStart(text, i) && !isASCIIWord(tok.word):
		return end
	}
	return -1
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

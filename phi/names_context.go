package phi

import (
	"strings"
	"unicode/utf8"
)

// Rules for names that the Census lists alone do not settle. They cover
// names of other origins and names without a listed given name. They also
// cover given names alone where only a person fits: in a list of people, a
// possessive or a form of address.

// unlistedPairEnd judges two name words starting with first at i, which
// pairNameEnd did not accept, and returns the end of the name or -1. It
// accepts:
//   - a word and a listed surname ("Kloz Araujo", "Petr Kloz" when Petr is
//     not a frequent given name) or a word with the ending of a surname
//     (see surnameShape: "Bekbolat Musliyevich") away from the start of a
//     sentence;
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
func unlistedPairEnd(ix *textIndex, text string, i int, first nameToken, initial bool) int {
	next := first.end + 1
	if next >= len(text) || text[first.end] != ' ' || !isNameStart(text, next) {
		return -1
	}
	e1 := first.entry()
	if e1.common || e1.isPlace() && !e1.isName() || first.lex.in(countryNames) {
		return -1
	}
	if middle := bareInitialEnd(text, next); middle > next && middle+1 < len(text) {
		next = middle + 1
	}
	second, ok := nameTokenAt(ix, text, next)
	if !ok || second.digits {
		return -1
	}
	e2 := second.entry()
	if e2.common || e2.isPlace() && !e2.isName() || second.lex.in(countryNames) || eponymAfter(ix, text, second.end) {
		return -1
	}
	if lookupPhrase(text, i, second.end).isPlace() {
		return -1
	}
	// A pair that fills its line above a postal address is the
	// addressee: "Duqyaha Karataev" above "3657 Laukaantie 80".
	if lineStart(text, i) && lineEndAt(text, second.end) && !organizationWord(second.word) && addressBelow(text, second.end) {
		return second.end
	}
	foreign := !isASCIIWord(first.word) || !isASCIIWord(second.word)
	switch {
	case foreign:
		return second.end
	case initial:
		// At the start of a sentence two capitalized words need a
		// listed surname and a verb after it: "Tomomi Nishiyama lives".
		if e2.isLast() && verbAfter(ix, text, second.end) {
			return second.end
		}
		// A pair with a listed word that fills the rest of its line is
		// an addressee, a signature or a form value: "Philippe
		// Guernon" above an address, "Directed By: Johannes Varvio".
		if (e1.isFirst() || e2.isLast()) && lineEndAt(text, second.end) && !organizationWord(second.word) {
			return second.end
		}

		return -1
	case e2.isLast() || e1.isFirst() || surnameShape(second.word):
		return second.end
	}
	return -1
}

// surnameEndings end East Slavic, Bulgarian, Caucasian and Georgian
// surnames and patronymics ("Azarov", "Krylova", "Musliyevich",
// "Shervashidze"), which the Census and the other name lists hold only in
// part. Few English words end so, and the rules that read the shape need
// a second name word.
var surnameEndings = [...]string{
	"ov", "ova", "ev", "eva", "ovich", "evich", "ovna", "evna", "idze",
	"shvili", "enko",
}

// surnameShape reports whether word, of six letters or more, all ASCII and
// lowercase after an optional capital, ends like a surname of
// surnameEndings. The pair rules count such a word as a listed surname.
func surnameShape(word string) bool {
	if len(word) < 6 || !isLetter(word[0]) {
		return false
	}
	for k := 1; k < len(word); k++ {
		if !isLower(word[k]) {
			return false
		}
	}
	for _, end := range surnameEndings {
		if len(word)-len(end) >= 4 && word[len(word)-len(end):] == end {
			return true
		}
	}
	return false
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
func nameListFindings(ix *textIndex, text string, i int, dst []Finding, detector string) ([]Finding, int) {
	// Most capitalized words are not followed by a list separator, so
	// that is checked before any lookup. A word with a numeric suffix is
	// no list item.
	if !isNameStart(text, i) {
		return dst, -1
	}
	// Items are separated by ", ", " and " or " & ". A hyphen, an
	// apostrophe or a letter outside ASCII may continue the word.
	w := ix.wordEnd(text, i)
	if w >= len(text) {
		return dst, -1
	}
	switch c := text[w]; {
	case c == ',':
	case c == ' ':
		if !hasPrefixFold(text, w+1, "and ") && !hasPrefixFold(text, w+1, "& ") {
			return dst, -1
		}
	case c == '-' || c == '\'' || c >= utf8.RuneSelf:
	default:
		return dst, -1
	}
	if w := ix.nameWordEnd(text, i); digitsAt(text, w) > 0 || listSeparatorEnd(text, w) < 0 {
		return dst, -1
	}
	var items [8]nameToken
	var starts [8]int
	n, evidence, common, unlisted, eponyms := 0, 0, 0, 0, 0
	pos := i
	for n < len(items) {
		tok, ok := nameTokenAt(ix, text, pos)
		if !ok && n > 0 {
			// An eponym that is also a Census surname ("Barrett",
			// "Wilson") may follow the first item, and counts as a
			// common word below.
			tok, ok = eponymSurnameAt(ix, text, pos)
			if ok {
				eponyms++
			}
		}
		if !ok || tok.digits {
			break
		}
		e := tok.entry()
		if e.common && !e.isCensusName() || e.isPlace() && !e.isName() || tok.lex.in(countryNames) || eponymAfter(ix, text, tok.end) {
			return dst, -1
		}
		listed := e.isName() || !isASCIIWord(tok.word)
		if listed {
			evidence++
		}
		switch {
		case e.common && !e.in(notNameWords):
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
	if n < 2 || 2*evidence < n {
		return dst, -1
	}
	last := items[n-1]
	if eponyms > 0 || common > 0 && unlisted > 0 {
		// A list that mixes an unlisted word with Census surnames that
		// are English words or eponyms ("Monjeau, Graves and Reed.",
		// "Usamov and Bowers were") counts when it ends its clause,
		// which a list inside a phrase such as "Graves and Hashimoto
		// thyroiditis" does not. At least one item must be neither, so
		// that "Wilson and Graves." stays unread.
		if common+eponyms == n || !clauseEndAfter(text, last.end, n) {
			return dst, -1
		}
	} else if common > 0 && common == n {
		return dst, -1
	}
	// The last item must end the list: a word that continues after it
	// ("Becker and Vasquez Partners") makes it a name of something else.
	if last.end+1 < len(text) && text[last.end] == ' ' && isNameStart(text, last.end+1) {
		return dst, -1
	}
	for k := 0; k < n; k++ {
		dst = append(dst, Finding{Type: TypeName, Start: starts[k], End: items[k].end, Confidence: confNameSingle, Detector: detector})
	}
	return dst, last.end
}

// eponymSurnameAt reads at i a capitalized word of notNameWords that the
// Census lists as a surname ("Barrett"), which nameTokenAt rejects.
func eponymSurnameAt(ix *textIndex, text string, i int) (tok nameToken, ok bool) {
	if !isUpper(text[i]) {
		return tok, false
	}
	w := ix.nameWordEnd(text, i)
	if w-i < 3 || digitsAt(text, w) > 0 || !nameWordShape(text[i:w]) {
		return tok, false
	}
	tok.lex = ix.lookup(text, i, w)
	if !tok.lex.in(notNameWords) || !tok.lex.isLast() || !tok.lex.isCensusName() {
		return tok, false
	}
	tok.word, tok.end = text[i:w], w
	return tok, true
}

// clauseEndAfter reports whether the list of n items that ends at i ends
// its clause before "were", or, with three items or more, at a full stop,
// "!" or "?". A pair before a full stop or before "are" is too often a pair
// of nouns: "words like Wisdom and Discipline are".
func clauseEndAfter(text string, i, n int) bool {
	if n >= 3 && i < len(text) && (text[i] == '.' || text[i] == '!' || text[i] == '?') {
		return i+1 == len(text) || isSpace(text[i+1])
	}
	return hasPrefixFold(text, i, " were ")
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
func addressedNameEnd(ix *textIndex, text string, i int, tok nameToken) int {
	e := tok.entry()
	if e.isFirst() && e.common && lineStart(text, i) && tok.end < len(text) && text[tok.end] == ':' && speakerLabel(text, tok.end) {
		// A speaker label before a quote ("Heather:"I'm") or in a
		// dialogue ("Destiny: Remember me" under "Ella: What a wife."):
		// a given name that is also an English word still names the
		// speaker.
		return tok.end
	}
	if !e.isFirst() || e.common || e.isPlace() && !namePlaceFits(e) {
		return -1
	}
	end := tok.end
	if end >= len(text) {
		return -1
	}
	switch c := text[end]; {
	case c == '\'' || hasPrefixFold(text, end, "\u2019"):
		if !eponymAfter(ix, text, end) {
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

// unlistedAddressedEnd returns the end of a capitalized word that the
// lists do not know, tok at i, when it opens its line as the person the
// text addresses or quotes, or -1: "Warrane, can I" or "Could you",
// "Koppány: "Who are you?"". Headings of notes ("Plan:") are common
// words and are followed by no quote. The word must not be a common
// English word, a town or a country.
func unlistedAddressedEnd(text string, i int, tok nameToken) int {
	end := tok.end
	if end+1 >= len(text) || text[end] != ',' && text[end] != ':' {
		return -1
	}
	if e := tok.lex; e.common || e.isPlace() || e.in(countryNames) || !lineStart(text, i) {
		return -1
	}
	switch text[end] {
	case ',':
		for _, request := range [...]string{" can i ", " can you ", " could i ", " could you ", " would you ", " will you "} {
			if hasPrefixFold(text, end+1, request) {
				return end
			}
		}
	case ':':
		if quotedSpeechAfter(text, end) {
			return end
		}
	}
	return -1
}

// quotedSpeechAfter reports whether a colon at i is followed, after
// optional spaces, by an opening quote.
func quotedSpeechAfter(text string, i int) bool {
	if i >= len(text) || text[i] != ':' {
		return false
	}
	j := skipSpaces(text, i+1)
	return j < len(text) && (text[j] == '"' || hasPrefixFold(text, j, "\u201c"))
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
	own := lineStartOf(text, i)
	if from == 0 && own != 0 && speakerLineAt(text, 0) {
		// The first line of the text has no line break before it.
		return true
	}
	for k := from; k < to; k++ {
		n := strings.IndexByte(text[k:to], '\n')
		if n < 0 {
			break
		}
		k += n
		if l := k + 1; l != own && speakerLineAt(text, l) {
			return true
		}
	}
	return false
}

// speakerLineAt reports whether a capitalized word and a colon open the
// line that starts at l.
func speakerLineAt(text string, l int) bool {
	if l >= len(text) || !isNameStart(text, l) {
		return false
	}
	w := nameWordEnd(text, l)
	return w < len(text) && text[w] == ':'
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
// follows position i after one space ("is", "has", "said", "lives"), or
// after one adverb of subjectAdverbs ("just has", "never said").
func verbAfter(ix *textIndex, text string, i int) bool {
	if i+1 >= len(text) || text[i] != ' ' || !isLower(text[i+1]) {
		return false
	}
	w := wordEnd(text, i+1)
	if subjectAdverbs.mayHold(text[i+1:w]) && ix.lookup(text, i+1, w).in(subjectAdverbs) {
		if w+1 >= len(text) || text[w] != ' ' || !isLower(text[w+1]) {
			return false
		}
		i = w
		w = wordEnd(text, i+1)
	}
	return personVerbs.mayHold(text[i+1:w]) && ix.lookup(text, i+1, w).in(personVerbs)
}

// subjectAdverbs stand between a subject and its verb ("Aslak just has").
var subjectAdverbs = newWordSet(
	"just", "also", "never", "always", "still", "really", "only", "often",
	"already", "finally", "actually", "then",
)

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
// surname, a word with letters outside ASCII or one with the ending of a
// surname ("olga krylova"). Neither may be a common
// English word, a stop word or a word such as a month or a drug.
func lowercasePairEnd(ix *textIndex, text string, i, w int) int {
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
	if e2.common || isNameStopWord(second) || inWordSet(notNameWords, second) || eponymAfter(ix, text, end) {
		return -1
	}
	if !e2.isLast() && isASCIIWord(second) && !surnameShape(second) {
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

// lowercaseNameAt returns lowercasePairEnd(ix, text, i, w), or the end of
// a lowercase speaker label (see lowercaseSpeakerEnd), in text typed
// without capitals, and -1 elsewhere without reading the lists.
func lowercaseNameAt(ix *textIndex, text string, i, w int, lowercaseText bool) int {
	if !lowercaseText {
		return -1
	}
	return lowercaseTextNameEnd(ix, text, i, w)
}

// lowercaseTextNameEnd returns the end of a speaker label or of a name
// pair at i in text typed without capitals, or -1.
func lowercaseTextNameEnd(ix *textIndex, text string, i, w int) int {
	if end := lowercaseSpeakerEnd(ix, text, i, w); end > 0 {
		return end
	}
	if end := genderOfNameEnd(ix, text, i, w); end > 0 {
		return end
	}
	return lowercasePairEnd(ix, text, i, w)
}

// lowercaseSpeakerEnd returns w when the word text[i:w] opens its line as
// the speaker label of a quote ("mika: "who are you?""), or -1. The word
// must be a listed given name that is not a common English word, a town
// or a stop word.
func lowercaseSpeakerEnd(ix *textIndex, text string, i, w int) int {
	if !quotedSpeechAfter(text, w) || !lineStart(text, i) {
		return -1
	}
	e := ix.lookup(text, i, w)
	if !e.isFirst() || e.common || e.isPlace() || e.in(nameStopWords) || e.in(notNameWords) {
		return -1
	}
	return w
}

// unlistedSubjectEnd returns the end of a capitalized word that the lists
// do not know, tok, when a verb that only a person takes follows it
// ("Timotea lives on", "Valida spent a year", "Mehrudin shouted"), or -1.
// Drugs and diseases open sentences too, but with verbs such as "is",
// "works" or "began", which personOnlyVerbs leaves out. The word must not
// be a common English word, a town or a country.
func unlistedSubjectEnd(ix *textIndex, text string, tok nameToken) int {
	j := tok.end
	if j+1 >= len(text) || text[j] != ' ' || !isLower(text[j+1]) {
		return -1
	}
	w := wordEnd(text, j+1)
	if !personOnlyVerbs.mayHold(text[j+1:w]) || !ix.lookup(text, j+1, w).in(personOnlyVerbs) {
		if !personActivityAfter(text, j) {
			return -1
		}
	}
	if e := tok.lex; e.common || e.isPlace() || e.isFirst() || e.in(countryNames) {
		return -1
	}
	return j
}

// personActivityAfter reports whether " began " or " started " and an
// activity that only a person takes up follow at i ("Rintanen began
// writing"). "began" alone is left out of personOnlyVerbs because
// symptoms and drugs begin too ("Nausea began", "Xarelto began working").
func personActivityAfter(text string, i int) bool {
	if i+1 >= len(text) || text[i+1] != 'b' && text[i+1] != 's' {
		return false
	}
	var k int
	switch {
	case hasPrefixFold(text, i, " began "):
		k = i + len(" began ")
	case hasPrefixFold(text, i, " started "):
		k = i + len(" started ")
	default:
		return false
	}
	return inWordSet(personActivities, text[k:wordEnd(text, k)])
}

// personActivities are activities, as gerunds, that a person takes up and
// a drug, a symptom or a test does not.
var personActivities = newWordSet(
	"writing", "studying", "singing", "painting", "teaching", "dancing",
	"recording", "performing", "composing", "acting", "drawing",
)

// personOnlyVerbs follow a person as the subject of a sentence and not, in
// clinical text, a drug, a disease or a test. Verbs that also form a
// passive after a drug ("Lisinopril said to be", "told to stop") are left
// out.
var personOnlyVerbs = newWordSet(
	"lives", "lived", "spent", "shouted", "wrote", "married", "thinks",
	"wants", "wanted", "loves", "loved", "likes", "liked", "met",
	"joined", "smiled", "laughed", "replied", "answered", "argued",
	"whispered", "cried",
)

// formLabelBefore reports whether the name at i follows a form label
// ("Name:", "Patient name:") or "my name is", where a value typed in
// lowercase ("hyuuma t. maida") is still the name.
func formLabelBefore(text string, i int) bool {
	j := i
	for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	if j > 0 && text[j-1] == ':' {
		return true
	}
	k := j
	for k > 0 && isLetter(text[k-1]) {
		k--
	}
	if !equalFold(text[k:j], "is") {
		return false
	}
	name := previousWord(text, k)
	nameStart := k - 1 - len(name)
	for nameStart > 0 && text[nameStart] == ' ' && text[nameStart-1] == ' ' {
		nameStart--
	}
	return equalFold(name, "name") && equalFold(previousWord(text, nameStart), "my")
}

// labelledLowercaseNameEnd returns the end of one to three lowercase name
// words or initials after a form label ("name:    hyuuma t. maida"), or
// i. The words must hold letters only and not be stop words, months,
// drugs or other words of notNameWords, and one must have two letters or
// more.
func labelledLowercaseNameEnd(ix *textIndex, text string, i int) int {
	end, words := i, 0
	k := i
words:
	for parts := 0; parts < 3 && k < len(text); parts++ {
		if !isLower(text[k]) && text[k] < utf8.RuneSelf {
			break
		}
		w := nameWordEnd(text, k)
		if w == k || isNameStart(text, k) {
			break
		}
		switch {
		case w == k+1:
			// An initial, with or without its period.
			if w < len(text) && text[w] == '.' {
				w++
			}
		default:
			e := ix.lookup(text, k, w)
			if e.in(nameStopWords) || e.in(notNameWords) || e.common && !e.isName() {
				break words
			}
			words++
		}
		if w < len(text) && isAlnum(text[w]) {
			break
		}
		end = w
		if w+1 >= len(text) || text[w] != ' ' {
			break
		}
		k = w + 1
	}
	if words == 0 {
		return i
	}
	return end
}

// possessedRelativeName reports whether the relative cue at i follows a
// possessive ("my kid Tadzio", "her son Dzhambek") and a capitalized word
// at k follows it that the lists do not know as an English word, a town
// or a country. A relative named after a possessive is a person even when
// the name is in no list.
func possessedRelativeName(ix *textIndex, text string, i, k int) bool {
	switch prev := previousWord(text, i); {
	case equalFold(prev, "my"), equalFold(prev, "his"), equalFold(prev, "her"),
		equalFold(prev, "our"), equalFold(prev, "their"), equalFold(prev, "your"):
	default:
		return false
	}
	tok, ok := nameTokenAt(ix, text, k)
	if !ok || tok.digits {
		return false
	}
	e := tok.lex
	return !e.common && !e.isPlace() && !e.in(countryNames) && !eponymAfter(ix, text, tok.end)
}

// workNouns name a creative work or a performance that a person's name
// can qualify: "the Jensen novel", "a Ravil G Yefimov concert".
var workNouns = newWordSet(
	"novel", "novels", "song", "songs", "album", "albums", "book", "books",
	"film", "films", "movie", "movies", "concert", "concerts", "poem",
	"poems", "biography", "memoir", "tour", "version", "cover", "story",
	"stories", "painting", "paintings", "play", "plays", "recording",
)

// workNameEnd returns the end of a name of one or two words, with an
// optional middle initial, between "the", "a" or "an" and a word of
// workNouns ("Unlike the Jensen novel", "a Ravil G Yefimov concert"), or
// -1. The words must not be common English words, towns or countries.
func workNameEnd(ix *textIndex, text string, i int, first nameToken) int {
	switch prev := previousWord(text, i); {
	case equalFold(prev, "the"), equalFold(prev, "a"), equalFold(prev, "an"):
	default:
		return -1
	}
	if e := first.lex; e.common || e.isPlace() && !e.isName() || e.in(countryNames) {
		return -1
	}
	end := first.end
	if next := end + 1; next < len(text) && text[end] == ' ' && isNameStart(text, next) {
		k := next
		if middle := bareInitialEnd(text, next); middle > next {
			k = middle + 1
		}
		if second, ok := nameTokenAt(ix, text, k); ok && !second.digits {
			e := second.lex
			if e.common || e.isPlace() && !e.isName() || e.in(countryNames) {
				return -1
			}
			end = second.end
		}
	}
	if end+1 >= len(text) || text[end] != ' ' {
		return -1
	}
	w := wordEnd(text, end+1)
	if !workNouns.mayHold(text[end+1:w]) || !ix.lookup(text, end+1, w).in(workNouns) {
		return -1
	}
	return end
}

// earlyWorkEnd returns the end of a listed name or a name with letters
// outside ASCII after "early" that closes a sentence or a clause ("than
// early Bulgakov?", meaning the artist's early work), or -1. Eponyms of
// diseases ("early Parkinson's") are in notNameWords and never reach here.
func earlyWorkEnd(text string, i int, tok nameToken) int {
	if !equalFold(previousWord(text, i), "early") || tok.lex.common {
		return -1
	}
	if !tok.lex.isName() && isASCIIWord(tok.word) {
		return -1
	}
	if tok.end < len(text) && (text[tok.end] == '?' || text[tok.end] == '.' || text[tok.end] == '!' || text[tok.end] == ',') {
		return tok.end
	}
	return -1
}

// addressBelow reports whether one of the three lines after the line that
// holds i opens a postal address, blank lines not counted. An address
// opens with a house number of one to six digits and a word, or is a
// military or box address ("PSC 3294", "Unit 1009", "P.O. Box 242"). Quote
// marks (">") before a line are skipped.
func addressBelow(text string, i int) bool {
	for lines := 0; lines < 3; {
		nl := i
		for nl < len(text) && text[nl] != '\n' {
			nl++
		}
		if nl >= len(text) {
			return false
		}
		j := nl + 1
		for j < len(text) && (text[j] == ' ' || text[j] == '\t' || isQuoteMarker(text[j]) || text[j] == '\r') {
			j++
		}
		i = j
		if j >= len(text) || text[j] == '\n' {
			continue
		}
		lines++
		if n := digitsAt(text, j); n >= 1 && n <= 6 && j+n+1 < len(text) && text[j+n] == ' ' && (isLetter(text[j+n+1]) || isDigit(text[j+n+1]) || text[j+n+1] >= utf8.RuneSelf) {
			return true
		}
		if mayOpenBox(text, j) && boxEnd(text, j) > 0 {
			return true
		}
	}
	return false
}

// lowercaseNameList reports the items of a list of three or more given
// names typed in lowercase ("silvana, adam, christopher, kristina, chad
// and caleb") that starts at i, and returns the extended dst and the end of
// the list, or dst and -1. Each item is one word that is not a stop word
// or a word of notNameWords. All items but one must be listed given
// names, and two of them given names that are not English words, so that
// "fever, cough and chills" or "may, june and july" is no list of people.
func lowercaseNameList(ix *textIndex, text string, i int, dst []Finding, detector string) ([]Finding, int) {
	// Most words are not followed by ", ", so that is checked before any
	// lookup.
	if w := wordEnd(text, i); w+1 >= len(text) || text[w] != ',' {
		return dst, -1
	}
	var starts, ends [8]int
	n, listed, distinct := 0, 0, 0
	for pos := i; n < len(starts); {
		if pos >= len(text) || !isLower(text[pos]) && text[pos] < utf8.RuneSelf {
			break
		}
		end := nameWordEnd(text, pos)
		if end == pos || end < len(text) && isAlnum(text[end]) {
			break
		}
		e := ix.lookup(text, pos, end)
		if e.in(nameStopWords) || e.in(notNameWords) {
			return dst, -1
		}
		if e.isFirst() {
			listed++
			if !e.common {
				distinct++
			}
		}
		starts[n], ends[n] = pos, end
		n++
		next := listSeparatorEnd(text, end)
		if next < 0 {
			// listSeparatorEnd wants a capital after the separator.
			next = lowercaseSeparatorEnd(text, end)
		}
		if next < 0 {
			break
		}
		pos = next
	}
	if n < 3 || listed < n-1 || distinct < 2 {
		return dst, -1
	}
	for k := 0; k < n; k++ {
		dst = append(dst, Finding{Type: TypeName, Start: starts[k], End: ends[k], Confidence: confNameSingle, Detector: detector})
	}
	return dst, ends[n-1]
}

// lowercaseSeparatorEnd returns where the next item starts after ", ",
// ", and " or " and " at i before a lowercase word, or -1.
func lowercaseSeparatorEnd(text string, i int) int {
	j := i
	if j < len(text) && text[j] == ',' {
		j++
	}
	if j >= len(text) || text[j] != ' ' {
		return -1
	}
	j++
	if hasPrefixFold(text, j, "and ") {
		j += 4
	} else if j == i+1 {
		return -1
	}
	if j >= len(text) || !isLower(text[j]) && text[j] < utf8.RuneSelf {
		return -1
	}
	return j
}

// headerNameEnd returns the end of a name that fills the first line of
// text and has more lines below, as a résumé, a letter or an address label
// opens ("Dreux Joly" above "Paxata", "bertram m. jørgensen" above a blank
// line), or -1. Quote markers and spaces before the name are skipped, and
// its start is returned too. The line holds two to five words: name words,
// initials ("m.", "Á") and particles ("van de"), opening and closing with
// a name word. No name word may be a common English word, a country, an
// eponym or an organization word, and only the first may be a town that
// is not also a listed name ("Dreux"). Nor may the whole line be a place,
// so that "Chest Pain" and "Santa Barbara" stay unread. Capitalized, the
// line needs a listed name or a word outside ASCII. In lowercase it needs
// a listed given name that is not a common word first, and a listed
// surname, an initial or a word outside ASCII after it.
func headerNameEnd(ix *textIndex, text string) (start, end int) {
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || isQuoteMarker(text[i])) {
		i++
	}
	if i >= len(text) || !isLetter(text[i]) && text[i] < utf8.RuneSelf {
		return 0, -1
	}
	start = i
	capitalized := isNameStart(text, i)
	words, nameWords, listed, foreign, initials := 0, 0, 0, 0, 0
	firstListed, lastListed := false, false
	lastKind := 0 // 1 name word, 2 initial, 3 particle
	for words < 5 {
		w := ix.nameWordEnd(text, i)
		if w == i {
			return 0, -1
		}
		word := text[i:w]
		switch {
		case utf8.RuneCountInString(word) == 1:
			if capitalized != isNameStart(text, i) {
				return 0, -1
			}
			if w < len(text) && text[w] == '.' {
				w++
			}
			initials++
			lastKind = 2
		case inWordSet(placeParticles, word) || inWordSet(headerParticles, word):
			lastKind = 3
		default:
			if capitalized != isNameStart(text, i) || capitalized && !nameWordShape(word) {
				return 0, -1
			}
			e := ix.lookup(text, i, w)
			if e.common || e.in(countryNames) || e.in(nameStopWords) || e.in(notNameWords) || organizationWord(word) {
				return 0, -1
			}
			if e.isPlace() && !e.isName() && nameWords > 0 {
				return 0, -1
			}
			if !isASCIIWord(word) {
				foreign++
			}
			if e.isName() {
				listed++
			}
			if nameWords == 0 {
				firstListed = e.isFirst()
			}
			lastListed = e.isLast()
			nameWords++
			lastKind = 1
		}
		words++
		if words == 1 && lastKind != 1 {
			return 0, -1
		}
		i = w
		j := skipSpaces(text, i)
		if j >= len(text) || text[j] == '\n' || text[j] == '\r' {
			break
		}
		if j == i || j-i > 2 {
			return 0, -1
		}
		i = j
	}
	if lastKind != 1 || nameWords < 2 || !lineEndAt(text, i) || lookupPhrase(text, start, i).isPlace() {
		return 0, -1
	}
	// More text must follow on a later line: a single line is a query or
	// a title, not a header.
	if j := skipBlankLines(text, i); j >= len(text) {
		return 0, -1
	}
	if capitalized {
		if listed == 0 && foreign == 0 {
			return 0, -1
		}
	} else if !firstListed || !lastListed && initials == 0 && foreign == 0 {
		return 0, -1
	}
	return start, i
}

// headerParticles are name particles that placeParticles lacks.
var headerParticles = newWordSet("ten", "ter", "op", "bin", "ibn", "al", "el")

// skipBlankLines returns the first byte after i that is not a space, a
// tab or a line break.
func skipBlankLines(text string, i int) int {
	for i < len(text) && (isSpace(text[i]) || text[i] == '\r') {
		i++
	}
	return i
}

// possessionNouns follow a possessive that only a person takes in
// clinical text: relatives ("Misty's daughter"), killers and works
// ("Meza's song"). Eponyms of diseases are in notNameWords and never reach
// the rule, and their possessives are followed by other words ("Bell's
// palsy").
var possessionNouns = newWordSet(
	"daughter", "daughters", "son", "sons", "wife", "husband", "mother",
	"father", "sister", "brother", "widow", "widower", "children", "kids",
	"parents", "girlfriend", "boyfriend", "fiance", "fiancee", "killer",
	"killers", "murderer", "murderers", "funeral", "song", "songs",
	"album", "albums", "novel", "novels", "poem", "poems", "memoir",
	"band",
)

// possessiveNameEnd returns the end of one or two capitalized name words,
// first and an optional second, before "'s" and a word of
// possessionNouns ("Alpatu Shervashidze's killers", "Misty's daughter"),
// or -1. No word may be a town that is not also a listed name or a
// country, and one word must be a listed name, hold letters outside ASCII
// or have the shape of a surname. A common English word counts only as a
// listed given name ("Misty").
func possessiveNameEnd(ix *textIndex, text string, first *nameToken) int {
	end := first.end
	if end >= len(text) || text[end] != '\'' && text[end] != ' ' {
		return -1
	}
	var second nameToken
	if text[end] == ' ' {
		if end+1 >= len(text) || !isNameStart(text, end+1) {
			return -1
		}
		var ok bool
		if second, ok = nameTokenAt(ix, text, end+1); !ok || second.digits {
			return -1
		}
		end = second.end
	}
	if !hasPrefixFold(text, end, "'s ") {
		return -1
	}
	k := end + len("'s ")
	w := wordEnd(text, k)
	if !possessionNouns.mayHold(text[k:w]) || !ix.lookup(text, k, w).in(possessionNouns) {
		return -1
	}
	if !possessivePersonWord(first) || second.end > 0 && !possessivePersonWord(&second) {
		return -1
	}
	if !possessiveEvidence(first) && (second.end == 0 || !possessiveEvidence(&second)) {
		return -1
	}
	return end
}

// possessivePersonWord reports whether tok may be a word of a name before
// a possessive. A contraction ("I'm"), a country and a town that no list
// holds as a name are not, and neither is a common English word other
// than a listed given name.
func possessivePersonWord(tok *nameToken) bool {
	e := tok.lex
	return strings.IndexByte(tok.word, '\'') < 0 && !e.in(countryNames) && !(e.isPlace() && !e.isName()) && (!e.common || e.isFirst())
}

// possessiveEvidence reports whether tok is a listed name, holds letters
// outside ASCII or has the shape of a surname.
func possessiveEvidence(tok *nameToken) bool {
	return tok.lex.isName() || !isASCIIWord(tok.word) || surnameShape(tok.word)
}

// roleNouns are occupations in music, letters and film that stand before
// a person's name as a title does ("Producer Mashuu Samurakami",
// "songwriter Zoe Young"). Clinical roles ("Director", "Nurse") are left
// out, because departments and services follow them.
var roleNouns = newWordSet(
	"producer", "songwriter", "singer", "guitarist", "drummer", "bassist",
	"pianist", "violinist", "rapper", "composer", "novelist", "poet",
	"actor", "actress", "journalist", "photographer", "painter",
	"sculptor", "filmmaker", "screenwriter", "comedian", "frontman",
	"vocalist", "lyricist",
)

// roleNameEnd returns the end of one or two capitalized words at i, first
// and an optional second, after a word of roleNouns ("Producer Mashuu
// Samurakami explained"), or -1. After "ex-" and a capitalized word it
// takes one word, the former member of a band or a team ("ex-Zombie
// Ogasahara is"). No word may be a common English word, a town or a country, and
// a capitalized word must not follow, so that the name is complete.
func roleNameEnd(ix *textIndex, text string, i int, first *nameToken) int {
	prev := previousWord(text, i)
	if prev == "" || text[i-1] != ' ' {
		return -1
	}
	start := i - len(prev) - 1
	exMember := start >= 3 && isUpper(prev[0]) && hasPrefixFold(text, start-3, "ex-") && (start == 3 || !isLetter(text[start-4]))
	if !exMember && !inWordSet(roleNouns, prev) || !roleWordPerson(first) {
		return -1
	}
	end := first.end
	if !exMember && end+1 < len(text) && text[end] == ' ' && isNameStart(text, end+1) {
		second, ok := nameTokenAt(ix, text, end+1)
		if !ok || !roleWordPerson(&second) {
			return -1
		}
		end = second.end
	}
	if end+1 < len(text) && text[end] == ' ' && isNameStart(text, end+1) {
		return -1
	}
	return end
}

// roleWordPerson reports whether tok may be a word of a name after a role:
// no number, common English word, town that no list holds as a name,
// country or word that ends the name of an organization.
func roleWordPerson(tok *nameToken) bool {
	e := tok.lex
	return !tok.digits && !e.common && !(e.isPlace() && !e.isName()) && !e.in(countryNames) && !organizationWord(tok.word)
}

// genderOfNameEnd returns w when the word text[i:w] follows "gender of ",
// which only a person has ("the true gender of Vehbija"), or -1. A
// capitalized word must not be a common English word, a town that no list
// holds as a name or a country. In lowercase it must be a listed given
// name that is not a common English word or a stop word ("gender of
// lempi"), because "gender of patient" is common in notes.
func genderOfNameEnd(ix *textIndex, text string, i, w int) int {
	const cue = "gender of "
	if i < len(cue) || !hasPrefixFold(text, i-len(cue), cue) || i > len(cue) && isLetter(text[i-len(cue)-1]) {
		return -1
	}
	e := ix.lookup(text, i, w)
	if e.common || e.isPlace() && !e.isName() || e.in(countryNames) || e.in(nameStopWords) || e.in(notNameWords) {
		return -1
	}
	if isLower(text[i]) && !e.isFirst() {
		return -1
	}
	return w
}

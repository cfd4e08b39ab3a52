package phi

import (
	"unicode"
	"unicode/utf8"
)

// NameDetector finds personal names of patients and their relatives.
//
// The cues are "Patient", "Pt.", "patient name:", "Name:", "named", the
// titles "Mr", "Mrs", "Ms", "Miss", "Mx" with or without a period, and
// relatives and friends such as "wife", "daughter" or "friend". Verbs of
// speech, greetings and credits are cues too ("said", "Dear", "starring",
// "directed by", "call me"), under the conditions of speechCueFits. After a cue it reports one to
// three capitalized words or initials: "Jane Roe", "O'Brien",
// "Smith-Jones", "Anna S.", "A. Smith". The cue itself is not part of the span. After a
// title a lone initial counts ("Mr. W."), after "Patient" it does not,
// because "Patient A" labels a study subject. After a cue a lowercase
// given name from the name list counts too ("pt john roe").
//
// Without a cue it reports:
//   - a word and an initial with its period ("Anna S."), and a
//     capitalized word right after that ("Jane A. Doe");
//   - a given name from the US Census list followed by a surname or given
//     name from the lists ("Mary Johnson"), an optional middle name, or
//     an initial without a period ("John D");
//   - a known given name alone where punctuation sets it apart ("female,
//     Anna, seen", "John's notes") or a lowercase word or a colon follows
//     it ("Anna is 45", "Ella: thanks"), if the name is frequent and is
//     not also an English word;
//   - a frequent given name and an unlisted capitalized word, "Marie
//     Langrová"; name words may hold letters outside ASCII;
//   - Synthea-style tokens, a capitalized word with a numeric suffix
//     ("Sumiko254 Larue605"), when the letters form a listed name or two
//     such tokens stand together.
//
// Words that are also common English words ("Will", "Grace", "Brown")
// count only next to an unambiguous name or after a cue, and words in
// nameStopWords or notNameWords (eponyms such as "Parkinson", months,
// drug brands) count only after a cue. A candidate followed by a word such
// as "disease", "syndrome" or "score" is an eponym, not a person.
//
// Names after "Dr", "Doctor" or before a credential ("MD", "RN") are left
// to ClinicianNameDetector, so that policy can tell the two apart.
type NameDetector struct{}

// Name returns "name".
func (NameDetector) Name() string { return "name" }

// Confidence by cue: a "Name:" label is explicit, a title nearly so.
const (
	confNameLabel    = confContext
	confNameTitle    = 0.9
	confNamePatient  = confHigh
	confNameInitial  = 0.8
	confNameRelative = 0.8
	confNameList     = 0.8
	confNameSuffix   = 0.75
	confNameSingle   = 0.6
)

// Detect appends the names in text to dst.
func (d NameDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setNameVisit,
// or of setWordStart in text without capitals, through ix when it is not
// nil.
//
// NOTE: in text without ASCII capitals setWordStart is visited, which
// holds ASCII letters only, so there a name whose first letter is not
// ASCII ("šárka") is found only as the second word of a pair.
func (d NameDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	// Names in lowercase are read only in text typed without capitals,
	// where nothing else marks them and where they are cheap to look for.
	lowercaseText := !hasCapitalWordStart(text, ix)
	visit := setNameVisit
	if lowercaseText {
		visit = setWordStart
	}
	first := len(dst)
	for i := ix.next(text, visit, 0); i < len(text); i = ix.next(text, visit, i+1) {
		if text[i] >= utf8.RuneSelf {
			// A capital outside ASCII opens a name word ("Šárka
			// Ottová", "Éva"). No cue word starts outside ASCII, so the
			// rules without a cue apply.
			if !isNameStart(text, i) || letterOrDigitBefore(text, i) {
				continue
			}
			end, conf := listNameEnd(ix, text, i)
			if listed, listEnd := nameListFindings(ix, text, i, dst, d.Name()); listEnd > end {
				dst = listed
				i = listEnd - 1
				continue
			}
			if end > 0 {
				if !clinicianContext(text, i, end) {
					dst = append(dst, Finding{Type: TypeName, Start: i, End: end, Confidence: conf, Detector: d.Name()})
				}
				i = end - 1
				continue
			}
			i = ix.nameWordEnd(text, i) - 1
			continue
		}
		if !isLetter(text[i]) {
			continue
		}
		if i > 0 && isAlnum(text[i-1]) {
			i = ix.wordEnd(text, i) - 1
			continue
		}
		w := ix.wordEnd(text, i)

		// Only words whose first two bytes open a cue word can be cues.
		if ix.has(setNameCue, i) {
			if after, end, conf := cueNameSpan(ix, text, i, w); end > after {
				if !clinicianContext(text, after, end) {
					dst = append(dst, Finding{Type: TypeName, Start: after, End: end, Confidence: conf, Detector: d.Name()})
				}
				i = end - 1
				continue
			}
		}

		if !isUpper(text[i]) {
			if lowercaseText {
				if listed, listEnd := lowercaseNameList(ix, text, i, dst, d.Name()); listEnd > 0 {
					dst = listed
					i = listEnd - 1
					continue
				}
			}
			if end := lowercaseNameAt(ix, text, i, w, lowercaseText); end > 0 {
				dst = append(dst, Finding{Type: TypeName, Start: i, End: end, Confidence: confNameSingle, Detector: d.Name()})
				i = end - 1
				continue
			}
			i = w - 1
			continue
		}
		end, conf := initialNameEnd(text, i, w), confNameInitial
		if end < 0 {
			end, conf = listNameEnd(ix, text, i)
		}
		if listed, listEnd := nameListFindings(ix, text, i, dst, d.Name()); listEnd > end {
			dst = listed
			i = listEnd - 1
			continue
		}
		if end > 0 {
			if !clinicianContext(text, i, end) {
				dst = append(dst, Finding{Type: TypeName, Start: i, End: end, Confidence: conf, Detector: d.Name()})
			}
			i = end - 1
			continue
		}
		i = w - 1
	}
	// A name that fills the first line is added only where the rules
	// above found nothing, so that they keep their spans and confidences.
	if start, end := headerNameEnd(ix, text); end > 0 && !overlapsAny(dst[first:], start, end) {
		dst = append(dst, Finding{Type: TypeName, Start: start, End: end, Confidence: confNameList, Detector: d.Name()})
	}
	return dst
}

// overlapsAny reports whether a finding shares a byte with [start, end).
func overlapsAny(findings []Finding, start, end int) bool {
	for _, f := range findings {
		if f.Start < end && start < f.End {
			return true
		}
	}
	return false
}

// cueNameSpan returns the span and confidence of the name after the cue
// word text[i:w], or end -1 when the word is no cue or no name follows.
func cueNameSpan(ix *textIndex, text string, i, w int) (after, end int, conf float64) {
	after, conf, title := nameCue(ix, text, i, w)
	if after < 0 {
		return 0, -1, 0
	}
	end = nameEnd(text, after, title)
	switch {
	case end > after:
	case conf < confNameLabel:
		end = lowercaseNameEnd(ix, text, after)
		// A surname outside ASCII or one that lowercaseNameEnd does not
		// take ("monika žilková").
		if pair := lowercasePairEnd(ix, text, after, wordEnd(text, after)); pair > end {
			end = pair
		}
	case formLabelBefore(text, after):
		end = labelledLowercaseNameEnd(ix, text, after)
	}
	return after, end, conf
}

// ClinicianNameDetector finds the names of clinicians: after "Dr", "Dr."
// or "Doctor", and before a credential such as "MD", "DO", "NP", "PA-C"
// or "RN" ("Jane Roe, MD"). It reports them as TypeName under its own
// detector name, because a clinician's name is PHI only in some contexts
// and policy may treat it apart.
type ClinicianNameDetector struct{}

// Name returns "name_clinician".
func (ClinicianNameDetector) Name() string { return "name_clinician" }

// Detect appends the clinician names in text to dst.
func (d ClinicianNameDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setCapitalStart,
// through ix when it is not nil.
func (d ClinicianNameDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setCapitalStart, 0); i < len(text); i = ix.next(text, setCapitalStart, i+1) {
		c := text[i]
		if !isUpper(c) || (i > 0 && isAlnum(text[i-1])) {
			continue
		}
		if c != 'D' && !isCredentialStart(c) {
			continue
		}
		w := wordEnd(text, i)
		if after := doctorCue(text, i, w); after >= 0 {
			if end := nameEnd(text, after, true); end > after {
				dst = append(dst, Finding{Type: TypeName, Start: after, End: end, Confidence: confNameTitle, Detector: d.Name()})
				i = end - 1
				continue
			}
		}
		if isCredential(text, i) {
			if start := nameStartBefore(text, i); start >= 0 {
				end := credentialNameEnd(text, start, i)
				dst = append(dst, Finding{Type: TypeName, Start: start, End: end, Confidence: confNameTitle, Detector: d.Name()})
			}
		}
		i = w - 1
	}
	return dst
}

// doctorCue returns where a name starts after "Dr", "Dr." or "Doctor" at
// text[i:w], or -1. "Oak Dr" ends a street name and is not a cue.
func doctorCue(text string, i, w int) int {
	word := text[i:w]
	if word != "Dr" && word != "DR" && word != "Doctor" {
		return -1
	}
	if word == "Dr" && i >= 2 && text[i-1] == ' ' && isLetter(text[i-2]) {
		k := i - 2
		for k > 0 && isLetter(text[k-1]) {
			k--
		}
		if isUpper(text[k]) {
			return -1
		}
	}
	j := w
	if j < len(text) && text[j] == '.' && word != "Doctor" {
		j++
	}
	k := skipSpaces(text, j)
	if k == j || k-j > 2 {
		return -1
	}
	return k
}

// isCredentialStart reports whether c can open a credential.
func isCredentialStart(c byte) bool {
	switch c {
	case 'M', 'D', 'N', 'F', 'A', 'P', 'R', 'L', 'C', 'O':
		return true
	}
	return false
}

// isCredential reports whether a degree or licence written after a
// clinician's name ("MD", "M.D.", "DO", "NP", "PA-C", "RN") starts at i as
// a whole word and follows ", " or " " after a letter or period.
func isCredential(text string, i int) bool {
	if i < 2 || text[i-1] != ' ' || !isLetter(text[i-2]) && text[i-2] != ',' && text[i-2] != '.' {
		return false
	}
	end := i
	for end < len(text) && end-i < 8 && (isLetter(text[end]) || text[end] == '.' || text[end] == '-') {
		end++
	}
	for end > i && text[end-1] == '.' && (end-i != 4 || text[i+1] != '.') {
		end--
	}
	if end < len(text) && isAlnum(text[end]) {
		return false
	}
	switch text[i:end] {
	case "MD", "M.D.", "DO", "D.O.", "NP", "FNP", "DNP", "APRN", "PA-C", "PA",
		"RN", "LPN", "CNM", "CRNA", "DDS", "DMD", "PharmD", "PhD", "MBBS",
		"DPM", "OD", "FACP", "FACC", "FACS", "LCSW":
		return true
	}
	return false
}

// nameStartBefore returns the start of a name of one to three capitalized
// words or initials that ends just before the credential at i ("Jane Roe,
// MD"), or -1.
func nameStartBefore(text string, i int) int {
	j := i - 1
	if j > 0 && text[j-1] == ',' {
		j--
	}
	start := -1
	for parts := 0; parts < 3 && j > 0; parts++ {
		k := j
		if text[k-1] == '.' {
			k--
		}
		e := k
		for k > 0 && (isLetter(text[k-1]) || text[k-1] == '\'' || text[k-1] == '-') {
			k--
		}
		if k == e || !isUpper(text[k]) {
			break
		}
		if e-k > 1 && !isNameWord(text[k:e]) {
			break
		}
		start = k
		if k < 2 || text[k-1] != ' ' || !isLetter(text[k-2]) && text[k-2] != '.' {
			break
		}
		j = k - 1
	}
	return start
}

// credentialNameEnd returns the end of the name that starts at start and
// runs up to the credential at i, without the separator.
func credentialNameEnd(text string, start, i int) int {
	end := i - 1
	for end > start && (text[end-1] == ',' || text[end-1] == ' ') {
		end--
	}
	return end
}

// clinicianContext reports whether the name text[start:end] follows a
// doctor cue or precedes a credential, which makes it a clinician's name.
func clinicianContext(text string, start, end int) bool {
	j := start
	for j > 0 && text[j-1] == ' ' {
		j--
	}
	if j > 0 && text[j-1] == '.' {
		j--
	}
	k := j
	for k > 0 && isLetter(text[k-1]) {
		k--
	}
	if k < j && doctorCue(text, k, j) >= 0 {
		return true
	}

	e := end
	if e < len(text) && text[e] == ',' {
		e++
	}
	if e < len(text) && text[e] == ' ' {
		return isCredential(text, e+1)
	}
	return false
}

// nameCueWords are the cue words of nameCue's switch, lowercased, which
// decide with relativeCues which lowercase words NameDetector visits (see
// setNameVisit). A cue added to the switch must be added here too.
var nameCueWords = []string{
	"mr", "mrs", "ms", "miss", "mx", "patient", "pt", "name", "named",
	"says", "said", "told", "asked", "called", "hi", "hello", "dear",
	"starring", "featuring", "by", "me", "gave", "given", "follow",
}

// nameCue checks whether the word text[i:w] is a name cue. It returns where
// the name would start, the confidence and whether the cue is a title, or
// after -1.
func nameCue(ix *textIndex, text string, i, w int) (after int, conf float64, title bool) {
	word := text[i:w]
	j := w
	switch word {
	case "Mr", "Mrs", "Ms", "Miss", "Mx", "MR", "MRS", "MS":
		if j < len(text) && text[j] == '.' {
			j++
		}
		conf, title = confNameTitle, true
	case "mr", "mrs", "ms":
		// Typed in lowercase a title needs its period, because "ms" is
		// also multiple sclerosis and "mr" mitral regurgitation.
		if j >= len(text) || text[j] != '.' {
			return -1, 0, false
		}
		j++
		conf, title = confNameTitle, true
	case "Patient", "patient", "PATIENT", "Pt", "pt":
		if j < len(text) && text[j] == '.' {
			j++
		}
		conf = confNamePatient
		if k := skipSpaces(text, j); hasPrefixFold(text, k, "name") {
			j = labelEnd(text, k+4)
			if j < 0 {
				return -1, 0, false
			}
			conf = confNameLabel
		} else if j < len(text) && text[j] == ':' {
			j++
		}
	case "Name", "name", "NAME":
		j = labelEnd(text, w)
		if j < 0 {
			return -1, 0, false
		}
		conf = confNameLabel
	case "named":
		// "named him Frank": the object pronoun is not the name.
		if k := skipSpaces(text, j); k > j && (hasPrefixFold(text, k, "him ") || hasPrefixFold(text, k, "her ")) {
			j = k + 3
		}
		conf = confNamePatient
	case "follow", "Follow":
		// "follow up with Ann Lee". followUpNameFits keeps departments
		// out ("follow up with Cardiology").
		if !hasPrefixFold(text, j, " up with ") || !followUpNameFits(ix, text, j+len(" up with ")) {
			return -1, 0, false
		}
		j += len(" up with")
		conf = confNameRelative
	case "says", "said", "told", "asked", "called", "Hi", "hi", "Hello", "hello", "Dear", "dear", "starring", "featuring", "by", "me", "gave", "given":
		if !speechCueFits(ix, text, i, w) {
			return -1, 0, false
		}
		conf = confNameRelative
	default:
		if len(word) < 3 || len(word) > 13 || !relativeCues.mayHold(word) || !ix.lookup(text, i, w).in(relativeCues) {
			return -1, 0, false
		}
		if j < len(text) && text[j] == ',' {
			j++
		}
		k := skipSpaces(text, j)
		if k == j || k >= len(text) {
			return -1, 0, false
		}
		if !ix.lookup(text, k, nameWordEnd(text, k)).isFirst() && !possessedRelativeName(ix, text, i, k) {
			return -1, 0, false
		}
		conf = confNameRelative
	}

	k := skipSpaces(text, j)
	maxGap := 2
	if conf == confNameLabel {
		// Forms align values after a label: "Name:    Jane Roe".
		maxGap = 8
	}
	if k == j && (k >= len(text) || j == w) || k-j > maxGap {
		return -1, 0, false
	}
	return k, conf, title
}

// followUpNameFits reports whether a name can start at k after "follow up
// with". In lowercase it must be a listed given name, which cueNameSpan
// reads through lowercaseNameEnd. Capitalized, it is one or two words
// outside nameStopWords and notNameWords that the lexicon does not mark as
// English words. One of them must be a listed name or have letters
// outside ASCII, or the second must have the ending of a surname
// ("Satsita Umkhayev"). Departments such as "Cardiology" are in no list,
// so they are not read as names.
func followUpNameFits(ix *textIndex, text string, k int) bool {
	if k >= len(text) {
		return false
	}
	if isLower(text[k]) {
		return lowercaseNameEnd(ix, text, k) > k
	}
	first, ok := nameTokenAt(ix, text, k)
	if !ok || first.digits || first.lex.common {
		return false
	}
	if first.lex.isName() || !isASCIIWord(first.word) {
		return true
	}
	if first.end+1 >= len(text) || text[first.end] != ' ' {
		return false
	}
	second, ok := nameTokenAt(ix, text, first.end+1)
	return ok && !second.digits && !second.lex.common && (second.lex.isName() || !isASCIIWord(second.word) || surnameShape(second.word))
}

// speechCueFits reports whether the cue text[i:w], a verb of speech, a
// greeting or a credit ("said", "Dear", "starring"), is followed by a
// capitalized word that can open a name. After "by" it needs a past
// participle before and two name words after ("directed by Ann Lee"),
// because "caused by Staphylococcus" is common in notes. "me" counts only
// after "call" or "calls" ("people call me Aantje"). After "gave" or
// "given" the word must be followed by "his", "her" or "their" ("had
// given Belle his address"), since drugs are given too ("given Lasix").
func speechCueFits(ix *textIndex, text string, i, w int) bool {
	k := skipSpaces(text, w)
	if k == w || k-w > 2 {
		return false
	}
	tok, ok := nameTokenAt(ix, text, k)
	if !ok || tok.digits || tok.lex.in(salutationWords) {
		return false
	}
	switch text[i:w] {
	case "says", "said", "told", "asked", "called", "starring", "featuring":
		// A verb may be followed by any capitalized word ("said Metformin
		// helps"), so the word must be a listed name or hold letters
		// outside ASCII, which English drug and disease names do not.
		if tok.entry().isName() || !isASCIIWord(tok.word) {
			return true
		}
		// A word that closes the sentence after the verb is the speaker
		// ("says Hartvigsson."), unless it is a common English word.
		return text[i:w] != "called" && !tok.entry().common && sentenceEndAt(text, tok.end)
	case "by":
		prev := previousWord(text, i)
		if len(prev) < 4 || !hasPrefixFold(prev, len(prev)-2, "ed") {
			return false
		}
		second, ok := nameTokenAt(ix, text, tok.end+1)
		return ok && tok.end < len(text) && text[tok.end] == ' ' && !second.digits
	case "me":
		prev := previousWord(text, i)
		return equalFold(prev, "call") || equalFold(prev, "calls")
	case "gave", "given":
		return possessivePronounAt(text, tok.end)
	}
	return true
}

// possessivePronounAt reports whether " his ", " her " or " their "
// follows at i.
func possessivePronounAt(text string, i int) bool {
	if i >= len(text) || text[i] != ' ' {
		return false
	}
	for _, p := range [...]string{"his ", "her ", "their "} {
		if hasPrefixFold(text, i+1, p) {
			return true
		}
	}
	return false
}

// sentenceEndAt reports whether a sentence or a clause ends at i: the text
// ends, or a period, "!", "?" or "," follows and then a space, a line
// break, a quote or the end of the text.
func sentenceEndAt(text string, i int) bool {
	if i >= len(text) {
		return true
	}
	switch text[i] {
	case '.', '!', '?', ',':
	default:
		return false
	}
	return i+1 == len(text) || isSpace(text[i+1]) || text[i+1] == '"'
}

// isASCIIWord reports whether word has only ASCII bytes.
func isASCIIWord(word string) bool {
	for i := 0; i < len(word); i++ {
		if word[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// salutationWords follow a greeting without naming anyone ("Dear Sir",
// "Hi Team").
var salutationWords = newWordSet(
	"sir", "sirs", "madam", "colleague", "colleagues", "everyone",
	"everybody", "all", "team", "friends", "folks", "there", "patient",
	"doc", "nurse", "staff", "customer", "member", "user",
)

// labelEnd returns the end of ":", "?" or " is" after a "name" label
// ending at i ("Name: Jane", "your name? Jane", "name is Jane"), or -1.
func labelEnd(text string, i int) int {
	if i < len(text) && (text[i] == ':' || text[i] == '?') {
		return i + 1
	}
	k := skipSpaces(text, i)
	if k > i && hasPrefixFold(text, k, "is ") {
		return k + 2
	}
	return -1
}

// nameEnd returns the end of up to three name parts starting at i, or i
// when none starts there. A part is a capitalized word that is not a stop
// word, or an initial with its period. A name of one initial alone counts
// only after a title.
func nameEnd(text string, i int, title bool) int {
	end := i
	words := 0
	k := i
	for parts := 0; parts < 3; parts++ {
		if !isNameStart(text, k) {
			break
		}
		w := nameWordEnd(text, k)
		if w == k+1 {
			if w >= len(text) || text[w] != '.' || (w+1 < len(text) && isLetter(text[w+1])) {
				break
			}
			end = w + 1
		} else {
			if !isNameWord(text[k:w]) {
				break
			}
			end = w
			words++
		}
		if end+1 >= len(text) || text[end] != ' ' || !isNameStart(text, end+1) {
			break
		}
		k = end + 1
	}
	if words == 0 && (!title || end == i) {
		return i
	}
	return end
}

// initialNameEnd returns the end of "Word X." at i, optionally followed by
// one more capitalized word ("Jane A. Doe"), or -1. The period must end the
// initial: the next byte is a space, punctuation or the end of the text.
func initialNameEnd(text string, i, w int) int {
	if !isUpper(text[i]) || w-i < 2 || w+3 > len(text) || text[w] != ' ' {
		return -1
	}
	if !isUpper(text[w+1]) || text[w+2] != '.' {
		return -1
	}
	end := w + 3
	if end < len(text) && !isNameTerminator(text[end]) {
		return -1
	}
	if wordEnd(text, i) != nameWordEnd(text, i) || !isNameWord(text[i:w]) {
		return -1
	}
	if end+1 < len(text) && text[end] == ' ' && isUpper(text[end+1]) {
		s := nameWordEnd(text, end+1)
		if s-(end+1) >= 2 && isNameWord(text[end+1:s]) && (s >= len(text) || !isAlnum(text[s])) {
			end = s
		}
	}
	return end
}

// letterRunEnd returns the end of the run of letters starting at i, ASCII
// or not. Text that is ASCII costs what wordEnd costs, because runes are
// decoded only at bytes from 0x80 up.
func letterRunEnd(text string, i int) int {
	for i < len(text) {
		c := text[i]
		if isLetter(c) {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) {
			break
		}
		i += n
	}
	return i
}

// letterOrDigitBefore reports whether the character before i, ASCII or
// not, is a letter or a digit, so that i does not start a word.
func letterOrDigitBefore(text string, i int) bool {
	if i == 0 {
		return false
	}
	if c := text[i-1]; c < utf8.RuneSelf {
		return isAlnum(c)
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// isNameStart reports whether a capital letter, ASCII or not, starts at i
// ("Jane", "Åsa", "Łukasz").
func isNameStart(text string, i int) bool {
	if i < len(text) && text[i]-'A' < 26 {
		return true
	}
	return isUpperRune(text, i)
}

// isUpperRune reports whether the character at i is an uppercase letter
// outside ASCII, and false when i is past the end of text. It is apart
// from isNameStart so that the test of an ASCII capital compiles inline.
func isUpperRune(text string, i int) bool {
	if i >= len(text) || text[i] < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsUpper(r)
}

func isNameTerminator(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ';', ':', ')', ']', '"', '\'', '?', '!':
		return true
	}
	return false
}

// nameWordEnd returns nameWordEnd(text, i), reading the run of ASCII
// letters at i from the letter bitmap when ix is not nil.
func (ix *textIndex) nameWordEnd(text string, i int) int {
	if ix == nil || i >= len(text) {
		return nameWordEnd(text, i)
	}
	j := ix.wordEnd(text, i)
	if j < len(text) && text[j] >= utf8.RuneSelf {
		j = letterRunEnd(text, j)
	}
	return nameWordTail(text, j)
}

// nameWordEnd returns the end of the word at i, which may join letters
// with a hyphen or an apostrophe ("Smith-Jones", "O'Brien") and contain
// letters outside ASCII ("Lepistö", "Åberg"). A possessive "'s" is not
// part of the word.
func nameWordEnd(text string, i int) int {
	return nameWordTail(text, letterRunEnd(text, i))
}

// nameWordTail returns the end of a name word whose first run of letters
// ends at j, over the parts joined by hyphens and apostrophes.
func nameWordTail(text string, j int) int {
	for j+1 < len(text) && (text[j] == '-' || text[j] == '\'') && isLetter(text[j+1]) {
		next := letterRunEnd(text, j+1)
		if text[j] == '\'' && next == j+2 && lower(text[j+1]) == 's' {
			break
		}
		j = next
	}
	return j
}

// isNameWord reports whether word, which starts with a capital letter, can
// be part of a name: it is not all capitals (an acronym such as "HIV") and
// not a stop word.
func isNameWord(word string) bool {
	return nameWordShape(word) && !isNameStopWord(word)
}

// nameWordShape reports whether word has at least two bytes and a
// lowercase ASCII letter after the first, the shape part of isNameWord.
func nameWordShape(word string) bool {
	for i := 1; i < len(word); i++ {
		if isLower(word[i]) {
			return true
		}
	}
	return false
}

// isNameStopWord reports whether word, in any ASCII case, is in
// nameStopWords.
func isNameStopWord(word string) bool { return inWordSet(nameStopWords, word) }

// nameStopWords are capitalized words that follow a name cue or precede an
// initial without being a name: verbs and function words ("Patient is"),
// clinical nouns ("Patient Portal", "Dr. Office"), and words that take a
// letter ("Vitamin D.", "Hepatitis B.", "Type A.", "Part D.").
var nameStopWords = newWordSet(
	// Function words and pronouns.
	"a", "an", "and", "or", "but", "the", "of", "in", "on", "at", "to",
	"for", "from", "by", "with", "without", "who", "whom", "whose",
	"which", "that", "this", "these", "those", "he", "she", "they", "it",
	"its", "his", "her", "their", "if", "as", "also", "again", "now",
	"then", "today", "not", "no", "yes", "all", "any", "each", "per",
	"my", "our", "your", "we", "you", "i", "me", "us", "when", "while",
	"where", "what", "how", "why", "after", "before", "since", "during",
	"until", "about", "into", "over", "under", "here", "there", "is",
	// Verbs common after "Patient" or "Pt".
	"was", "has", "had", "have", "is", "are", "were", "be", "been",
	"being", "will", "would", "should", "can", "could", "may", "might",
	"must", "does", "did", "do", "presents", "presented", "presenting",
	"denies", "denied", "reports", "reported", "states", "stated",
	"says", "said", "complains", "notes", "noted", "came", "comes",
	"went", "returns", "returned", "arrived", "admitted", "discharged",
	"seen", "tolerated", "tolerating", "underwent", "continues",
	"continued", "remains", "agrees", "declined", "refused", "requests",
	"requested", "experiencing", "appears", "feels", "felt", "took",
	"takes", "taking", "started", "stopped", "began", "given",
	"received", "needs", "wants", "got", "gets", "developed", "became",
	"expired", "verbalized", "understands", "lives", "works", "uses",
	"ambulates", "ambulating", "education", "instructed", "advised",
	// Clinical and administrative nouns.
	"office", "room", "clinic", "hospital", "center", "centre", "care",
	"portal", "record", "records", "history", "status", "summary",
	"note", "instructions", "plan", "consent", "visit", "information",
	"info", "name", "number", "list", "id", "safety", "satisfaction",
	"experience", "outcomes", "population", "group", "cohort",
	"identification", "advocate", "assistance", "account", "access",
	"data", "chart", "profile", "registry", "intake", "transport",
	"left", "right", "bilateral", "male", "female", "man", "woman",
	"boy", "girl", "child", "infant", "adult", "age", "aged", "years",
	"year", "old", "unknown", "none", "other", "new", "same",
	// Words that take a letter in clinical text.
	"vitamin", "vitamins", "type", "hepatitis", "hep", "stage", "grade",
	"class", "phase", "factor", "part", "option", "section", "appendix",
	"table", "figure", "fig", "level", "zone", "category", "tier",
	"schedule", "exhibit", "step", "lead", "strep", "streptococcus",
	"influenza", "flu", "hemophilia", "haemophilia", "protein",
	"complex", "cluster", "antigen", "troponin", "coenzyme", "coxsackie",
	"immunoglobulin", "lipoprotein", "apolipoprotein", "medicare",
	"panel", "arm", "site", "ward", "wing", "unit", "bed", "bay", "floor",
	"building", "block", "pod", "team", "model", "version", "form",
	"list", "criteria", "question", "item", "case", "subject",
	"participant", "patient", "patients", "pt", "rh", "blood",
	"channel", "wave", "segment", "point", "vector", "sample",
	"specimen", "tube", "mode", "pattern", "plan", "kit", "lot",
)

// relativeCues are words for relatives and carers that often precede a
// name ("his wife Mary", "daughter, Anna S."). After one of them only a
// listed given name starts a name.
var relativeCues = newWordSet(
	"son", "daughter", "wife", "husband", "mother", "father", "brother",
	"sister", "spouse", "partner", "fiance", "fiancee", "grandson",
	"granddaughter", "grandmother", "grandfather", "caregiver", "guardian",
	"niece", "nephew", "aunt", "uncle", "cousin", "mom", "dad", "kid",
	"friend", "boyfriend", "girlfriend", "roommate", "neighbor",
	"neighbour", "boss", "colleague",
)

// lowercaseNameEnd returns the end of a lowercase name after a cue ("pt
// john roe", "pt john r"), or i. The first word must be a listed given
// name that is not also an English word; a listed surname or a single
// letter may follow.
func lowercaseNameEnd(ix *textIndex, text string, i int) int {
	if i >= len(text) || !isLower(text[i]) {
		return i
	}
	w := wordEnd(text, i)
	e := lookupWord(text[i:w])
	if !e.isFirst() || e.common || isNameStopWord(text[i:w]) || inWordSet(notNameWords, text[i:w]) {
		return i
	}
	end := w
	if end+1 < len(text) && text[end] == ' ' && isLower(text[end+1]) {
		w2 := wordEnd(text, end+1)
		e2 := lookupWord(text[end+1 : w2])
		if w2 == end+2 || e2.isLast() && !isNameStopWord(text[end+1:w2]) {
			end = w2
		}
	}
	return end
}

// nameToken is one capitalized word of a candidate name, with the lexicon
// entry of its letters. A Synthea-style numeric suffix ("Larue605") is part
// of the token and sets digits.
type nameToken struct {
	end    int
	word   string
	digits bool
	// lex is the lexicon entry of word, looked up once.
	lex lexEntry
}

// entry returns the lexicon entry of the token's letters.
func (t nameToken) entry() lexEntry { return t.lex }

// nameTokenAt reads a capitalized name word at i. It returns ok false for
// acronyms, stop words, eponyms and other words in notNameWords.
func nameTokenAt(ix *textIndex, text string, i int) (tok nameToken, ok bool) {
	if !isNameStart(text, i) {
		return tok, false
	}
	w := ix.nameWordEnd(text, i)
	word := text[i:w]
	tok.end = w
	if n := digitsAt(text, w); n > 0 {
		// A numeric suffix marks a generated name, so English words such
		// as "An" or "Will" count.
		if n > 4 || w+n < len(text) && isLetter(text[w+n]) || w-i < 2 || isAcronym(word) {
			return tok, false
		}
		tok.end, tok.digits = w+n, true
		tok.lex = ix.lookup(text, i, w)
	} else {
		if !nameWordShape(word) {
			return tok, false
		}
		tok.lex = ix.lookup(text, i, w)
		if tok.lex.in(nameStopWords) || tok.lex.in(notNameWords) {
			return tok, false
		}
	}
	tok.word = word
	return tok, true
}

// listNameEnd returns the end of a name without a cue that starts with
// the capitalized word at i, and its confidence, or -1.
func listNameEnd(ix *textIndex, text string, i int) (int, float64) {
	first, ok := nameTokenAt(ix, text, i)
	if !ok {
		return -1, 0
	}
	if first.digits {
		return suffixNameEnd(ix, text, i, first)
	}
	// Both "I'm" and "I am" end in "m ".
	if i >= 4 && text[i-1] == ' ' && text[i-2] == 'm' {
		if end := introducedNameEnd(ix, text, i, first); end > 0 {
			return end, confNameSingle
		}
	}
	initial := sentenceStart(text, i)
	e := first.entry()
	if !initial {
		if end := workNameEnd(ix, text, i, first); end > 0 {
			return end, confNameSingle
		}
		if end := earlyWorkEnd(text, i, first); end > 0 {
			return end, confNameSingle
		}
	}
	if !e.isFirst() {
		if end := unlistedPairEnd(ix, text, i, first, initial); end > 0 {
			return end, confNameSingle
		}
		if end := unlistedSubjectEnd(ix, text, first); end > 0 {
			return end, confNameSingle
		}
		if end := unlistedAddressedEnd(text, i, first); end > 0 {
			return end, confNameSingle
		}
		return phraseNameEnd(ix, text, i, &first), confNameSingle
	}

	next := first.end + 1
	if next < len(text) && text[first.end] == ' ' && isNameStart(text, next) {
		// "John D": a given name and a bare initial.
		if isUpper(text[next]) && (next+1 == len(text) || isNameTerminator(text[next+1]) && text[next+1] != '\'') && !e.common {
			return next + 1, confNameList
		}
		if second, ok := nameTokenAt(ix, text, next); ok && !second.digits {
			end, conf := pairNameEnd(ix, text, first, second, initial)
			if end > 0 && !eponymAfter(ix, text, end) {
				return end, conf
			}
		} else if end := eponymPairEnd(ix, text, first, next); end > 0 {
			return end, confNameList
		}
	}
	if end := singleNameEnd(ix, text, i, first, initial); end > 0 {
		return end, confNameSingle
	}
	if end := unlistedPairEnd(ix, text, i, first, initial); end > 0 {
		return end, confNameSingle
	}
	if end := addressedNameEnd(ix, text, i, first); end > 0 {
		return end, confNameSingle
	}
	return phraseNameEnd(ix, text, i, &first), confNameSingle
}

// phraseNameEnd returns the end of a name at i, first, that a phrase
// around it marks, or -1: a possessive before a relative or a work, a role
// noun before it or "gender of". These rules come after the others in
// listNameEnd, so that a name those find keeps their span and confidence.
func phraseNameEnd(ix *textIndex, text string, i int, first *nameToken) int {
	if end := possessiveNameEnd(ix, text, first); end > 0 {
		return end
	}
	if i < 2 || text[i-1] != ' ' || !isLetter(text[i-2]) {
		return -1
	}
	if end := roleNameEnd(ix, text, i, first); end > 0 {
		return end
	}
	return genderOfNameEnd(ix, text, i, first.end)
}

// introducedNameEnd returns the end of two capitalized words after "I'm"
// or "I am" and before a comma ("I'm Quarto Angelo, originally from"),
// where a speaker gives their name, or -1. The words must not both be
// English words, and one must be a listed name or have letters outside
// ASCII, so that "I am Very Sorry, but" is no name.
func introducedNameEnd(ix *textIndex, text string, i int, first nameToken) int {
	if first.end+1 >= len(text) || text[first.end] != ' ' || !firstPersonAm(text, i) {
		return -1
	}
	second, ok := nameTokenAt(ix, text, first.end+1)
	if !ok || second.digits || second.end >= len(text) || text[second.end] != ',' {
		return -1
	}
	if first.lex.common && second.lex.common {
		return -1
	}
	if !first.lex.isName() && !second.lex.isName() && isASCIIWord(first.word) && isASCIIWord(second.word) {
		return -1
	}
	return second.end
}

// eponymPairEnd returns the end of a surname that is also an eponym
// ("Hartmann", "Parkinson", "Young") at i after the given name first, or
// -1. The given name must rank in the first 3,000 and not be an English
// word. Neither a word that follows eponyms ("procedure", "disease") nor
// a capitalized word may come next, so "Jeremy Hartmann" and "Zoe Young"
// are names but "Hartmann procedure" and "Milford New Zealand" are not.
func eponymPairEnd(ix *textIndex, text string, first nameToken, i int) int {
	e := first.entry()
	if e.common || e.firstRank > 3000 {
		return -1
	}
	second, ok := eponymSurnameAt(ix, text, i)
	if !ok || eponymAfter(ix, text, second.end) {
		return -1
	}
	// A capitalized word after the pair may make the surname part of a
	// longer name: "Milford New Zealand".
	if second.end+1 < len(text) && text[second.end] == ' ' && isNameStart(text, second.end+1) {
		return -1
	}
	return second.end
}

// pairNameEnd judges "Given Surname" and "Given Middle Surname" from the
// lists, or returns -1. Two words that are both common English words
// ("Will Young") are not enough, and neither is a common word opening a
// sentence.
func pairNameEnd(ix *textIndex, text string, first, second nameToken, initial bool) (int, float64) {
	e1, e2 := first.entry(), second.entry()
	if e1.common && (e2.common || initial) {
		return -1, 0
	}
	if second.end+1 < len(text) && text[second.end] == ' ' && e2.isFirst() {
		if third, ok := nameTokenAt(ix, text, second.end+1); ok && !third.digits && third.entry().isLast() && !third.entry().common {
			return third.end, confNameList
		}
	}
	switch {
	case e2.isName():
		return second.end, confNameList
	case !e1.common && e1.firstRank <= 1500 && e2.cityRank == 0 && (!initial || !e2.common):
		// An unlisted surname after a frequent given name. At the start
		// of a sentence the second word must not be an English word
		// either, so that "Jean Therapy" stays a heading.
		return second.end, confNameSingle
	}
	return -1, 0
}

// singleNameEnd returns the end of a given name alone, or -1. The name
// must be frequent, not an English word and not a town. It counts before
// a lowercase word or a colon anywhere, and otherwise only between
// punctuation or after a preposition and not opening a sentence
// ("female, Anna, seen", "John's notes").
func singleNameEnd(ix *textIndex, text string, i int, tok nameToken, initial bool) int {
	e := tok.entry()
	end := tok.end
	if e.common || afterSaint(text, i) || eponymAfter(ix, text, end) {
		return -1
	}
	// A given name of other origin, or one with letters outside ASCII,
	// before a verb is a person even when it opens a sentence:
	// "Vsevolod is very reliable", "Zak shouted at".
	if (e.firstRank > firstCensusNames || !isASCIIWord(tok.word)) && !e.isPlace() && verbAfter(ix, text, end) {
		return end
	}
	// A frequent given name that is also a surname or a town is a person
	// before a verb that takes a person as its subject ("Scott is a very
	// kind person"). A US city must rank below the given name, so that
	// "Jackson is a city" stays a place.
	if e.firstRank <= 1500 && (e.cityRank == 0 || e.cityRank > e.firstRank) && verbAfter(ix, text, end) {
		return end
	}
	if e.firstRank > 1500 || e.cityRank > 0 && e.firstRank > 300 || e.lastRank > 0 && e.lastRank < e.firstRank {
		return -1
	}
	// A given name before a lowercase word or a colon is a person even
	// when it opens a sentence: "Anna is 45", "Scott had given", "Ella:
	// what".
	if end+1 < len(text) && (text[end] == ' ' && isLower(text[end+1]) || text[end] == ':' && text[end+1] == ' ') {
		return end
	}
	if initial {
		return -1
	}
	switch {
	case end == len(text):
	case text[end] == ',' || text[end] == ')' || text[end] == ';':
	case text[end] == '\'' || hasPrefixFold(text, end, "\u2019"):
	default:
		return -1
	}
	j := i
	for j > 0 && text[j-1] == ' ' {
		j--
	}
	if j > 0 && (text[j-1] == ',' || text[j-1] == '(') {
		return end
	}
	k := j
	for k > 0 && isLetter(text[k-1]) {
		k--
	}
	if inWordSet(singleNameCues, text[k:j]) {
		return end
	}
	return -1
}

// singleNameCues are words after which a lone given name is read as a
// person: "like Anna,", "for John's".
var singleNameCues = newWordSet("like", "for", "in", "of", "to", "with", "and", "by", "about", "as", "review")

// suffixNameEnd returns the end of a run of Synthea-style name tokens
// ("Sumiko254 Larue605") starting with tok at i, or -1. One token alone
// counts only if its letters are a listed name.
func suffixNameEnd(ix *textIndex, text string, i int, tok nameToken) (int, float64) {
	end, n := tok.end, 1
	for n < 4 && end+1 < len(text) && text[end] == ' ' {
		next, ok := nameTokenAt(ix, text, end+1)
		if !ok || !next.digits {
			break
		}
		end = next.end
		n++
	}
	if n == 1 && !tok.entry().isName() {
		return -1, 0
	}
	return end, confNameSuffix
}

// eponymAfter reports whether the word after end makes the name before it
// an eponym ("Stevens Johnson syndrome", "Wells score").
func eponymAfter(ix *textIndex, text string, end int) bool {
	j := end
	if j+1 < len(text) && text[j] == '\'' && text[j+1] == 's' {
		j += 2
	}
	if j >= len(text) || text[j] != ' ' {
		return false
	}
	w := wordEnd(text, j+1)
	return w > j+1 && eponymFollowers.mayHold(text[j+1:w]) && ix.lookup(text, j+1, w).in(eponymFollowers)
}

// sentenceStart reports whether the word at i opens a sentence, a line or
// a list item, where capitalization is no evidence of a name.
func sentenceStart(text string, i int) bool {
	j := i
	for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	if j == 0 {
		return true
	}
	switch text[j-1] {
	case '.', '!', '?', '\n', '\r', ':', '-', '*', '"', '#':
		return true
	}
	return false
}

// afterSaint reports whether the word at i follows "St.", "Saint", "Mt."
// or "Mount", which makes it part of a place name ("St. Mary's").
func afterSaint(text string, i int) bool {
	j := i
	for j > 0 && text[j-1] == ' ' {
		j--
	}
	if j > 0 && text[j-1] == '.' {
		j--
	}
	k := j
	for k > 0 && isLetter(text[k-1]) {
		k--
	}
	word := text[k:j]
	return word == "St" || word == "Saint" || word == "Mt" || word == "Mount" || word == "Ste"
}

package phi

// NameDetector finds personal names in two shapes.
//
// After a cue ("Patient", "Pt.", "patient name:", "Name:", "named", and
// the titles "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr" with or without a
// period) it reports one to three capitalized words or initials: "Jane
// Roe", "O'Brien", "Smith-Jones", "Anna S.", "A. Smith". The cue itself is
// not part of the span. After a title a lone initial counts ("Mr. W."),
// after "Patient" it does not, because "Patient A" labels a study subject.
//
// Anywhere else it reports a capitalized word followed by an initial and a
// period ("Anna S."), the way clinical text shortens a patient's name, and
// a capitalized word right after that ("Jane A. Doe").
//
// Words in nameStopWords are never names, so "Patient is", "Pt With", "Dr.
// Office" and "Vitamin D." are not reported.
//
// NOTE: full names with no cue ("a 60-year-old male, Jane Roe, who") are
// not found. That needs a list of given names, which this package lacks.
type NameDetector struct{}

// Name returns "name".
func (NameDetector) Name() string { return "name" }

// Confidence by cue: a "Name:" label is explicit, a title nearly so.
const (
	confNameLabel   = confContext
	confNameTitle   = 0.9
	confNamePatient = confHigh
	confNameInitial = 0.8
)

// Detect appends the names in text to dst.
func (d NameDetector) Detect(text string, dst []Finding) []Finding {
	for i := 0; i < len(text); i++ {
		if !isLetter(text[i]) {
			continue
		}
		if i > 0 && isLetter(text[i-1]) {
			i = wordEnd(text, i) - 1
			continue
		}
		w := wordEnd(text, i)

		if after, conf, title := nameCue(text, i, w); after >= 0 {
			if end := nameEnd(text, after, title); end > after {
				dst = append(dst, Finding{Type: TypeName, Start: after, End: end, Confidence: conf, Detector: d.Name()})
				i = end - 1
				continue
			}
		}

		if end := initialNameEnd(text, i, w); end > 0 {
			dst = append(dst, Finding{Type: TypeName, Start: i, End: end, Confidence: confNameInitial, Detector: d.Name()})
			i = end - 1
			continue
		}
		i = w - 1
	}
	return dst
}

// nameCue checks whether the word text[i:w] is a name cue. It returns where
// the name would start, the confidence and whether the cue is a title, or
// after -1.
func nameCue(text string, i, w int) (after int, conf float64, title bool) {
	word := text[i:w]
	j := w
	switch word {
	case "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr":
		// "Oak Dr" ends a street name, not a title.
		if word == "Dr" && i >= 2 && text[i-1] == ' ' && isLetter(text[i-2]) {
			k := i - 2
			for k > 0 && isLetter(text[k-1]) {
				k--
			}
			if isUpper(text[k]) {
				return -1, 0, false
			}
		}
		if j < len(text) && text[j] == '.' {
			j++
		}
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
		conf = confNamePatient
	default:
		return -1, 0, false
	}

	k := skipSpaces(text, j)
	if k == j && (k >= len(text) || j == w) || k-j > 2 {
		return -1, 0, false
	}
	return k, conf, title
}

// labelEnd returns the end of ":" or " is" after a "name" label ending at
// i, or -1.
func labelEnd(text string, i int) int {
	if i < len(text) && text[i] == ':' {
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
		if k >= len(text) || !isUpper(text[k]) {
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
		if end+1 >= len(text) || text[end] != ' ' || !isUpper(text[end+1]) {
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

func isNameTerminator(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ';', ':', ')', ']', '"', '\'', '?', '!':
		return true
	}
	return false
}

// nameWordEnd returns the end of the word at i, which may join letters
// with a hyphen or an apostrophe ("Smith-Jones", "O'Brien"). A possessive
// "'s" is not part of the word.
func nameWordEnd(text string, i int) int {
	j := wordEnd(text, i)
	for j+1 < len(text) && (text[j] == '-' || text[j] == '\'') && isLetter(text[j+1]) {
		next := wordEnd(text, j+1)
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
	if len(word) < 2 {
		return false
	}
	lowerSeen := false
	for i := 1; i < len(word); i++ {
		if isLower(word[i]) {
			lowerSeen = true
			break
		}
	}
	if !lowerSeen {
		return false
	}
	return !isNameStopWord(word)
}

// isNameStopWord reports whether word, in any ASCII case, is in
// nameStopWords. It lowercases into a fixed buffer so that the lookup does
// not allocate. No stop word is longer than that buffer, which a test
// checks.
func isNameStopWord(word string) bool {
	var buf [16]byte
	if len(word) > len(buf) {
		return false
	}
	for i := 0; i < len(word); i++ {
		buf[i] = lower(word[i])
	}
	_, stop := nameStopWords[string(buf[:len(word)])]
	return stop
}

// nameStopWords are capitalized words that follow a name cue or precede an
// initial without being a name: verbs and function words ("Patient is"),
// clinical nouns ("Patient Portal", "Dr. Office"), and words that take a
// letter ("Vitamin D.", "Hepatitis B.", "Type A.", "Part D.").
var nameStopWords = func() map[string]struct{} {
	words := []string{
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
	}
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}()

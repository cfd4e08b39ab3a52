package phi

// IdentifierDetector finds record numbers that follow a label: medical
// record numbers ("MRN: ST-998877", "chart # 12345"), health plan numbers
// ("member ID HP-678901", "policy number ..."), account numbers, licence
// numbers ("DEA # ..."), NPIs and other patient or case identifiers.
//
// The label may be followed by ":", "#", "-", "=", spaces and the filler
// words "is", "number", "no", "id" before the value. The value is one
// token of letters, digits and dashes with at least four digits, or a
// UUID. A token of exactly four digits that reads as a year ("policy
// number 2023") is not reported.
type IdentifierDetector struct{}

// idCue is one label and the type of the value that follows it.
type idCue struct {
	label string
	typ   Type
}

// idCues lists the labels, lowercase. Where one label is a prefix of
// another, the longer one comes first so it wins.
var idCues = []idCue{
	{"medical record number", TypeMRN},
	{"medical record no", TypeMRN},
	{"medical record #", TypeMRN},
	{"medical record", TypeMRN},
	{"record number", TypeMRN},
	{"record no", TypeMRN},
	{"record #", TypeMRN},
	{"chart number", TypeMRN},
	{"chart no", TypeMRN},
	{"chart #", TypeMRN},
	{"med rec number", TypeMRN},
	{"med rec no", TypeMRN},
	{"med rec #", TypeMRN},
	{"med rec", TypeMRN},
	{"medrec", TypeMRN},
	{"emr number", TypeMRN},
	{"emr #", TypeMRN},
	{"emr", TypeMRN},
	{"mrn", TypeMRN},
	{"mr#", TypeMRN},
	{"mr #", TypeMRN},

	{"member id", TypeHealthID},
	{"member number", TypeHealthID},
	{"member no", TypeHealthID},
	{"member #", TypeHealthID},
	{"policy number", TypeHealthID},
	{"policy no", TypeHealthID},
	{"policy id", TypeHealthID},
	{"policy #", TypeHealthID},
	{"subscriber id", TypeHealthID},
	{"subscriber number", TypeHealthID},
	{"subscriber #", TypeHealthID},
	{"beneficiary", TypeHealthID},
	{"insurance id", TypeHealthID},
	{"insurance number", TypeHealthID},
	{"insurance no", TypeHealthID},
	{"insurance #", TypeHealthID},
	{"health plan id", TypeHealthID},
	{"health plan number", TypeHealthID},
	{"medicare id", TypeHealthID},
	{"medicare number", TypeHealthID},
	{"medicaid id", TypeHealthID},
	{"medicaid number", TypeHealthID},
	{"group number", TypeHealthID},
	{"group #", TypeHealthID},

	{"account number", TypeAccount},
	{"account no", TypeAccount},
	{"account #", TypeAccount},
	{"acct number", TypeAccount},
	{"acct no", TypeAccount},
	{"acct #", TypeAccount},
	{"acct", TypeAccount},

	{"license number", TypeLicense},
	{"license no", TypeLicense},
	{"license #", TypeLicense},
	{"licence number", TypeLicense},
	{"licence no", TypeLicense},
	{"licence #", TypeLicense},
	{"certificate number", TypeLicense},
	{"certificate #", TypeLicense},
	{"dea number", TypeLicense},
	{"dea #", TypeLicense},
	{"dea", TypeLicense},

	{"npi", TypeNPI},

	{"patient id", TypeOtherID},
	{"patient number", TypeOtherID},
	{"case number", TypeOtherID},
	{"case id", TypeOtherID},
	{"case #", TypeOtherID},
}

// idCuesByLetter indexes idCues by the first letter of the label, so a
// word is compared only with the labels that can match it.
var idCuesByLetter = func() (index [26][]idCue) {
	for _, cue := range idCues {
		k := cue.label[0] - 'a'
		index[k] = append(index[k], cue)
	}
	return index
}()

// idFillers are the words allowed between a label and its value.
var idFillers = []string{"is", "number", "no", "num", "nbr", "id"}

// maxIDLen bounds an identifier token, because longer runs are encoded
// data, not a record number.
const maxIDLen = 40

// Name returns "labelled_id".
func (IdentifierDetector) Name() string { return "labelled_id" }

// Detect appends the labelled identifiers in text to dst.
func (d IdentifierDetector) Detect(text string, dst []Finding) []Finding {
	for i := 0; i < len(text); i++ {
		if !isLetter(text[i]) {
			continue
		}
		if i > 0 && isLetter(text[i-1]) {
			i = wordEnd(text, i) - 1
			continue
		}
		cue, cueEnd := matchIDCue(text, i)
		if cueEnd < 0 {
			i = wordEnd(text, i) - 1
			continue
		}
		start, end := idValue(text, cueEnd)
		if end < 0 {
			i = cueEnd - 1
			continue
		}
		dst = append(dst, Finding{Type: cue.typ, Start: start, End: end, Confidence: confContext, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// matchIDCue returns the label that starts at i and its end, or end -1.
func matchIDCue(text string, i int) (idCue, int) {
	for _, cue := range idCuesByLetter[lower(text[i])-'a'] {
		if !hasPrefixFold(text, i, cue.label) {
			continue
		}
		end := i + len(cue.label)
		if isLetter(cue.label[len(cue.label)-1]) && end < len(text) && isLetter(text[end]) {
			continue
		}
		return cue, end
	}
	return idCue{}, -1
}

// idValue returns the span of the identifier token that follows a label
// ending at i, or end -1.
func idValue(text string, i int) (start, end int) {
	j := i
	for steps := 0; steps < 4 && j-i < 24; steps++ {
		k := j
		for k < len(text) && (text[k] == ' ' || text[k] == ':' || text[k] == '#' || text[k] == '-' || text[k] == '=' || text[k] == '.' || text[k] == '(') {
			k++
		}
		w := wordEnd(text, k)
		if w > k && (w >= len(text) || !isDigit(text[w])) && isFiller(text[k:w]) {
			j = w
			continue
		}
		j = k
		break
	}

	end = j
	digits := 0
	for end < len(text) && end-j <= maxIDLen && (isAlnum(text[end]) || text[end] == '-') {
		if isDigit(text[end]) {
			digits++
		}
		end++
	}
	for end > j && text[end-1] == '-' {
		end--
	}
	if end == j || end-j > maxIDLen || (end < len(text) && isAlnum(text[end])) {
		return j, -1
	}
	token := text[j:end]
	if digits < 4 && !isUUID(token) {
		return j, -1
	}
	if len(token) == 4 && digits == 4 && plausibleYear(atoi(token)) {
		return j, -1
	}
	return j, end
}

func isFiller(word string) bool {
	for _, f := range idFillers {
		if equalFold(word, f) {
			return true
		}
	}
	return false
}

// isUUID reports whether s has the 8-4-4-4-12 hexadecimal form of a UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

package phi

import (
	"slices"
	"strings"
)

// IdentifierDetector finds identifiers that follow a label: medical
// record numbers ("MRN: ST-998877", "chart # 12345"), health plan numbers
// ("member ID HP-678901", "MBI 1EG4-TE5-MK73"), account and card numbers,
// licence, certificate and passport numbers ("DEA # ...", "driver's
// license S99940903"), NPIs, vehicle identifiers ("VIN ...", "plate ABC
// 1234"), device serial numbers ("S/N: ...", "device ID ...") and other
// identifiers ("claim number ...", "ID: <UUID>").
//
// The label may be followed by ":", "#", "-", "=", spaces and the filler
// words "is", "number", "no", "id" before the value. The value is one
// token of letters, digits and dashes with at least four digits (two for
// serial numbers), or a UUID; account numbers may be split into digit
// groups by spaces, and licence plates are read by their own shape. A
// token of exactly four digits that reads as a year ("policy number
// 2023") is not reported.
//
// Where the format has a check digit or a fixed layout (NPI, DEA, MBI,
// VIN, payment card), a value that fails it is still reported, at
// confMedium instead of confContext, because the label makes the intent
// plain and test data often fails such checks.
type IdentifierDetector struct{}

// idValueKind selects how the value after a label is read.
type idValueKind int

const (
	// valueToken is one token with at least four digits, or a UUID.
	valueToken idValueKind = iota
	// valueGrouped is a valueToken that may continue over single spaces
	// with further digit groups, as account and card numbers are written.
	valueGrouped
	// valueSerial is one token with at least two digits.
	valueSerial
	// valuePlate is a licence plate: up to eight letters and digits with
	// at least one digit, possibly in two parts.
	valuePlate
)

// idCue is one label and the type of the value that follows it.
type idCue struct {
	label string
	typ   Type
	value idValueKind
	// check validates the value with its separators removed; nil accepts
	// any value.
	check func(string) bool
}

// idCues lists the labels, lowercase. Where one label is a prefix of
// another, the longer one wins (see idCuesByPrefix).
var idCues = []idCue{
	{"medical record number", TypeMRN, valueToken, nil},
	{"medical record no", TypeMRN, valueToken, nil},
	{"medical record #", TypeMRN, valueToken, nil},
	{"medical record", TypeMRN, valueToken, nil},
	{"record number", TypeMRN, valueToken, nil},
	{"record no", TypeMRN, valueToken, nil},
	{"record #", TypeMRN, valueToken, nil},
	{"chart number", TypeMRN, valueToken, nil},
	{"chart no", TypeMRN, valueToken, nil},
	{"chart #", TypeMRN, valueToken, nil},
	{"med rec number", TypeMRN, valueToken, nil},
	{"med rec no", TypeMRN, valueToken, nil},
	{"med rec #", TypeMRN, valueToken, nil},
	{"med rec", TypeMRN, valueToken, nil},
	{"medrec", TypeMRN, valueToken, nil},
	{"emr number", TypeMRN, valueToken, nil},
	{"emr #", TypeMRN, valueToken, nil},
	{"emr", TypeMRN, valueToken, nil},
	{"mrn", TypeMRN, valueToken, nil},
	{"mr#", TypeMRN, valueToken, nil},
	{"mr #", TypeMRN, valueToken, nil},
	{"hospital number", TypeMRN, valueToken, nil},
	{"patient record", TypeMRN, valueToken, nil},

	{"member id", TypeHealthID, valueToken, nil},
	{"member number", TypeHealthID, valueToken, nil},
	{"member no", TypeHealthID, valueToken, nil},
	{"member #", TypeHealthID, valueToken, nil},
	{"member", TypeHealthID, valueToken, nil},
	{"policy number", TypeHealthID, valueToken, nil},
	{"policy no", TypeHealthID, valueToken, nil},
	{"policy id", TypeHealthID, valueToken, nil},
	{"policy #", TypeHealthID, valueToken, nil},
	{"subscriber id", TypeHealthID, valueToken, nil},
	{"subscriber number", TypeHealthID, valueToken, nil},
	{"subscriber #", TypeHealthID, valueToken, nil},
	{"subscriber", TypeHealthID, valueToken, nil},
	{"beneficiary", TypeHealthID, valueToken, nil},
	{"insurance id", TypeHealthID, valueToken, nil},
	{"insurance number", TypeHealthID, valueToken, nil},
	{"insurance no", TypeHealthID, valueToken, nil},
	{"insurance #", TypeHealthID, valueToken, nil},
	{"insured id", TypeHealthID, valueToken, nil},
	{"insurance policy", TypeHealthID, valueToken, nil},
	{"insurance plan", TypeHealthID, valueToken, nil},
	{"insurance", TypeHealthID, valueToken, nil},
	{"insur id", TypeHealthID, valueToken, nil},
	{"ins", TypeHealthID, valueToken, nil},
	{"hbn", TypeHealthID, valueToken, nil},
	{"health plan id", TypeHealthID, valueToken, nil},
	{"health plan number", TypeHealthID, valueToken, nil},
	{"plan id", TypeHealthID, valueToken, nil},
	{"medicare beneficiary identifier", TypeHealthID, valueToken, mbiValid},
	{"medicare beneficiary id", TypeHealthID, valueToken, mbiValid},
	{"medicare id", TypeHealthID, valueToken, mbiValid},
	{"medicare number", TypeHealthID, valueToken, mbiValid},
	{"medicare #", TypeHealthID, valueToken, mbiValid},
	{"mbi", TypeHealthID, valueToken, mbiValid},
	{"hicn", TypeHealthID, valueToken, nil},
	{"medicaid id", TypeHealthID, valueToken, nil},
	{"medicaid number", TypeHealthID, valueToken, nil},
	{"medicaid #", TypeHealthID, valueToken, nil},
	{"group number", TypeHealthID, valueToken, nil},
	{"group id", TypeHealthID, valueToken, nil},
	{"group #", TypeHealthID, valueToken, nil},

	{"account number", TypeAccount, valueGrouped, nil},
	{"account no", TypeAccount, valueGrouped, nil},
	{"account #", TypeAccount, valueGrouped, nil},
	{"acct number", TypeAccount, valueGrouped, nil},
	{"acct no", TypeAccount, valueGrouped, nil},
	{"acct #", TypeAccount, valueGrouped, nil},
	{"acct", TypeAccount, valueGrouped, nil},
	{"bank account", TypeAccount, valueGrouped, nil},
	{"billing account", TypeAccount, valueGrouped, nil},
	{"iban", TypeAccount, valueGrouped, nil},
	{"card number", TypeAccount, valueGrouped, luhnValid},
	{"card no", TypeAccount, valueGrouped, luhnValid},
	{"card #", TypeAccount, valueGrouped, luhnValid},
	{"credit card", TypeAccount, valueGrouped, luhnValid},
	{"debit card", TypeAccount, valueGrouped, luhnValid},
	{"cc#", TypeAccount, valueGrouped, luhnValid},
	{"cc #", TypeAccount, valueGrouped, luhnValid},
	{"visa", TypeAccount, valueGrouped, luhnValid},
	{"mastercard", TypeAccount, valueGrouped, luhnValid},
	{"amex", TypeAccount, valueGrouped, luhnValid},
	{"card", TypeAccount, valueGrouped, luhnValid},

	{"license number", TypeLicense, valueToken, nil},
	{"license no", TypeLicense, valueToken, nil},
	{"license #", TypeLicense, valueToken, nil},
	{"license", TypeLicense, valueToken, nil},
	{"licence number", TypeLicense, valueToken, nil},
	{"licence no", TypeLicense, valueToken, nil},
	{"licence #", TypeLicense, valueToken, nil},
	{"licence", TypeLicense, valueToken, nil},
	{"driver's license", TypeLicense, valueToken, nil},
	{"driver's licence", TypeLicense, valueToken, nil},
	{"drivers license", TypeLicense, valueToken, nil},
	{"drivers licence", TypeLicense, valueToken, nil},
	{"driver license", TypeLicense, valueToken, nil},
	{"driving licence", TypeLicense, valueToken, nil},
	{"dl#", TypeLicense, valueToken, nil},
	{"dl #", TypeLicense, valueToken, nil},
	{"dl no", TypeLicense, valueToken, nil},
	{"dl number", TypeLicense, valueToken, nil},
	{"dl:", TypeLicense, valueToken, nil},
	{"certificate number", TypeLicense, valueToken, nil},
	{"certificate #", TypeLicense, valueToken, nil},
	{"certificate", TypeLicense, valueToken, nil},
	{"cert #", TypeLicense, valueToken, nil},
	{"cert no", TypeLicense, valueToken, nil},
	// Passport numbers are typed LICENSE: like a driver's licence they
	// number a government-issued document, the Safe Harbor category of
	// certificate and licence numbers.
	{"passport number", TypeLicense, valueToken, nil},
	{"passport no", TypeLicense, valueToken, nil},
	{"passport #", TypeLicense, valueToken, nil},
	{"passport", TypeLicense, valueToken, nil},
	{"dea number", TypeLicense, valueToken, deaValid},
	{"dea #", TypeLicense, valueToken, deaValid},
	{"dea", TypeLicense, valueToken, deaValid},

	{"npi", TypeNPI, valueToken, npiValid},

	{"vehicle identification number", TypeVehicleID, valueToken, vinValid},
	{"vin", TypeVehicleID, valueToken, vinValid},
	{"license plate", TypeVehicleID, valuePlate, nil},
	{"licence plate", TypeVehicleID, valuePlate, nil},
	{"plate number", TypeVehicleID, valuePlate, nil},
	{"plate no", TypeVehicleID, valuePlate, nil},
	{"plate #", TypeVehicleID, valuePlate, nil},
	{"plate", TypeVehicleID, valuePlate, nil},
	{"tag number", TypeVehicleID, valuePlate, nil},

	{"serial number", TypeDeviceID, valueSerial, nil},
	{"serial no", TypeDeviceID, valueSerial, nil},
	{"serial #", TypeDeviceID, valueSerial, nil},
	{"serial", TypeDeviceID, valueSerial, nil},
	{"s/n", TypeDeviceID, valueSerial, nil},
	{"sn:", TypeDeviceID, valueSerial, nil},
	{"sn#", TypeDeviceID, valueSerial, nil},
	{"device id", TypeDeviceID, valueSerial, nil},
	{"device identifier", TypeDeviceID, valueSerial, nil},
	{"udi", TypeDeviceID, valueSerial, nil},
	{"imei", TypeDeviceID, valueSerial, nil},

	{"patient id", TypeOtherID, valueToken, nil},
	{"patient number", TypeOtherID, valueToken, nil},
	{"case number", TypeOtherID, valueToken, nil},
	{"case id", TypeOtherID, valueToken, nil},
	{"case #", TypeOtherID, valueToken, nil},
	{"claim number", TypeOtherID, valueToken, nil},
	{"claim id", TypeOtherID, valueToken, nil},
	{"claim #", TypeOtherID, valueToken, nil},
	{"encounter id", TypeOtherID, valueToken, nil},
	{"encounter number", TypeOtherID, valueToken, nil},
	{"visit id", TypeOtherID, valueToken, nil},
	{"visit number", TypeOtherID, valueToken, nil},
	{"accession number", TypeOtherID, valueToken, nil},
	{"accession #", TypeOtherID, valueToken, nil},
	{"accession", TypeOtherID, valueToken, nil},
	{"specimen id", TypeOtherID, valueToken, nil},
	{"employee id", TypeOtherID, valueToken, nil},
	{"employee number", TypeOtherID, valueToken, nil},
	{"student id", TypeOtherID, valueToken, nil},
	{"reference number", TypeOtherID, valueToken, nil},
	{"ref #", TypeOtherID, valueToken, nil},
	{"ref no", TypeOtherID, valueToken, nil},
	{"identifier", TypeOtherID, valueToken, nil},
	{"uuid", TypeOtherID, valueToken, nil},
	{"guid", TypeOtherID, valueToken, nil},
	{"id number", TypeOtherID, valueToken, nil},
	{"id no", TypeOtherID, valueToken, nil},
	{"id #", TypeOtherID, valueToken, nil},
	// A bare "ID" is a label only with a separator: "ID 12555" may be an
	// abbreviation followed by a count.
	{"id#", TypeOtherID, valueToken, nil},
	{"id:", TypeOtherID, valueToken, nil},
	{"itin", TypeSSN, valueToken, nil},
}

// idCuesByPrefix indexes idCues by the first two bytes of the label, the
// second folded to one class when it is not a letter ("s/n", "dl#"), with
// the longest label first. A word is then compared only with the few
// labels that can match it, and a longer label ("license plate") wins over
// its prefix ("license").
var idCuesByPrefix = func() (index [26][27][]idCue) {
	for _, cue := range idCues {
		a, b := prefixClasses(cue.label, 0)
		index[a][b] = append(index[a][b], cue)
	}
	for a := range index {
		for b := range index[a] {
			slices.SortStableFunc(index[a][b], func(x, y idCue) int { return len(y.label) - len(x.label) })
		}
	}
	return index
}()

// idCueLetters holds, for each label in idCuesByPrefix at the same
// place, the length of its first run of letters, which matchIDCue compares
// before the label itself.
var idCueLetters = func() (letters [26][27][]int) {
	for a := range idCuesByPrefix {
		for b, bucket := range idCuesByPrefix[a] {
			for _, cue := range bucket {
				letters[a][b] = append(letters[a][b], wordEnd(cue.label, 0))
			}
		}
	}
	return letters
}()

// prefixClasses returns the index of text[i], which must be a letter, and
// of the byte after it (26 when that is not a letter) in idCuesByPrefix.
func prefixClasses(text string, i int) (int, int) {
	a, b := int(lower(text[i])-'a'), 26
	if i+1 < len(text) {
		if c := text[i+1] | 0x20; 'a' <= c && c <= 'z' {
			b = int(c - 'a')
		}
	}
	return a, b
}

// idFillers are the words allowed between a label and its value.
var idFillers = []string{"is", "number", "no", "num", "nbr", "id"}

// maxIDLen bounds an identifier token, because longer runs are encoded
// data, not a record number.
const maxIDLen = 40

// Name returns "labelled_id".
func (IdentifierDetector) Name() string { return "labelled_id" }

// Detect appends the labelled identifiers in text to dst.
func (d IdentifierDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setIDCue,
// through ix when it is not nil.
func (d IdentifierDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setIDCue, 0); i < len(text); i = ix.next(text, setIDCue, i+1) {
		if !isLetter(text[i]) {
			continue
		}
		if i > 0 && isLetter(text[i-1]) {
			i = ix.wordEnd(text, i) - 1
			continue
		}
		cue, cueEnd := matchIDCue(ix, text, i)
		if cueEnd < 0 {
			i = ix.wordEnd(text, i) - 1
			continue
		}
		start, end := idValue(text, cueEnd, cue.value)
		if end < 0 {
			i = cueEnd - 1
			continue
		}
		conf := confContext
		if cue.check != nil && !cue.check(stripSeparators(text[start:end])) {
			conf = confMedium
		}
		dst = append(dst, Finding{Type: cue.typ, Start: start, End: end, Confidence: conf, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// matchIDCue returns the label that starts at i and its end, or nil and
// -1.
//
// A label can match only a word whose run of letters is as long as the
// label's first run of letters. The label continues after that run with a
// byte that is not a letter ("record #", "s/n") or ends there, and then
// the text must not continue with a letter. Comparing the lengths first
// skips most labels without reading the text.
func matchIDCue(ix *textIndex, text string, i int) (*idCue, int) {
	a, b := prefixClasses(text, i)
	bucket := idCuesByPrefix[a][b]
	if len(bucket) == 0 {
		return nil, -1
	}
	letters := ix.wordEnd(text, i) - i
	for k, n := range idCueLetters[a][b] {
		cue := &bucket[k]
		if n != letters || !hasPrefixFold(text, i, cue.label) {
			continue
		}
		end := i + len(cue.label)
		if isLetter(cue.label[len(cue.label)-1]) && end < len(text) && isLetter(text[end]) {
			continue
		}
		return cue, end
	}
	return nil, -1
}

// idValue returns the span of the identifier that follows a label ending
// at i, read as kind, or end -1.
func idValue(text string, i int, kind idValueKind) (start, end int) {
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
	if kind == valuePlate {
		return j, plateEnd(text, j)
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
	minDigits := 4
	if kind == valueSerial {
		minDigits = 2
	}
	if digits < minDigits && !isUUID(token) {
		return j, -1
	}
	if len(token) == 4 && digits == 4 && plausibleYear(atoi(token)) {
		return j, -1
	}
	if kind == valueGrouped && digits == len(token) {
		end = digitGroupsEnd(text, end)
	}
	return j, end
}

// digitGroupsEnd extends a number that ends at i over further groups of
// three to six digits, each after one space ("4111 1111 1111 1111"), up to
// maxIDLen bytes.
func digitGroupsEnd(text string, i int) int {
	start := i
	for i+1 < len(text) && text[i] == ' ' && i-start < maxIDLen {
		n := digitsAt(text, i+1)
		if n < 3 || n > 6 || !digitEnd(text, i+1+n) {
			break
		}
		i += 1 + n
	}
	return i
}

// plateEnd returns the end of a licence plate starting at i, or -1. A
// plate is one or two parts of letters and digits joined by a space or a
// dash ("7ABC123", "ABC 1234", "ABC-123"). It has four to eight letters
// and digits in all, with at least one digit. A second part must be uppercase, so "plate 7ABC123 was"
// stops before "was".
func plateEnd(text string, i int) int {
	end := i
	for end < len(text) && isAlnum(text[end]) {
		end++
	}
	n := end - i
	if n < 2 || n > 8 {
		return -1
	}
	if end+1 < len(text) && (text[end] == ' ' || text[end] == '-') {
		k := end + 1
		for k < len(text) && (isUpper(text[k]) || isDigit(text[k])) {
			k++
		}
		if k > end+1 && n+k-end-1 <= 8 && (k >= len(text) || !isAlnum(text[k])) {
			n += k - end - 1
			end = k
		}
	}
	if n < 4 || !containsDigit(text[i:end]) {
		return -1
	}
	return end
}

// stripSeparators returns s without spaces and dashes, so a validator
// reads "1EG4-TE5-MK73" as "1EG4TE5MK73". It allocates only when s holds a
// separator.
func stripSeparators(s string) string {
	if !strings.ContainsAny(s, " -") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '-' {
			b = append(b, s[i])
		}
	}
	return string(b)
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

package phi

// SSNDetector finds US Social Security numbers. It reports "123-45-6789"
// and "123 45 6789" anywhere, and nine bare digits only after an SSN cue.
//
// Numbers in ranges the Social Security Administration never issues (area
// 000 or 666, group 00, serial 0000) are dropped unless an SSN cue precedes
// them. After a cue they are still reported, at lower confidence, because
// test and training data use such numbers and the label makes the intent
// plain. Area numbers 900-999 are not issued as SSNs either, but they are
// the area range of ITINs, which identify a person just as well, so they
// are kept.
type SSNDetector struct{}

// ssnCues are the words that mark a number as an SSN.
var ssnCues = newCueList("ssn", "social security", "ss#", "ss #", "soc sec", "ss no")

// Name returns "ssn".
func (SSNDetector) Name() string { return "ssn" }

// Detect appends the SSNs in text to dst.
func (d SSNDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setNumberStart,
// through ix when it is not nil.
func (d SSNDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setNumberStart, 0); i < len(text); i = ix.next(text, setNumberStart, i+1) {
		if !isDigit(text[i]) {
			continue
		}
		n := digitsAt(text, i)
		start := i
		i += n - 1
		if !digitStart(text, start) || !digitRunHas(text, start, 9) {
			continue
		}

		var area, group, serial string
		var sep byte
		end := -1
		switch {
		case n == 3 && start+11 <= len(text):
			sep = text[start+3]
			if (sep == '-' || sep == ' ') && digitsAt(text, start+4) == 2 && text[start+6] == sep && digitsAt(text, start+7) == 4 {
				area, group, serial = text[start:start+3], text[start+4:start+6], text[start+7:start+11]
				end = start + 11
			}
		case n == 9:
			area, group, serial = text[start:start+3], text[start+3:start+5], text[start+5:start+9]
			end = start + 9
		}
		if end < 0 || !digitEnd(text, end) {
			if splitEnd := splitSSNEnd(ix, text, start); splitEnd > 0 {
				dst = append(dst, Finding{Type: TypeSSN, Start: start, End: splitEnd, Confidence: confHigh, Detector: d.Name()})
				i = splitEnd - 1
			}
			continue
		}

		valid := area != "000" && area != "666" && group != "00" && serial != "0000"
		issuable := ssnIssuable(atoi(area), atoi(group), atoi(serial))
		labelled := cueBefore(ix, text, start, cueWindow, ssnCues) >= 0
		var conf float64
		switch {
		case labelled && valid:
			conf = confContext
		case labelled:
			conf = confMedium
		case !valid || sep == 0:
			continue
		case sep == '-' && issuable:
			conf = confHigh
		default:
			conf = confMedium
		}
		dst = append(dst, Finding{Type: TypeSSN, Start: start, End: end, Confidence: conf, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// PhoneDetector finds phone and fax numbers.
//
// North American (NANP) numbers count anywhere: "(555) 123-4567",
// "555-123-4567", "555.123.4567", "+1 555 123 4567", "1-555-123-4567",
// "+15551234567", with an optional extension ("x123", "ext. 123"). Ten
// bare digits count only after a phone cue.
//
// Other numbers are read as groups of digits joined by single spaces,
// dashes or dots, with 7 to 15 digits in all (the ITU-T E.164 maximum):
//   - with an international prefix, "+44 20 7946 0958", "+41 (0)96 471 07
//     95", "0044 161 496 0000", "001-518-640-0854", anywhere;
//   - with a trunk prefix 0 and 9 to 12 digits in groups of at least two,
//     "0161 496 0000", "079 2718 1155", "(0151) 496 0123", anywhere;
//   - in any other grouping ("699 956 915", "28-64-66-98") only after a
//     phone cue or before a label such as "office", "mobile" or "fax",
//     except three, two and four digits ("219-09-9999"), the grouping of
//     an SSN, which needs a country code.
//
// A phone cue counts only when no SSN cue or identifier label comes
// between it and the number, so the nearest cue decides the type.
//
// A number is typed FAX when "fax" is the nearest cue before it, or the
// label after it.
//
// Numbers whose area code or exchange starts with 0 or 1 are not valid
// NANP numbers, but formatted ones are still reported at lower confidence
// because they are common placeholders in clinical text.
type PhoneDetector struct{}

// phoneCues are the words that mark a number as a phone or fax number.
// faxCue is the index of "fax".
var phoneCues = newCueList("phone", "telephone", "tel", "cell", "mobile", "call", "called", "contact", "ph", "pager", "fax", "desk", "landline", "answering", "messages to", "registered", "dial", "reach")

const faxCue = 10

// phoneLabels are the words that, right after a number, name it a phone
// or fax number ("416 60 039 office", "07700 063 966-Fax").
var phoneLabels = []string{"office", "mobile", "cell", "home", "work", "desk", "fax"}

// Name returns "phone".
func (PhoneDetector) Name() string { return "phone" }

// Detect appends the phone and fax numbers in text to dst.
func (d PhoneDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setPhoneStart,
// through ix when it is not nil.
func (d PhoneDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setPhoneStart, 0); i < len(text); i = ix.next(text, setPhoneStart, i+1) {
		c := text[i]
		if c != '(' && c != '+' && !isDigit(c) {
			continue
		}
		if i > 0 && isAlnum(text[i-1]) {
			continue
		}
		if isDigit(c) && !digitStart(text, i) || !digitRunHas(text, i, 7) {
			continue
		}

		end, bare, valid, spaced := parsePhone(text, i)
		if end < 0 {
			if intlEnd, conf, typ := intlPhone(ix, text, i); intlEnd > 0 {
				dst = append(dst, Finding{Type: typ, Start: i, End: intlEnd, Confidence: conf, Detector: d.Name()})
				i = intlEnd - 1
				continue
			}
			if splitEnd, typ := splitPhoneEnd(ix, text, i); splitEnd > 0 {
				dst = append(dst, Finding{Type: typ, Start: i, End: splitEnd, Confidence: confHigh, Detector: d.Name()})
				i = splitEnd - 1
			}
			continue
		}
		cue := phoneCueBefore(ix, text, i)
		var conf float64
		switch {
		case cue >= 0:
			conf = confContext
		case bare:
			continue
		case !valid:
			conf = confLow + 0.1
		case spaced:
			conf = confMedium
		default:
			conf = confHigh
		}
		typ := TypePhone
		if cue == faxCue {
			typ = TypeFax
		}
		dst = append(dst, Finding{Type: typ, Start: i, End: end, Confidence: conf, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

func isPhoneSep(c byte) bool { return c == '-' || c == '.' || c == ' ' }

// digitRunHas reports whether at least n digits follow position i inside
// a run of digits, spaces, '-', '.', '(', ')' and '+' with at most three
// non-digits in a row. Every phone number (seven digits or more) and SSN
// (nine) that the detectors read has its first digits inside such a run,
// so the parsers are skipped for the many short numbers of clinical text
// ("500 mg", "14.2").
func digitRunHas(text string, i, n int) bool {
	digits, gap := 0, 0
	for ; i < len(text); i++ {
		switch digitRunByte[text[i]] {
		case digitRunDigit:
			digits++
			if digits >= n {
				return true
			}
			gap = 0
		case digitRunGap:
			gap++
			if gap > 3 {
				return false
			}
		default:
			return false
		}
	}
	return false
}

// The kinds of byte in a run of digits that digitRunHas reads.
const (
	digitRunEnd = iota
	digitRunDigit
	// digitRunGap is a separator that may stand between the digits of a
	// phone, SSN or card number: ' ', '-', '.', '(', ')' or '+'.
	digitRunGap
)

// digitRunByte holds the kind of each byte value for digitRunHas, so that
// one table read replaces the comparisons in its loop.
var digitRunByte = func() (t [256]uint8) {
	for c := range t {
		switch b := byte(c); {
		case isDigit(b):
			t[c] = digitRunDigit
		case b == ' ' || b == '-' || b == '.' || b == '(' || b == ')' || b == '+':
			t[c] = digitRunGap
		}
	}
	return t
}()

// phoneCueBefore returns the index in phoneCues of the phone cue nearest
// before the number at i, or -1. A cue counts only when no SSN cue or
// identifier label comes between it and the number: in "call the tool
// with ssn 219-09-9999" the number is an SSN.
func phoneCueBefore(ix *textIndex, text string, i int) int {
	cue, at := cueStartBefore(ix, text, i, cueWindow+10, phoneCues)
	if cue < 0 || identifierCueAfter(ix, text, at, i) {
		return -1
	}
	return cue
}

// ssnGrouping reports whether text[i:] is a number of three, two and four
// digits joined by single separators, the grouping of an SSN. No national
// numbering plan that intlPhone accepts without a country code writes a
// nine-digit number this way, so it is read as a phone number only after
// "+" or "00" and a country code.
func ssnGrouping(text string, i int) bool {
	if digitsAt(text, i) != 3 || i+11 > len(text) || !isPhoneSep(text[i+3]) {
		return false
	}
	if digitsAt(text, i+4) != 2 || !isPhoneSep(text[i+6]) || digitsAt(text, i+7) != 4 {
		return false
	}
	return digitEnd(text, i+11)
}

// splitPhoneEnd returns the end and type of a phone or fax number at i
// whose digits are split into irregular groups ("5 5 5 1 2 3 4 5 6 7",
// "55 51 23 45 67") after a phone cue, or end -1. Ten digits, or eleven
// starting with 1, are required.
func splitPhoneEnd(ix *textIndex, text string, i int) (int, Type) {
	if !isDigit(text[i]) {
		return -1, ""
	}
	end, digits, groups := splitDigits(text, i, 11)
	if groups < 3 || (digits != 10 && (digits != 11 || text[i] != '1')) {
		return -1, ""
	}
	cue := phoneCueBefore(ix, text, i)
	if cue < 0 {
		return -1, ""
	}
	if cue == faxCue {
		return end, TypeFax
	}
	return end, TypePhone
}

// splitSSNEnd returns the end of an SSN whose nine digits are split into
// irregular groups ("9 9 9 1 2 3 4 5 6", "99-912-3456") at i after an SSN
// cue, or -1.
func splitSSNEnd(ix *textIndex, text string, i int) int {
	end, digits, groups := splitDigits(text, i, 9)
	if digits != 9 || groups < 3 || cueBefore(ix, text, i, cueWindow, ssnCues) < 0 {
		return -1
	}
	return end
}

// splitDigits reads groups of one to four digits starting at i, separated
// by runs of at most three spaces, dashes or dots, and returns the end of
// the last group, the number of digits and the number of groups. It stops
// once more than maxDigits digits are read and then returns end -1, as it
// does when the groups do not end a number.
func splitDigits(text string, i, maxDigits int) (end, digits, groups int) {
	j := i
	for {
		n := digitsAt(text, j)
		if n == 0 || n > 4 {
			return -1, 0, 0
		}
		digits += n
		groups++
		j += n
		end = j
		if digits > maxDigits {
			return -1, 0, 0
		}

		k := j
		for k < len(text) && k-j < 3 && isPhoneSep(text[k]) {
			k++
		}
		if k == j || k >= len(text) || !isDigit(text[k]) {
			break
		}
		j = k
	}
	if !digitEnd(text, end) {
		return -1, 0, 0
	}
	return end, digits, groups
}

// parsePhone parses a NANP number starting at i and returns its end, or -1.
// bare reports ten digits with no separators and no "+1" prefix. valid
// reports a NANP-valid area code and exchange. spaced reports that only
// spaces separate the groups, as they do in plain lists of numbers.
func parsePhone(text string, i int) (end int, bare, valid, spaced bool) {
	j := i
	plus := false
	switch {
	case text[j] == '+':
		if j+1 >= len(text) || text[j+1] != '1' {
			return -1, false, false, false
		}
		plus = true
		j += 2
		if j < len(text) && isPhoneSep(text[j]) {
			j++
		}
	case text[j] == '1' && j+2 < len(text) && isPhoneSep(text[j+1]) && (isDigit(text[j+2]) || text[j+2] == '('):
		if digitsAt(text, j) == 1 {
			j += 2
		}
	}

	spaced = true
	areaStart := j
	switch {
	case j < len(text) && text[j] == '(':
		if digitsAt(text, j+1) != 3 || j+4 >= len(text) || text[j+4] != ')' {
			return -1, false, false, false
		}
		areaStart = j + 1
		j += 5
		if j < len(text) && text[j] == ' ' {
			j++
		}
		spaced = false
	case digitsAt(text, j) == 10:
		end = j + 10
		if !digitEnd(text, end) {
			return -1, false, false, false
		}
		return end, !plus, nanpValid(text[j:j+3], text[j+3:j+6]), false
	case digitsAt(text, j) == 3 && j+3 < len(text) && isPhoneSep(text[j+3]):
		spaced = text[j+3] == ' '
		j += 4
	default:
		return -1, false, false, false
	}

	exchangeStart := j
	if digitsAt(text, j) != 3 || j+3 >= len(text) || !isPhoneSep(text[j+3]) {
		return -1, false, false, false
	}
	spaced = spaced && text[j+3] == ' '
	j += 4
	if digitsAt(text, j) != 4 {
		return -1, false, false, false
	}
	j += 4
	if ext := extensionEnd(text, j); ext > j {
		j = ext
	} else if !digitEnd(text, j) {
		return -1, false, false, false
	}
	valid = nanpValid(text[areaStart:areaStart+3], text[exchangeStart:exchangeStart+3])
	return j, false, valid, spaced
}

// extensionEnd returns the end of an extension such as " x123" or
// " ext. 1234" that starts at i, or i when there is none.
func extensionEnd(text string, i int) int {
	j := i
	if j < len(text) && text[j] == ' ' {
		j++
	}
	switch {
	case hasPrefixFold(text, j, "ext."):
		j += 4
	case hasPrefixFold(text, j, "ext"):
		j += 3
	case hasPrefixFold(text, j, "x"):
		j++
	default:
		return i
	}
	if j < len(text) && text[j] == ' ' {
		j++
	}
	n := digitsAt(text, j)
	if n == 0 || n > 5 || !digitEnd(text, j+n) {
		return i
	}
	return j + n
}

// intlPhone reads a phone number in an international or national format
// other than NANP at i and returns its end, confidence and type, or end
// -1. See PhoneDetector for the shapes it accepts.
func intlPhone(ix *textIndex, text string, i int) (int, float64, Type) {
	g, ok := readPhoneGroups(text, i)
	if !ok || g.digits < 7 || g.digits > 15 || !g.international && ssnGrouping(text, i) {
		return -1, 0, ""
	}
	end := g.end
	if ext := extensionEnd(text, end); ext > end {
		end = ext
	} else if !digitEnd(text, end) {
		return -1, 0, ""
	}

	cue := phoneCueBefore(ix, text, i)
	label := phoneLabelAfter(text, end)
	typ := TypePhone
	if label == "fax" || label == "" && cue == faxCue {
		typ = TypeFax
	}
	switch {
	case cue >= 0 || label != "":
		return end, confContext, typ
	case g.international:
		return end, confMedium, typ
	case g.trunk && g.digits >= 9 && g.digits <= 12 && g.shortest >= 2 && g.groups >= 2 && !ssnShape(text, i):
		return end, confLow + 0.1, typ
	}
	return -1, 0, ""
}

// ssnShape reports whether text[i:] starts with "ddd-dd-dddd", the shape
// of an SSN, which a leading 0 must not turn into a phone number.
func ssnShape(text string, i int) bool {
	return digitsAt(text, i) == 3 && i+11 <= len(text) && text[i+3] == '-' && digitsAt(text, i+4) == 2 && text[i+6] == '-' && digitsAt(text, i+7) == 4
}

// phoneGroups describes the digit groups of a candidate phone number.
type phoneGroups struct {
	end, digits, groups int
	// shortest is the length of the shortest group.
	shortest int
	// international marks a "+" or "00" prefix and trunk a leading 0.
	international, trunk bool
}

// readPhoneGroups reads "+CC", "00CC" or "(area)" and the digit groups
// after it, joined by one space, dash or dot, or by " (0) " after a
// country code. A group has at most 12 digits, which admits
// "+447700677662".
func readPhoneGroups(text string, i int) (phoneGroups, bool) {
	g := phoneGroups{shortest: 99}
	j := i
	switch {
	case text[j] == '+':
		if j+1 >= len(text) || !isDigit(text[j+1]) || text[j+1] == '0' {
			return g, false
		}
		g.international = true
		j++
	case text[j] == '(':
		n := digitsAt(text, j+1)
		if n < 2 || n > 5 || j+n+1 >= len(text) || text[j+n+1] != ')' {
			return g, false
		}
		g.trunk = text[j+1] == '0'
		g.digits, g.groups, g.shortest = n, 1, n
		j += n + 2
		if j < len(text) && text[j] == ' ' {
			j++
		}
	case hasPrefixFold(text, j, "00") && j+2 < len(text) && isDigit(text[j+2]) && text[j+2] != '0':
		g.international = true
		j += 2
	case text[j] == '0':
		g.trunk = true
	}

	for {
		n := digitsAt(text, j)
		if n == 0 || n > 12 {
			return g, false
		}
		g.digits += n
		g.groups++
		g.shortest = min(g.shortest, n)
		j += n
		g.end = j
		if g.digits > 15 {
			return g, false
		}
		next, ok := phoneSepEnd(text, j, g.international && g.groups == 1)
		if !ok {
			break
		}
		j = next
	}
	return g, true
}

// phoneSepEnd returns where the next group starts after the separator at
// i, and false when no group follows. trunkAllowed admits " (0) " or
// " (0)" after a country code.
func phoneSepEnd(text string, i int, trunkAllowed bool) (int, bool) {
	j := i
	if j < len(text) && isPhoneSep(text[j]) {
		j++
	}
	if trunkAllowed && hasPrefixFold(text, j, "(0)") {
		j += 3
		if j < len(text) && text[j] == ' ' {
			j++
		}
	}
	if j == i || j >= len(text) || !isDigit(text[j]) {
		return i, false
	}
	return j, true
}

// phoneLabelAfter returns the phone label in phoneLabels that follows the
// number ending at i after a space or a dash, or "".
func phoneLabelAfter(text string, i int) string {
	if i+1 >= len(text) || text[i] != ' ' && text[i] != '-' {
		return ""
	}
	w := wordEnd(text, i+1)
	word := text[i+1 : w]
	for _, label := range phoneLabels {
		if equalFold(word, label) {
			return label
		}
	}
	return ""
}

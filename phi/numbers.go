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
var ssnCues = []string{"ssn", "social security", "ss#", "ss #", "soc sec", "ss no"}

// Name returns "ssn".
func (SSNDetector) Name() string { return "ssn" }

// Detect appends the SSNs in text to dst.
func (d SSNDetector) Detect(text string, dst []Finding) []Finding {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) {
			continue
		}
		n := digitsAt(text, i)
		start := i
		i += n - 1
		if !digitStart(text, start) {
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
			if splitEnd := splitSSNEnd(text, start); splitEnd > 0 {
				dst = append(dst, Finding{Type: TypeSSN, Start: start, End: splitEnd, Confidence: confHigh, Detector: d.Name()})
				i = splitEnd - 1
			}
			continue
		}

		valid := area != "000" && area != "666" && group != "00" && serial != "0000"
		issuable := ssnIssuable(atoi(area), atoi(group), atoi(serial))
		labelled := cueBefore(text, start, cueWindow, ssnCues) >= 0
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

// PhoneDetector finds North American (NANP) phone and fax numbers:
// "(555) 123-4567", "555-123-4567", "555.123.4567", "+1 555 123 4567",
// "1-555-123-4567", "+15551234567", with an optional extension
// ("x123", "ext. 123"). Ten bare digits count only after a phone cue.
// A number is typed FAX when "fax" is the nearest cue before it.
//
// Numbers whose area code or exchange starts with 0 or 1 are not valid
// NANP numbers, but formatted ones are still reported at lower confidence
// because they are common placeholders in clinical text.
type PhoneDetector struct{}

// phoneCues are the words that mark a number as a phone or fax number.
// faxCue is the index of "fax".
var phoneCues = []string{"phone", "telephone", "tel", "cell", "mobile", "call", "called", "contact", "ph", "pager", "fax"}

const faxCue = 10

// Name returns "phone".
func (PhoneDetector) Name() string { return "phone" }

// Detect appends the phone and fax numbers in text to dst.
func (d PhoneDetector) Detect(text string, dst []Finding) []Finding {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '(' && c != '+' && !isDigit(c) {
			continue
		}
		if i > 0 && isAlnum(text[i-1]) {
			continue
		}
		if isDigit(c) && !digitStart(text, i) {
			continue
		}

		end, bare, valid, spaced := parsePhone(text, i)
		if end < 0 {
			if splitEnd, typ := splitPhoneEnd(text, i); splitEnd > 0 {
				dst = append(dst, Finding{Type: typ, Start: i, End: splitEnd, Confidence: confHigh, Detector: d.Name()})
				i = splitEnd - 1
			}
			continue
		}
		cue := cueBefore(text, i, cueWindow+10, phoneCues)
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

// splitPhoneEnd returns the end and type of a phone or fax number at i
// whose digits are split into irregular groups ("5 5 5 1 2 3 4 5 6 7",
// "55 51 23 45 67") after a phone cue, or end -1. Ten digits, or eleven
// starting with 1, are required.
func splitPhoneEnd(text string, i int) (int, Type) {
	if !isDigit(text[i]) {
		return -1, ""
	}
	end, digits, groups := splitDigits(text, i, 11)
	if groups < 3 || (digits != 10 && (digits != 11 || text[i] != '1')) {
		return -1, ""
	}
	cue := cueBefore(text, i, cueWindow+10, phoneCues)
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
func splitSSNEnd(text string, i int) int {
	end, digits, groups := splitDigits(text, i, 9)
	if digits != 9 || groups < 3 || cueBefore(text, i, cueWindow, ssnCues) < 0 {
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
	if !digitEnd(text, j) {
		return -1, false, false, false
	}
	j = extensionEnd(text, j)
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

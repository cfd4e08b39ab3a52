package phi

// AgeDetector finds ages over 89, which HIPAA Safe Harbor lists with the
// date elements, so they are reported as TypeDate. It reads a number from
// 90 to 129 followed by an age unit ("92-year-old", "92 year old", "95
// years old", "95 yo", "95yo", "95 y/o", "95 y.o.", "95 years of age") or
// preceded by an age label ("aged 93", "age: 95", "age 101"). With a unit
// the span covers the number and the unit; after a label only the number.
// Ages of 89 and under are not PHI and are never reported.
type AgeDetector struct{}

// Name returns "age_over_89".
func (AgeDetector) Name() string { return "age_over_89" }

// ageUnits follow the number, lowercase, longest first among those that
// share a prefix. A leading '-' or ' ' is matched as written.
var ageUnits = []string{
	"-year-old", " year-old", " year old", "-year old", " years old",
	"-years-old", " years-old", " years of age", " yrs old", " yr old",
	"-yr-old", " y/o", "y/o", " y.o.", "y.o.", " yo", "yo", "-yo", " yof",
	"yof", " yom", "yom",
}

// ageLabels precede the number, lowercase, with the separator that ends
// them.
var ageLabels = []string{"aged ", "age ", "age: ", "age:", "age of "}

// Detect appends the ages over 89 in text to dst.
func (d AgeDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setNumberStart,
// through ix when it is not nil.
func (d AgeDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setNumberStart, 0); i < len(text); i = ix.next(text, setNumberStart, i+1) {
		if text[i] != '9' && text[i] != '1' {
			continue
		}
		n := digitsAt(text, i)
		start := i
		i += n - 1
		if n < 2 || n > 3 || start > 0 && (isAlnum(text[start-1]) || text[start-1] == '.' || text[start-1] == '/') {
			continue
		}
		if age := atoi(text[start : start+n]); age < 90 || age > 129 {
			continue
		}
		end := start + n
		if unit := ageUnitEnd(text, end); unit > end {
			dst = append(dst, Finding{Type: TypeDate, Start: start, End: unit, Confidence: confHigh, Detector: d.Name()})
			i = unit - 1
			continue
		}
		if (end == len(text) || !isAlnum(text[end]) && (text[end] != '.' || end+1 == len(text) || !isDigit(text[end+1]))) && ageLabelBefore(text, start) {
			dst = append(dst, Finding{Type: TypeDate, Start: start, End: end, Confidence: confHigh, Detector: d.Name()})
		}
	}
	return dst
}

// ageUnitEnd returns the end of an age unit at i, or i. The unit must end
// the word.
func ageUnitEnd(text string, i int) int {
	for _, u := range ageUnits {
		if !hasPrefixFold(text, i, u) {
			continue
		}
		end := i + len(u)
		if end < len(text) && isLetter(text[end]) && isLetter(u[len(u)-1]) {
			continue
		}
		return end
	}
	return i
}

// ageLabelBefore reports whether an age label ends right before i.
func ageLabelBefore(text string, i int) bool {
	for _, l := range ageLabels {
		j := i - len(l)
		if j < 0 || !hasPrefixFold(text, j, l) {
			continue
		}
		if j > 0 && isLetter(text[j-1]) {
			continue
		}
		return true
	}
	return false
}

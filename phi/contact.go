package phi

import "strings"

// EmailDetector finds email addresses: a local part of letters, digits and
// "._%+-", an "@", and a domain of at least two labels whose last label
// (the top-level domain) has two or more letters.
type EmailDetector struct{}

// Name returns "email".
func (EmailDetector) Name() string { return "email" }

// Detect appends the email addresses in text to dst.
func (d EmailDetector) Detect(text string, dst []Finding) []Finding {
	last := 0
	for off := 0; off < len(text); {
		k := strings.IndexByte(text[off:], '@')
		if k < 0 {
			break
		}
		at := off + k
		off = at + 1

		start := at
		for start > last && isLocalPartByte(text[start-1]) {
			start--
		}
		for start < at && text[start] == '.' {
			start++
		}
		if start == at {
			continue
		}
		end := domainEnd(text, at+1)
		if end < 0 {
			continue
		}
		dst = append(dst, Finding{Type: TypeEmail, Start: start, End: end, Confidence: confContext, Detector: d.Name()})
		last, off = end, end
	}
	return dst
}

func isLocalPartByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// domainEnd returns the end of the domain name that starts at i, or -1 when
// no valid domain starts there. A trailing dot ends the sentence, not the
// domain.
func domainEnd(text string, i int) int {
	labels := 0
	lastLabel := i
	j := i
	for {
		k := j
		for k < len(text) && (isAlnum(text[k]) || text[k] == '-') {
			k++
		}
		if k == j || k-j > 63 || text[j] == '-' || text[k-1] == '-' {
			break
		}
		labels++
		lastLabel = j
		j = k
		if j+1 < len(text) && text[j] == '.' && isAlnum(text[j+1]) {
			j++
			continue
		}
		break
	}
	if labels < 2 || j-lastLabel < 2 {
		return -1
	}
	for k := lastLabel; k < j; k++ {
		if !isLetter(text[k]) {
			return -1
		}
	}
	return j
}

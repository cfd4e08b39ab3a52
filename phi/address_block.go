package phi

// The rest of a postal address after the street: unit, town, state or
// region code, postal code and country, on the same line after commas or
// on the lines below, as letters and forms write them:
//
//	808 Kálmán Imre u. 12.
//	 Apt. 762
//	 Zalakaros
//	 Hungary 06554
//
// and "450 Præstevænget 15, København V". A labelled address ("Address:",
// "Billing address:") and a unit line under a line with a house number
// open such a block even when the street itself has no known shape.

// maxTailParts bounds the parts read after a street: unit, town, region,
// postal code and country, with one to spare.
const maxTailParts = 6

// maxTailPartLen bounds one part in bytes. Town names are short, and a
// longer line is a sentence, not part of an address.
const maxTailPartLen = 40

// appendPostalTail reports the postal parts that follow a street address
// ending at i and returns the extended dst, the new end of the address
// and the end of the last part. A unit extends the address. A town,
// region or country is a LOCATION and a postal code a ZIP. A US state
// alone is left out, because Safe Harbor allows it.
func appendPostalTail(text string, i int, dst []Finding, detector string) (out []Finding, addressEnd, end int) {
	addressEnd, end = i, i
	for parts := 0; parts < maxTailParts; parts++ {
		j, newline := tailSeparatorEnd(text, end)
		if j < 0 {
			break
		}
		partEnd, placeEnd, kind := tailPartEnd(text, j, newline)
		switch kind {
		case partNone:
			return dst, addressEnd, end
		case partUnit:
			if addressEnd == end {
				addressEnd = partEnd
			}
		case partPostcode:
			dst = append(dst, Finding{Type: TypeZIP, Start: j, End: partEnd, Confidence: confMedium, Detector: detector})
		case partPlace:
			if !isStateName(text[j:placeEnd]) {
				dst = append(dst, Finding{Type: TypeLocation, Start: j, End: placeEnd, Confidence: confMedium, Detector: detector})
			}
			if placeEnd < partEnd {
				zipStart := placeEnd + 1
				if r := regionCodeEnd(text, zipStart); r > zipStart {
					dst = append(dst, Finding{Type: TypeLocation, Start: zipStart, End: r, Confidence: confMedium, Detector: detector})
					zipStart = r + 1
				}
				dst = append(dst, Finding{Type: TypeZIP, Start: zipStart, End: partEnd, Confidence: confMedium, Detector: detector})
			}
		}
		end = partEnd
	}
	return dst, addressEnd, end
}

// isStateName reports whether s is a US state code or name.
func isStateName(s string) bool {
	if len(s) == 2 && isUpper(s[0]) && isUpper(s[1]) {
		for k := 0; k+2 <= len(usStates); k += 3 {
			if usStates[k] == s[0] && usStates[k+1] == s[1] {
				return true
			}
		}
		return false
	}
	return inWordSet(usStateNames, s)
}

// tailSeparatorEnd returns where the next part starts after ", " or a line
// break at i, skipping the indentation and quote markers (see
// isQuoteMarker) of the next line, and whether a line break separates them. One blank line may
// separate the parts of a block. It returns -1 when no separator is
// there.
func tailSeparatorEnd(text string, i int) (int, bool) {
	j := i
	if j < len(text) && text[j] == ',' {
		j = skipSpaces(text, j+1)
		if j < len(text) && text[j] != '\n' && text[j] != '\r' {
			if j == i+1 {
				return -1, false
			}
			return j, false
		}
	}
	j = skipSpaces(text, j)
	breaks := 0
	for j < len(text) && (text[j] == '\n' || text[j] == '\r') && breaks < 3 {
		if text[j] == '\n' {
			breaks++
		}
		j++
		for j < len(text) && (text[j] == ' ' || text[j] == '\t' || isQuoteMarker(text[j])) {
			j++
		}
	}
	if breaks == 0 || breaks > 2 || j >= len(text) {
		return -1, false
	}
	if j < len(text) && text[j] == ',' {
		// A form field left empty: "Colorado Springs\n, CO\n 70079".
		j = skipSpaces(text, j+1)
	}
	return j, true
}

type tailPart int

const (
	partNone tailPart = iota
	partUnit
	partPostcode
	partPlace
)

// tailPartEnd reads one part of a postal address at i and returns its end
// and kind. For a place followed by a postal code ("Hungary 06554") it
// also returns where the place ends; otherwise placeEnd is end. On its own
// line a part must fill the line; after a comma it ends at a comma, a line
// break or the end of a sentence.
func tailPartEnd(text string, i int, ownLine bool) (end, placeEnd int, kind tailPart) {
	if i >= len(text) {
		return i, i, partNone
	}
	if e := unitAt(text, i); e > i && isDigit(text[e-1]) && partEnds(text, e, ownLine) {
		return e, e, partUnit
	}
	if e := postcodeEnd(text, i); e > i && partEnds(text, e, ownLine) {
		return e, e, partPostcode
	}
	e := placePartEnd(text, i)
	if e <= i {
		return i, i, partNone
	}
	// "Hungary 06554", "SK 53650", "Cyprus (Greek) 51034".
	if e+1 < len(text) && text[e] == ' ' {
		if p := postcodeEnd(text, e+1); p > e+1 && partEnds(text, p, ownLine) {
			return p, e, partPlace
		}
		// A town, a region code of any case and a postal code on their
		// own line: "ASKER nan 1386", "Lund ab 223 50".
		if r := regionCodeEnd(text, e+1); ownLine && r > e+1 && r+1 < len(text) && text[r] == ' ' {
			if p := postcodeEnd(text, r+1); p > r+1 && partEnds(text, p, true) {
				return p, e, partPlace
			}
		}
	}
	if !partEnds(text, e, ownLine) {
		return i, i, partNone
	}
	return e, e, partPlace
}

// regionCodeEnd returns the end of a region code at i, two or three ASCII
// letters in any case followed by a space, or i. Some exports write an
// empty region as "nan", which takes the region's place.
func regionCodeEnd(text string, i int) int {
	e := i
	for e < len(text) && isLetter(text[e]) && e-i < 4 {
		e++
	}
	if e-i < 2 || e-i > 3 || e >= len(text) || text[e] != ' ' {
		return i
	}
	return e
}

// partEnds reports whether a part may end at i: at the end of the text or
// its line, or, after a comma, also at a comma or a sentence end.
func partEnds(text string, i int, ownLine bool) bool {
	j := skipSpaces(text, i)
	if j >= len(text) || text[j] == '\n' || text[j] == '\r' {
		return true
	}
	switch text[j] {
	case ',':
		return true
	case '.', '?', '!', ';', ')':
		return !ownLine || j+1 >= len(text) || text[j+1] == '\n' || text[j+1] == ' '
	}
	return false
}

// postcodeEnd returns the end of a postal code at i: three to six digits,
// optionally in two groups joined by a space or a hyphen ("53-320", "340
// 12", "3610-114"), or i.
func postcodeEnd(text string, i int) int {
	if !digitStart(text, i) {
		return i
	}
	n := digitsAt(text, i)
	if n < 2 || n > 6 {
		return i
	}
	end := i + n
	if end+1 < len(text) && (text[end] == '-' || text[end] == ' ') {
		if m := digitsAt(text, end+1); m >= 2 && m <= 4 && n+m <= 8 && (end+1+m == len(text) || !isAlnum(text[end+1+m])) {
			return end + 1 + m
		}
	}
	if n < 3 || end < len(text) && isAlnum(text[end]) {
		return i
	}
	return end
}

// placePartEnd returns the end of a town, region or country at i: one to
// four words of letters, each capitalized, all capitals or a lowercase
// particle ("Villafranca del Cid"), with an optional bracketed word
// ("Cyprus (Greek)"), in at most maxTailPartLen bytes. A lowercase word
// other than a particle is allowed only when the whole part is lowercase,
// as in text typed without capitals ("calgary alberta").
func placePartEnd(text string, i int) int {
	allLower := isLower(text[i])
	end := i
	j := i
	for words := 0; words < 4 && j < len(text); words++ {
		if text[j] == '(' {
			k := j + 1
			for k < len(text) && k-j < 20 && text[k] != ')' && text[k] != '\n' {
				k++
			}
			if k >= len(text) || text[k] != ')' {
				break
			}
			end = k + 1
		} else {
			w := letterRunEnd(text, j)
			for w+1 < len(text) && (text[w] == '-' || text[w] == '\'') && isNameLetter(text, w+1) {
				w = letterRunEnd(text, w+1)
			}
			if w == j {
				break
			}
			word := text[j:w]
			switch {
			case isNameStart(text, j):
			case inWordSet(placeParticles, word):
			case allLower && isLower(text[j]) && !isNameStopWord(word):
			default:
				return end
			}
			if w < len(text) && text[w] == '.' && w-j <= 3 {
				w++
			}
			end = w
		}
		if end-i > maxTailPartLen {
			return i
		}
		if end+1 >= len(text) || text[end] != ' ' {
			break
		}
		j = end + 1
	}
	if end > i && inWordSet(placeParticles, text[i:letterRunEnd(text, i)]) && !allLower {
		return i
	}
	return end
}

// isNameLetter reports whether a letter, ASCII or not, starts at i.
func isNameLetter(text string, i int) bool {
	return i < len(text) && letterRunEnd(text, i) > i
}

// unitLineAddress reports an address found from a unit line at i ("Suite
// 487" or "Apt. 931" alone on its line) under a line that holds a house
// number. It returns the start of the line above and the end of the unit,
// or ok false.
func unitLineAddress(text string, i int) (start, unit int, ok bool) {
	if !lineStart(text, i) {
		return 0, 0, false
	}
	e := unitAt(text, i)
	if e <= i || !isDigit(text[e-1]) || !partEnds(text, e, true) {
		return 0, 0, false
	}
	// The line above: "808 Kálmán Imre u. 12." or "Aqqusinersuaq 176
	// Pinto Hill", short and with a number.
	unitLine := i
	for unitLine > 0 && text[unitLine-1] != '\n' {
		unitLine--
	}
	if unitLine == 0 {
		return 0, 0, false
	}
	above := unitLine - 1
	if above > 0 && text[above-1] == '\r' {
		above--
	}
	lineBegin := above
	for lineBegin > 0 && text[lineBegin-1] != '\n' {
		lineBegin--
	}
	for lineBegin < above && (text[lineBegin] == ' ' || text[lineBegin] == '\t' || isQuoteMarker(text[lineBegin])) {
		lineBegin++
	}
	if above-lineBegin < 4 || above-lineBegin > 60 || !streetLine(text[lineBegin:above]) {
		return 0, 0, false
	}
	return lineBegin, e, true
}

// streetLine reports whether line can be the street line of a postal
// address: it holds a house number and a word of letters, and no colon,
// at sign or sentence end.
func streetLine(line string) bool {
	digits, letters := false, false
	for k := 0; k < len(line); k++ {
		c := line[k]
		switch {
		case isDigit(c):
			digits = true
		case isLetter(c) || c >= 0x80:
			letters = true
		case c == ':' || c == '@' || c == '?' || c == '!':
			return false
		}
	}
	return digits && letters
}

// labelledAddressStart returns where the address starts after an
// "address" label at i ("Address:", "address is", "Billing address:"),
// or -1. The address must open with a house number, on the label's line
// or the next.
func labelledAddressStart(text string, i, w int) int {
	if !equalFold(text[i:w], "address") {
		return -1
	}
	j := w
	switch {
	case j < len(text) && text[j] == ':':
		j++
	case hasPrefixFold(text, j, " is "):
		j += 4
	default:
		return -1
	}
	j = skipSpaces(text, j)
	if j < len(text) && text[j] == '\n' {
		j = skipSpaces(text, j+1)
	}
	if j >= len(text) || !digitStart(text, j) {
		return -1
	}
	return j
}

// labelledAddressEnd returns the end of the first line of a labelled
// address that starts at i: the rest of that line up to a sentence end,
// within 80 bytes, or -1.
func labelledAddressEnd(text string, i int) int {
	end := i
	for end < len(text) && end-i < 80 && text[end] != '\n' && text[end] != '\r' {
		if (text[end] == '?' || text[end] == '!' || text[end] == '.' && !isLetter(text[end-1])) && (end+1 == len(text) || text[end+1] == ' ') {
			break
		}
		end++
	}
	for end > i && text[end-1] == ' ' {
		end--
	}
	if end-i >= 80 {
		return -1
	}
	return end
}

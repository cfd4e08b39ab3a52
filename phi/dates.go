package phi

// DateDetector finds calendar dates: numeric ("04/12/2023", "4/12/23",
// "2023-04-12", "12-04-2023", "12.04.2023") and with a written month
// ("April 12, 2023", "Apr 12 2023", "12 April 2023", "March 5th, 2021",
// "Nov. 22nd, 2022", "Nov 11th '23", "April 12", "April 2023"), and
// capitalized full weekday names, alone ("on Tuesday morning") or before a
// date ("Monday, April 12, 2023").
//
// Under HIPAA Safe Harbor every date element except the year is PHI, so a
// year alone is never reported, while a month and year are. Numeric dates
// must be valid as month/day or as day/month. A month and day without a
// year ("4/12") count only after a date cue such as "DOB" or "seen", because
// fractions ("1/2 tab", "3/4 times") share that shape. A cue within
// cueWindow bytes before a date raises its confidence.
type DateDetector struct{}

// dateCues are the words that mark a nearby number as a date.
var dateCues = newCueList(
	"dob", "d.o.b.", "born", "date of birth", "birth date", "birthdate",
	"admitted", "admission", "admit", "discharged", "discharge", "died",
	"deceased", "death", "seen", "visit", "visited", "dos", "date of service",
)

// Name returns "date".
func (DateDetector) Name() string { return "date" }

// Detect appends the dates in text to dst.
func (d DateDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setDateStart,
// through ix when it is not nil.
func (d DateDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setDateStart, 0); i < len(text); i = ix.next(text, setDateStart, i+1) {
		c := text[i]
		var start, end int
		var conf float64
		switch {
		case isDigit(c):
			n := digitsAt(text, i)
			if !digitStart(text, i) {
				i += n - 1
				continue
			}
			start = i
			end, conf = numericDate(text, i)
			if end < 0 {
				i += n - 1
				continue
			}
		case isUpper(c) && (i == 0 || !isLetter(text[i-1])):
			start, end, conf = writtenDate(text, i)
			if end < 0 {
				start, end, conf = weekdayDate(text, i)
			}
			if end < 0 {
				i = ix.wordEnd(text, i) - 1
				continue
			}
		default:
			continue
		}

		if cueBefore(ix, text, start, cueWindow, dateCues) >= 0 {
			conf = min(conf+0.15, confContext)
		} else if conf < confLow {
			continue
		}
		dst = append(dst, Finding{Type: TypeDate, Start: start, End: end, Confidence: conf, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// numericDate parses a numeric date starting at i and returns its end and
// confidence, or -1. A month and day without a year get a confidence below
// confLow, which the caller keeps only after a date cue.
func numericDate(text string, i int) (int, float64) {
	n1 := digitsAt(text, i)
	j := i + n1
	if j+1 >= len(text) {
		return -1, 0
	}
	sep := text[j]
	if sep != '/' && sep != '-' && sep != '.' {
		return -1, 0
	}
	n2 := digitsAt(text, j+1)
	if n2 < 1 || n2 > 2 {
		return -1, 0
	}
	second := atoi(text[j+1 : j+1+n2])
	j += 1 + n2

	// Year first: 2023-04-12.
	if n1 == 4 {
		if j+1 >= len(text) || text[j] != sep {
			return -1, 0
		}
		n3 := digitsAt(text, j+1)
		if n3 < 1 || n3 > 2 {
			return -1, 0
		}
		end := j + 1 + n3
		year, day := atoi(text[i:i+4]), atoi(text[j+1:end])
		if !plausibleYear(year) || !validDay(year, second, day) || !digitEnd(text, end) {
			return -1, 0
		}
		return end, confHigh
	}
	if n1 > 2 {
		return -1, 0
	}
	first := atoi(text[i : i+n1])

	// Month and day only: 4/12. Dots and dashes here are decimals and
	// ranges far more often than dates.
	if j >= len(text) || text[j] != sep || j+1 >= len(text) || !isDigit(text[j+1]) {
		if sep != '/' || !digitEnd(text, j) || !validDay(0, first, second) {
			return -1, 0
		}
		return j, confLow - 0.1
	}

	n3 := digitsAt(text, j+1)
	end := j + 1 + n3
	if (n3 != 2 && n3 != 4) || (sep == '.' && n3 != 4) || !digitEnd(text, end) {
		return -1, 0
	}
	year := atoi(text[j+1 : end])
	if n3 == 4 && !plausibleYear(year) {
		return -1, 0
	}
	if n3 == 2 {
		year += 2000
	}
	if !validDay(year, first, second) && !validDay(year, second, first) {
		return -1, 0
	}
	if n3 == 2 && sep != '/' {
		return end, confMedium
	}
	return end, confHigh
}

// plausibleYear bounds four-digit years, so that "1500-3-2" or a dosage
// count is not read as a date.
func plausibleYear(year int) bool { return 1880 <= year && year <= 2099 }

// validDay reports whether day exists in month of year. A year of 0 means
// unknown and allows February 29.
func validDay(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [...]int{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year != 0 && !(year%4 == 0 && (year%100 != 0 || year%400 == 0)) {
		days = 28
	}
	return day <= days
}

// monthNames lists each month's full name and abbreviations, lowercase.
var monthNames = [12][]string{
	{"january", "jan"}, {"february", "feb"}, {"march", "mar"},
	{"april", "apr"}, {"may"}, {"june", "jun"}, {"july", "jul"},
	{"august", "aug"}, {"september", "sept", "sep"}, {"october", "oct"},
	{"november", "nov"}, {"december", "dec"},
}

// monthsByInitial lists, for each initial letter, the months (0-11) whose
// names start with it, so that monthOf compares a capitalized word with
// one to three months instead of twelve.
var monthsByInitial = func() (index [26][]int) {
	for m, names := range monthNames {
		initial := names[0][0] - 'a'
		index[initial] = append(index[initial], m)
	}
	return index
}()

// monthOf returns the month (1-12) that word names, or 0.
func monthOf(word string) int {
	if len(word) < 3 || !isLetter(word[0]) {
		return 0
	}
	for _, m := range monthsByInitial[lower(word[0])-'a'] {
		for _, name := range monthNames[m] {
			if equalFold(word, name) {
				return m + 1
			}
		}
	}
	return 0
}

// writtenDate parses a date around the capitalized word at i, which must
// name a month, and returns its span and confidence, or end -1. A day before
// the month ("12 April 2023", "5th of May") moves start back.
func writtenDate(text string, i int) (start, end int, conf float64) {
	if !isLetter(text[i]) || len(monthsByInitial[lower(text[i])-'a']) == 0 {
		// No month starts with this letter.
		return i, -1, 0
	}
	wend := wordEnd(text, i)
	month := monthOf(text[i:wend])
	if month == 0 {
		return i, -1, 0
	}
	monthEnd := wend
	if wend-i <= 4 && wend < len(text) && text[wend] == '.' {
		monthEnd++
	}

	// Month first: "April 12, 2023", "Nov. 22nd", "Jan 22, '24".
	if dayStart := skipSpaces(text, monthEnd); dayStart > monthEnd {
		if day, dayEnd := parseDay(text, dayStart); day > 0 && validDay(0, month, day) {
			if yearEnd := yearAfter(text, dayEnd, true); yearEnd > 0 {
				return i, yearEnd, confHigh
			}
			return i, dayEnd, confMedium
		}
	}

	// Day, month and year joined by dashes: "17-Feb-2023".
	if start, end := dashedDate(text, i, wend, month); end > 0 {
		return start, end, confHigh
	}

	// Day first: "12 April 2023", "11th March", "5th of May, 2021".
	if dayStart := dayBefore(text, i); dayStart >= 0 {
		day, _ := parseDay(text, dayStart)
		if validDay(0, month, day) {
			if yearEnd := yearAfter(text, monthEnd, true); yearEnd > 0 {
				return dayStart, yearEnd, confHigh
			}
			return dayStart, monthEnd, confMedium
		}
	}

	// Month and year: "April 2023", "March of 2022".
	if yearEnd := yearAfter(text, monthEnd, false); yearEnd > 0 {
		return i, yearEnd, confLow + 0.1
	}
	return i, -1, 0
}

// weekdayNames lists the full weekday names, lowercase. Abbreviations are
// left out because "Sat", "Sun" and "Wed" are also English words.
var weekdayNames = [...]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// isWeekday reports whether word is a full weekday name in any case.
func isWeekday(word string) bool {
	// Every name is "day" after a stem of three to six letters.
	if len(word) < 6 || len(word) > 9 || !equalFold(word[len(word)-3:], "day") {
		return false
	}
	for _, name := range weekdayNames {
		if equalFold(word, name) {
			return true
		}
	}
	return false
}

// weekdayDate parses a date that opens with the capitalized weekday name
// at i and returns its span and confidence, or end -1. A date that follows
// the weekday ("Monday, April 12, 2023", "Friday 04/12/2023") joins its
// span. A weekday alone ("on Tuesday morning") gets confMedium: Safe
// Harbor does not list it as a date element, but next to a place or an
// event it narrows the date of a visit.
func weekdayDate(text string, i int) (start, end int, conf float64) {
	wend := wordEnd(text, i)
	if !isWeekday(text[i:wend]) {
		return i, -1, 0
	}
	j := wend
	if j < len(text) && text[j] == ',' {
		j++
	}
	if k := skipSpaces(text, j); k > j && k < len(text) {
		if dateEnd, dateConf := dateAt(text, k); dateEnd > 0 {
			return i, dateEnd, dateConf
		}
	}
	return i, wend, confMedium
}

// dateAt returns the end and confidence of a numeric or written date that
// starts exactly at k, or end -1.
func dateAt(text string, k int) (int, float64) {
	if isUpper(text[k]) {
		if start, end, conf := writtenDate(text, k); end > 0 && start == k {
			return end, conf
		}
		return -1, 0
	}
	if !isDigit(text[k]) {
		return -1, 0
	}
	if end, conf := numericDate(text, k); end > 0 && conf >= confLow {
		return end, conf
	}
	// Day first: "12 April 2023". The month word after the day finds the
	// day through dayBefore.
	_, dayEnd := parseDay(text, k)
	m := skipSpaces(text, dayEnd)
	if dayEnd == k || m == dayEnd || m >= len(text) || !isUpper(text[m]) {
		return -1, 0
	}
	if start, end, conf := writtenDate(text, m); end > 0 && start == k {
		return end, conf
	}
	return -1, 0
}

// dashedDate parses a "17-Feb-2023" or "17-Feb-23" date around the month
// word text[i:wend] and returns its span, or end -1.
func dashedDate(text string, i, wend, month int) (start, end int) {
	if i < 2 || text[i-1] != '-' || wend >= len(text) || text[wend] != '-' {
		return i, -1
	}
	start = i - 1
	for start > 0 && isDigit(text[start-1]) && i-1-start < 2 {
		start--
	}
	if start == i-1 || !digitStart(text, start) || !validDay(0, month, atoi(text[start:i-1])) {
		return i, -1
	}
	n := digitsAt(text, wend+1)
	end = wend + 1 + n
	if (n != 2 && n != 4) || !digitEnd(text, end) || (n == 4 && !plausibleYear(atoi(text[wend+1:end]))) {
		return i, -1
	}
	return start, end
}

func skipSpaces(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i
}

// parseDay parses a day of one or two digits with an optional ordinal
// suffix ("5", "22nd") at i and returns it and its end, or day 0.
func parseDay(text string, i int) (day, end int) {
	n := digitsAt(text, i)
	if n < 1 || n > 2 {
		return 0, i
	}
	end = i + n
	if end+2 <= len(text) {
		suffix := text[end : end+2]
		if equalFold(suffix, "st") || equalFold(suffix, "nd") || equalFold(suffix, "rd") || equalFold(suffix, "th") {
			end += 2
		}
	}
	if end < len(text) && isAlnum(text[end]) || !digitEnd(text, end) {
		return 0, i
	}
	return atoi(text[i : i+n]), end
}

// yearAfter returns the end of a year that follows i after an optional
// comma and spaces ("2023", "'23"), or -1. With "of" allowed, "of 2023"
// counts too, which a month-year date uses.
func yearAfter(text string, i int, apostrophe bool) int {
	j := i
	if j < len(text) && text[j] == ',' {
		j++
	}
	k := skipSpaces(text, j)
	if k == j && (k >= len(text) || text[k] != '\'') {
		return -1
	}
	if !apostrophe && hasPrefixFold(text, k, "of ") {
		k = skipSpaces(text, k+3)
	}
	if apostrophe && k < len(text) && text[k] == '\'' {
		if digitsAt(text, k+1) == 2 && digitEnd(text, k+3) {
			return k + 3
		}
		return -1
	}
	if digitsAt(text, k) != 4 || !digitEnd(text, k+4) || !plausibleYear(atoi(text[k:k+4])) {
		return -1
	}
	return k + 4
}

// dayBefore returns the start of a day number that precedes the month word
// at i ("12 April", "11th March", "5th of May"), or -1.
func dayBefore(text string, i int) int {
	j := i
	if j == 0 || text[j-1] != ' ' {
		return -1
	}
	j--
	if j >= 3 && text[j-3:j] == " of" {
		j -= 3
	}
	end := j
	if end >= 2 && isLetter(text[end-1]) {
		end -= 2
	}
	start := end
	for start > 0 && isDigit(text[start-1]) && end-start < 3 {
		start--
	}
	if start == end || !digitStart(text, start) {
		return -1
	}
	if day, dayEnd := parseDay(text, start); day == 0 || dayEnd != j {
		return -1
	}
	return start
}

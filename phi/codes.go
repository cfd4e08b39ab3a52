package phi

// CodedIDDetector finds identifiers by their own format, with no label
// needed. It reports IBANs written without spaces that pass the ISO 13616
// check ("GB82WEST12345698765432"), payment card numbers (13-19 digits passing the Luhn
// check, contiguous or in groups split by spaces or dashes) and NPIs (ten
// digits starting with 1 or 2 that pass the NPI check). It also reports
// DEA numbers, Medicare Beneficiary Identifiers ("1EG4TE5MK73",
// "1EG4-TE5-MK73"), VINs, GS1 unique device identifiers
// ("(01)00884838027367(17)250101(21)A12") and MAC addresses.
//
// A format that a random token matches easily is reported only when its
// check passes; a format specific enough by itself (MBI, VIN, GS1) is
// also reported when its check fails, at confLow, because test data and
// typing errors are PHI too. Labelled values of the same kinds, including
// ones that fail their checks, are found by IdentifierDetector.
type CodedIDDetector struct{}

// Name returns "coded_id".
func (CodedIDDetector) Name() string { return "coded_id" }

// Detect appends the self-describing identifiers in text to dst.
func (d CodedIDDetector) Detect(text string, dst []Finding) []Finding {
	return d.detectIndexed(text, nil, dst)
}

// detectIndexed is Detect visiting only the positions of setCodeStart,
// through ix when it is not nil.
func (d CodedIDDetector) detectIndexed(text string, ix *textIndex, dst []Finding) []Finding {
	for i := ix.next(text, setCodeStart, 0); i < len(text); i = ix.next(text, setCodeStart, i+1) {
		c := text[i]
		if c == '(' {
			if end, conf := gs1End(text, i); end > 0 {
				dst = append(dst, Finding{Type: TypeDeviceID, Start: i, End: end, Confidence: conf, Detector: d.Name()})
				i = end - 1
			}
			continue
		}
		if !isAlnum(c) {
			continue
		}
		if isLower(c) && !(i+2 < len(text) && isHex(text[i+1]) && (text[i+2] == ':' || text[i+2] == '-')) {
			// Of the identifiers only a MAC address starts in lowercase,
			// with a group of two hexadecimal digits. With an index the
			// next candidate lies past this word, so it is not read.
			if ix == nil {
				i = alnumEnd(text, i) - 1
			}
			continue
		}
		j := ix.alnumEnd(text, i)
		if i > 0 && joinsToken(text, i-1, -1) {
			i = j - 1
			continue
		}

		// Only a MAC address may start with a lowercase letter, and only
		// words of these lengths can start an identifier: most words are
		// skipped here.
		n := j - i
		if isUpper(c) && n >= minIBANLen && n <= maxIBANLen && ibanValid(text[i:j]) {
			dst = append(dst, Finding{Type: TypeAccount, Start: i, End: j, Confidence: confHigh, Detector: d.Name()})
			i = j - 1
			continue
		}
		if isLower(c) && n != 2 {
			i = j - 1
			continue
		}
		if isUpper(c) && n != 2 && n != 4 && n != 9 && n != 11 && n != 17 {
			i = j - 1
			continue
		}
		// A token that starts with a digit has one of these lengths: a MAC
		// group 2, a dashed MBI 4, an NPI 10, an MBI 11, a card or a VIN
		// 13 or more. Or it is the first group of a card number split by
		// spaces or dashes.
		if isDigit(c) && n != 2 && n != 4 && n != 10 && n != 11 && n < 13 &&
			!(j < len(text) && (text[j] == ' ' || text[j] == '-') && digitRunHas(text, i, 13)) {
			i = j - 1
			continue
		}

		typ, end, conf := classifyCode(text, i, j)
		if end < 0 {
			i = j - 1
			continue
		}
		dst = append(dst, Finding{Type: typ, Start: i, End: end, Confidence: conf, Detector: d.Name()})
		i = end - 1
	}
	return dst
}

// classifyCode checks the token text[i:j] of letters and digits, with
// what follows it, against the formats in turn, and returns the first
// match, or end -1.
func classifyCode(text string, i, j int) (Type, int, float64) {
	n := j - i
	token := text[i:j]
	digitsOnly := isDigit(text[i]) && digitsAt(token, 0) == n

	if digitsOnly && n <= 19 && (n >= 13 || (j+1 < len(text) && (text[j] == ' ' || text[j] == '-') && digitRunHas(text, i, 13))) {
		if end, conf := cardEnd(text, i); end > 0 {
			return TypeAccount, end, conf
		}
	}
	if n == 2 && j < len(text) && (text[j] == ':' || text[j] == '-') && isHex(text[i]) && isHex(text[i+1]) {
		if end := macEnd(text, i); end > 0 {
			return TypeDeviceID, end, confHigh
		}
	}
	if n == 4 && text[i] != '0' && j < len(text) && text[j] == '-' {
		if end := dashedMBIEnd(text, i); end > 0 {
			return TypeHealthID, end, confHigh
		}
	}
	if joinsToken(text, j, 1) {
		return "", -1, 0
	}

	switch {
	case n == 10 && digitsOnly && (text[i] == '1' || text[i] == '2') && npiValid(token):
		return TypeNPI, j, confMedium
	case n == 9 && isUpper(text[i]) && deaShape(token) && (isUpper(text[i+1]) || text[i+1] == '9'):
		if deaValid(token) {
			return TypeLicense, j, confHigh
		}
	case n == 11 && !digitsOnly && isUpperToken(token) && mbiValid(token):
		return TypeHealthID, j, confHigh
	case n == 17 && isUpperToken(token) && vinShape(token):
		if vinValid(token) {
			return TypeVehicleID, j, confHigh
		}
		if vinLike(token) {
			return TypeVehicleID, j, confLow
		}
	}
	return "", -1, 0
}

// joinsToken reports whether the byte at k is a separator that joins the
// token to more letters or digits in direction dir (-1 back, 1 forward).
// Such a token is part of a longer name, path or code, as in "a.b",
// "x/1234567890", "user_1", "AB-12" or "key=...".
func joinsToken(text string, k, dir int) bool {
	if k < 0 || k >= len(text) {
		return false
	}
	switch text[k] {
	case '.', '/', '_', '@', '=', '\\', '+', '-':
	default:
		return false
	}
	n := k + dir
	return n >= 0 && n < len(text) && isAlnum(text[n])
}

func alnumEnd(text string, i int) int {
	for i < len(text) && isAlnum(text[i]) {
		i++
	}
	return i
}

func isUpperToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if isLower(s[i]) {
			return false
		}
	}
	return true
}

// vinLike reports whether a 17-character token in the VIN alphabet looks
// like a VIN of a market without the check digit: letters and digits
// mixed, and the last four characters digits, as in the serial part of
// most VINs.
func vinLike(s string) bool {
	letters := 0
	for i := 0; i < len(s); i++ {
		if isUpper(s[i]) {
			letters++
		}
	}
	return letters >= 3 && len(s)-letters >= 5 && digitsAt(s, len(s)-4) == 4
}

// cardEnd returns the end of a payment card number starting at i and its
// confidence, or end -1. The digits may be contiguous or split by one
// kind of separator (space or dash) into the groups card issuers print:
// fours with a shorter last group, or 4-6-5 and 4-6-4. A number that
// fails the Luhn check counts only when it is grouped and starts with an
// issuer prefix, at confLow.
func cardEnd(text string, i int) (int, float64) {
	var digits [19]byte
	n, end, groups := 0, i, 0
	var sep byte
	var sizes [5]int
	for {
		g := digitsAt(text, end)
		if g == 0 || n+g > 19 || groups == len(sizes) {
			return -1, 0
		}
		copy(digits[n:], text[end:end+g])
		sizes[groups] = g
		n += g
		groups++
		end += g
		if end+1 >= len(text) || !isDigit(text[end+1]) || (text[end] != ' ' && text[end] != '-') {
			break
		}
		if sep != 0 && text[end] != sep {
			break
		}
		sep = text[end]
		end++
	}
	if n < 13 || !digitEnd(text, end) || (sep == 0 && groups > 1) {
		return -1, 0
	}
	if groups > 1 && !cardGrouping(sizes[:groups]) {
		return -1, 0
	}

	number := string(digits[:n])
	known := cardBrandKnown(number)
	switch {
	case luhnValid(number) && known:
		return end, confHigh
	case luhnValid(number):
		return end, confMedium
	case known && groups > 1:
		return end, confLow
	}
	return -1, 0
}

// cardGrouping reports whether group sizes follow a printed card layout.
func cardGrouping(sizes []int) bool {
	if len(sizes) == 3 && sizes[0] == 4 && sizes[1] == 6 && (sizes[2] == 5 || sizes[2] == 4) {
		return true
	}
	for k, s := range sizes {
		if k < len(sizes)-1 && s != 4 {
			return false
		}
	}
	return len(sizes) >= 4
}

// macEnd returns the end of a MAC address at i written as six pairs of
// hexadecimal digits joined by ':' or '-', or -1.
func macEnd(text string, i int) int {
	if i+17 > len(text) {
		return -1
	}
	sep := text[i+2]
	if sep != ':' && sep != '-' {
		return -1
	}
	for k := 0; k < 6; k++ {
		p := i + 3*k
		if !isHex(text[p]) || !isHex(text[p+1]) || (k < 5 && text[p+2] != sep) {
			return -1
		}
	}
	end := i + 17
	if end < len(text) && (isAlnum(text[end]) || text[end] == sep) {
		return -1
	}
	return end
}

// dashedMBIEnd returns the end of an MBI written in the 4-3-4 groups that
// CMS prints on Medicare cards ("1EG4-TE5-MK73"), or -1.
func dashedMBIEnd(text string, i int) int {
	end := i + 13
	if end > len(text) || text[i+4] != '-' || text[i+8] != '-' {
		return -1
	}
	if end < len(text) && (isAlnum(text[end]) || text[end] == '-') {
		return -1
	}
	var mbi [11]byte
	copy(mbi[:4], text[i:i+4])
	copy(mbi[4:7], text[i+5:i+8])
	copy(mbi[7:], text[i+9:end])
	s := string(mbi[:])
	if !isUpperToken(s) || !mbiValid(s) {
		return -1
	}
	return end
}

// gs1End returns the end of a GS1 unique device identifier in
// human-readable form at i, and its confidence. The identifier starts with
// the application identifier "(01)" and a 14-digit GTIN. More "(NN)value"
// elements may follow, such as (10) lot, (11) or (17) dates and (21)
// serial number. The confidence is confHigh when the GTIN check digit is
// right and confMedium otherwise.
func gs1End(text string, i int) (int, float64) {
	if !hasPrefixFold(text, i, "(01)") || digitsAt(text, i+4) != 14 {
		return -1, 0
	}
	gtin := text[i+4 : i+18]
	end := i + 18
	for end < len(text) && text[end] == '(' {
		n := digitsAt(text, end+1)
		if n < 2 || n > 4 || end+1+n >= len(text) || text[end+1+n] != ')' {
			break
		}
		v := end + 2 + n
		k := v
		for k < len(text) && k-v < 20 && (isAlnum(text[k]) || text[k] == '-') {
			k++
		}
		if k == v {
			break
		}
		end = k
	}
	if end < len(text) && isAlnum(text[end]) {
		return -1, 0
	}
	if gtinValid(gtin) {
		return end, confHigh
	}
	return end, confMedium
}

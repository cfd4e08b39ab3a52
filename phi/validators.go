package phi

// Validators for identifier formats that carry a check digit or a range
// rule. Each takes the value without separators and returns false for any
// input of the wrong length or alphabet, so it is safe on arbitrary text.
// Detectors use them to set confidence: a value of the right shape that
// fails its check is still reported, because test data and typing errors
// are PHI too, but at a lower confidence.

// luhnValid reports whether digits, all ASCII digits, passes the Luhn
// (mod 10) check used by payment cards and NPIs. An empty string fails.
func luhnValid(digits string) bool {
	if digits == "" {
		return false
	}
	return luhnSum(digits, len(digits)%2 == 0)%10 == 0
}

// luhnSum returns the Luhn sum of digits, doubling every second digit from
// the right when the rightmost digit is not doubled. doubleFirst reports
// whether digits[0] is doubled. It returns -1 for a non-digit.
func luhnSum(digits string, doubleFirst bool) int {
	sum := 0
	double := doubleFirst
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if !isDigit(c) {
			return -1
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum
}

// npiPrefixSum is the Luhn sum of the prefix "80840" that the NPI standard
// puts in front of the ten digits. In the fifteen-digit string, whose last
// digit is the check digit, the prefix digits 8, 0, 8, 4, 0 sit at plain,
// doubled, plain, doubled and plain positions, giving 8+0+8+8+0.
const npiPrefixSum = 24

// npiValid reports whether s is ten ASCII digits that pass the Luhn check
// over "80840" followed by s, the rule of 45 CFR 162.406 for National
// Provider Identifiers. It does not require the leading 1 or 2 of issued
// NPIs, because synthetic data sets use other first digits.
func npiValid(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := luhnSum(s, true)
	return sum >= 0 && (sum+npiPrefixSum)%10 == 0
}

// deaRegistrantTypes are the first letters the DEA assigns to registrant
// categories (A-U practitioners and institutions, M mid-level
// practitioners, P-U distributors, X buprenorphine prescribers).
const deaRegistrantTypes = "ABCDEFGHJKLMPRSTUX"

// deaValid reports whether s is a DEA registration number. It starts with
// a registrant type letter and a second letter (the registrant's surname
// initial) or the digit 9. Seven digits follow, and the last is the check
// digit: the sum of digits 1, 3 and 5 plus twice the sum of digits 2, 4
// and 6, mod 10. Letters are matched case-insensitively.
func deaValid(s string) bool {
	if !deaShape(s) {
		return false
	}
	first := s[0] &^ 0x20
	if !containsByte(deaRegistrantTypes, first) {
		return false
	}
	d := func(k int) int { return int(s[2+k] - '0') }
	check := (d(0) + d(2) + d(4) + 2*(d(1)+d(3)+d(5))) % 10
	return check == d(6)
}

// deaShape reports whether s has the DEA number layout without checking
// the registrant type or the check digit: two letters (or a letter and 9)
// then seven digits.
func deaShape(s string) bool {
	if len(s) != 9 || !isLetter(s[0]) || (!isLetter(s[1]) && s[1] != '9') {
		return false
	}
	return digitsAt(s, 2) == 7
}

// mbiLetter reports whether c may stand where the CMS Medicare Beneficiary
// Identifier format requires a letter: A-Z without S, L, O, I, B and Z,
// which are left out to avoid confusion with digits.
func mbiLetter(c byte) bool {
	c &^= 0x20
	return isUpper(c) && !containsByte("SLOIBZ", c)
}

// mbiValid reports whether s is an 11-character Medicare Beneficiary
// Identifier in the CMS format. Position 1 is a digit 1-9, positions 2,
// 5, 8 and 9 are letters, positions 4, 7, 10 and 11 are digits, and
// positions 3 and 6 are a letter or a digit. The MBI has no check digit.
// Letters are matched case-insensitively.
func mbiValid(s string) bool {
	if len(s) != 11 || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < 11; i++ {
		c := s[i]
		switch i {
		case 1, 4, 7, 8:
			if !mbiLetter(c) {
				return false
			}
		case 2, 5:
			if !mbiLetter(c) && !isDigit(c) {
				return false
			}
		default:
			if !isDigit(c) {
				return false
			}
		}
	}
	return true
}

// vinValue returns the transliterated value of a VIN character (ISO 3779
// as used in 49 CFR 565.15), or -1 for I, O, Q and anything not an
// uppercase letter or digit.
func vinValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'A' <= c && c <= 'H':
		return int(c-'A') + 1
	case 'J' <= c && c <= 'N':
		return int(c-'J') + 1
	case c == 'P':
		return 7
	case c == 'R':
		return 9
	case 'S' <= c && c <= 'Z':
		return int(c-'S') + 2
	}
	return -1
}

// vinWeights are the position weights of the North American VIN check;
// position 9, the check digit itself, weighs 0.
var vinWeights = [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}

// vinShape reports whether s has the VIN alphabet and length: 17 uppercase
// letters and digits without I, O and Q.
func vinShape(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		if vinValue(s[i]) < 0 {
			return false
		}
	}
	return true
}

// vinValid reports whether s is a VIN whose ninth character is the check
// digit required for vehicles sold in North America: the weighted sum of
// the transliterated characters mod 11, with 10 written as X. VINs of
// other markets need not carry it.
func vinValid(s string) bool {
	if !vinShape(s) {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += vinValue(s[i]) * vinWeights[i]
	}
	want := byte('0' + sum%11)
	if sum%11 == 10 {
		want = 'X'
	}
	return s[8] == want
}

// ssnIssuable reports whether an SSN with these parts could have been
// issued by the Social Security Administration: area 001-899 except 666,
// group 01-99 and serial 0001-9999. Area 900-999 is the ITIN range and
// the range that test data such as Synthea uses.
func ssnIssuable(area, group, serial int) bool {
	return area >= 1 && area <= 899 && area != 666 && group >= 1 && group <= 99 && serial >= 1 && serial <= 9999
}

// nanpValid reports whether a three-digit area code and exchange, both
// ASCII digits, follow the North American Numbering Plan. Each starts with
// 2-9 and is not an N11 service code such as 411 or 911. The area code has
// no 9 in the middle, because that range is kept for expansion. The
// fictional 555 numbers pass, as they are formatted like real ones.
func nanpValid(area, exchange string) bool {
	if len(area) != 3 || len(exchange) != 3 {
		return false
	}
	n11 := func(s string) bool { return s[1] == '1' && s[2] == '1' }
	return area[0] >= '2' && exchange[0] >= '2' && area[1] != '9' && !n11(area) && !n11(exchange)
}

// gtinValid reports whether s, 8 to 14 ASCII digits, ends with the GS1
// check digit: weights 3 and 1 alternate from the rightmost data digit,
// and the check digit brings the sum to a multiple of 10.
func gtinValid(s string) bool {
	if len(s) < 8 || len(s) > 14 || digitsAt(s, 0) != len(s) {
		return false
	}
	sum := 0
	weight := 3
	for i := len(s) - 2; i >= 0; i-- {
		sum += int(s[i]-'0') * weight
		weight = 4 - weight
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

// cardBrandKnown reports whether digits starts with an issuer prefix of a
// major payment card network and has a length that network issues. The
// prefixes and lengths are Visa 4 (13, 16 or 19), Mastercard 51-55 and
// 2221-2720 (16), American Express 34 and 37 (15), Discover 6011, 644-649
// and 65 (16-19), JCB 3528-3589 (16-19) and Diners Club 36, 38 and 300-305
// (14-19).
func cardBrandKnown(digits string) bool {
	n := len(digits)
	if n < 13 || digitsAt(digits, 0) < 4 {
		return false
	}
	p2, p4 := atoi(digits[:2]), atoi(digits[:4])
	switch {
	case digits[0] == '4':
		return n == 13 || n == 16 || n == 19
	case (51 <= p2 && p2 <= 55) || (2221 <= p4 && p4 <= 2720):
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011 || p2 == 65 || (644 <= p4/10 && p4/10 <= 649):
		return n >= 16
	case 3528 <= p4 && p4 <= 3589:
		return n >= 16
	case p2 == 36 || p2 == 38 || (300 <= p4/10 && p4/10 <= 305):
		return n >= 14
	}
	return false
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// minIBANLen and maxIBANLen bound the length of an IBAN in characters:
// Norway's are the shortest and Saint Lucia's the longest (ISO 13616
// registry).
const (
	minIBANLen = 15
	maxIBANLen = 34
)

// ibanValid reports whether s, ASCII letters and digits, is an IBAN: two
// uppercase letters, two check digits and an uppercase account part
// whose ISO 7064 MOD 97-10 remainder, with the first four characters
// moved to the end and each letter read as 10 to 35, is 1. A random
// token of that shape passes about once in 97 times.
func ibanValid(s string) bool {
	if len(s) < minIBANLen || len(s) > maxIBANLen || !isUpper(s[0]) || !isUpper(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	rem := 0
	for k := 0; k < len(s); k++ {
		c := s[(k+4)%len(s)]
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case isUpper(c):
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

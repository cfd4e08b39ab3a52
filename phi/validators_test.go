package phi

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) bool
		input string
		want  bool
	}{
		{"luhn card", luhnValid, "4111111111111111", true},
		{"luhn odd length", luhnValid, "79927398713", true},
		{"luhn wrong digit", luhnValid, "4111111111111112", false},
		{"luhn empty", luhnValid, "", false},
		{"luhn letter", luhnValid, "41111111111111a1", false},

		{"iban registry example gb", ibanValid, "GB82WEST12345698765432", true},
		{"iban registry example de", ibanValid, "DE89370400440532013000", true},
		{"iban wrong check digits", ibanValid, "GB83WEST12345698765432", false},
		{"iban lowercase", ibanValid, "gb82west12345698765432", false},
		{"iban too short", ibanValid, "GB82WEST1234", false},
		{"iban letters for check digits", ibanValid, "GBXXWEST12345698765432", false},

		{"npi example", npiValid, "1234567893", true},
		{"npi synthetic 9 prefix", npiValid, "9999908392", true},
		{"npi wrong check", npiValid, "1234567890", false},
		{"npi nine digits", npiValid, "123456789", false},
		{"npi letter", npiValid, "12345678a3", false},

		{"dea valid", deaValid, "AB1234563", true},
		{"dea lowercase", deaValid, "ab1234563", true},
		{"dea business 9", deaValid, "A91234563", true},
		{"dea mid-level", deaValid, "FR7654329", true},
		{"dea wrong check", deaValid, "FR7654321", false},
		{"dea unknown registrant", deaValid, "IB1234563", false},
		{"dea short", deaValid, "AB123456", false},

		{"mbi cms example", mbiValid, "1EG4TE5MK73", true},
		{"mbi lowercase", mbiValid, "1eg4te5mk73", true},
		{"mbi digit at 3 and 6", mbiValid, "1E04T05MK73", true},
		{"mbi leading zero", mbiValid, "0EG4TE5MK73", false},
		{"mbi excluded letter S", mbiValid, "1SG4TE5MK73", false},
		{"mbi excluded letter O", mbiValid, "1EG4TE5OK73", false},
		{"mbi letter at end", mbiValid, "1EG4TE5MK7A", false},
		{"mbi short", mbiValid, "1EG4TE5MK7", false},

		{"vin check X", vinValid, "1M8GDM9AXKP042788", true},
		{"vin all ones", vinValid, "11111111111111111", true},
		{"vin wrong check", vinValid, "1M8GDM9A1KP042788", false},
		{"vin letter I", vinValid, "1M8GDM9AXKP04278I", false},
		{"vin lowercase", vinValid, "1m8gdm9axkp042788", false},
		{"vin short", vinValid, "1M8GDM9AXKP04278", false},

		{"gtin ean-13", gtinValid, "4006381333931", true},
		{"gtin-14", gtinValid, "00884838027367", true},
		{"gtin wrong check", gtinValid, "00884838027364", false},
		{"gtin too short", gtinValid, "1234567", false},

		{"brand visa", cardBrandKnown, "4000000000000002", true},
		{"brand amex", cardBrandKnown, "378282246310005", true},
		{"brand mastercard 2-series", cardBrandKnown, "2221000000000009", true},
		{"brand discover", cardBrandKnown, "6011111111111117", true},
		{"brand amex wrong length", cardBrandKnown, "3782822463100051", false},
		{"brand unknown", cardBrandKnown, "9999999999999995", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.check(tc.input); got != tc.want {
				t.Errorf("check(%q) = %v, want %v", tc.input, got, tc.want)
			}
		})
	}
}

func TestSSNIssuable(t *testing.T) {
	tests := []struct {
		name                string
		area, group, serial int
		want                bool
	}{
		{"ordinary", 123, 45, 6789, true},
		{"highest area", 899, 1, 1, true},
		{"area 000", 0, 45, 6789, false},
		{"area 666", 666, 45, 6789, false},
		{"itin area", 900, 70, 1234, false},
		{"test area 999", 999, 12, 3456, false},
		{"group 00", 123, 0, 6789, false},
		{"serial 0000", 123, 45, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ssnIssuable(tc.area, tc.group, tc.serial); got != tc.want {
				t.Errorf("ssnIssuable(%d, %d, %d) = %v, want %v", tc.area, tc.group, tc.serial, got, tc.want)
			}
		})
	}
}

func TestNANPValid(t *testing.T) {
	tests := []struct {
		name, area, exchange string
		want                 bool
	}{
		{"ordinary", "212", "555", true},
		{"fictional 555 area", "555", "555", true},
		{"exchange starts with 0", "555", "010", false},
		{"area starts with 1", "123", "555", false},
		{"n11 area", "911", "555", false},
		{"n11 exchange", "212", "411", false},
		{"expansion area", "292", "555", false},
		{"short", "21", "555", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nanpValid(tc.area, tc.exchange); got != tc.want {
				t.Errorf("nanpValid(%q, %q) = %v, want %v", tc.area, tc.exchange, got, tc.want)
			}
		})
	}
}

func TestValidDay(t *testing.T) {
	tests := []struct {
		name             string
		year, month, day int
		want             bool
	}{
		{"ordinary", 2023, 4, 12, true},
		{"leap day", 2024, 2, 29, true},
		{"leap day common year", 2023, 2, 29, false},
		{"century not leap", 1900, 2, 29, false},
		{"400 years leap", 2000, 2, 29, true},
		{"unknown year allows leap day", 0, 2, 29, true},
		{"april 31", 2023, 4, 31, false},
		{"month 13", 2023, 13, 1, false},
		{"day 0", 2023, 1, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := validDay(tc.year, tc.month, tc.day); got != tc.want {
				t.Errorf("validDay(%d, %d, %d) = %v, want %v", tc.year, tc.month, tc.day, got, tc.want)
			}
		})
	}
}

// FuzzCheckDigits checks the check-digit validators against their
// defining property: for any data digits exactly one check character
// makes the value valid, and the validators never panic.
func FuzzCheckDigits(f *testing.F) {
	f.Add("123456789", "AB", "1M8GDM9A", "KP042788")
	f.Add("999990839", "FR", "11111111", "11111111")
	f.Fuzz(func(t *testing.T, digits, letters, vinHead, vinTail string) {
		for _, s := range []string{digits, letters, vinHead + vinTail} {
			luhnValid(s)
			npiValid(s)
			deaValid(s)
			mbiValid(s)
			vinValid(s)
			gtinValid(s)
			cardBrandKnown(s)
			ibanValid(s)
		}
		if digits == "" || digitsAt(digits, 0) != len(digits) {
			return
		}

		valid := 0
		for c := byte('0'); c <= '9'; c++ {
			if luhnValid(digits + string(c)) {
				valid++
			}
		}
		if valid != 1 {
			t.Fatalf("%d Luhn check digits for %q, want 1", valid, digits)
		}
		if len(digits) == 9 {
			valid = 0
			for c := byte('0'); c <= '9'; c++ {
				if npiValid(digits + string(c)) {
					valid++
				}
			}
			if valid != 1 {
				t.Fatalf("%d NPI check digits for %q, want 1", valid, digits)
			}
		}
		if len(digits) >= 7 && len(digits) <= 13 {
			valid = 0
			for c := byte('0'); c <= '9'; c++ {
				if gtinValid(digits + string(c)) {
					valid++
				}
			}
			if valid != 1 {
				t.Fatalf("%d GTIN check digits for %q, want 1", valid, digits)
			}
		}
		if len(digits) >= 6 && len(letters) == 2 && strings.ContainsRune(deaRegistrantTypes, rune(letters[0])) && isUpper(letters[1]) {
			valid = 0
			for c := byte('0'); c <= '9'; c++ {
				if deaValid(letters + digits[:6] + string(c)) {
					valid++
				}
			}
			if valid != 1 {
				t.Fatalf("%d DEA check digits for %q, want 1", valid, letters+digits[:6])
			}
		}
		if len(vinHead) == 8 && len(vinTail) == 8 && vinShape(vinHead+"0"+vinTail) {
			valid = 0
			for _, c := range "0123456789X" {
				if vinValid(vinHead + string(c) + vinTail) {
					valid++
				}
			}
			if valid != 1 {
				t.Fatalf("%d VIN check characters for %q, want 1", valid, vinHead+"_"+vinTail)
			}
		}
	})
}

// mbiPattern is the CMS MBI layout written as a regular expression, an
// independent form of mbiValid.
var mbiPattern = regexp.MustCompile(`^(?i)[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9][AC-HJKMNP-RT-Y]{2}[0-9]{2}$`)

func FuzzMBI(f *testing.F) {
	f.Add("1EG4TE5MK73")
	f.Add("1SG4TE5MK73")
	f.Add("1eg4te5mk73")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := mbiValid(s), mbiPattern.MatchString(s); got != want {
			t.Fatalf("mbiValid(%q) = %v, regular expression says %v", s, got, want)
		}
	})
}

// FuzzRanges checks validDay against package time and the SSN and NANP
// range rules against plain restatements of them.
func FuzzRanges(f *testing.F) {
	f.Add(2024, 2, 29, "212", "555")
	f.Add(1900, 2, 29, "911", "411")
	f.Fuzz(func(t *testing.T, year, month, day int, area, exchange string) {
		if year > 0 && year < 10000 && month > -5 && month < 20 && day > -5 && day < 40 {
			date := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
			want := date.Year() == year && int(date.Month()) == month && date.Day() == day
			if got := validDay(year, month, day); got != want {
				t.Fatalf("validDay(%d, %d, %d) = %v, package time says %v", year, month, day, got, want)
			}
		}

		a, g, s := year%1000, month%100, day%10000
		wantSSN := a > 0 && a < 900 && a != 666 && g > 0 && s > 0
		if got := ssnIssuable(a, g, s); got != wantSSN {
			t.Fatalf("ssnIssuable(%d, %d, %d) = %v, want %v", a, g, s, got, wantSSN)
		}

		if len(area) == 3 && len(exchange) == 3 && digitsAt(area, 0) == 3 && digitsAt(exchange, 0) == 3 {
			wantNANP := area >= "200" && exchange >= "200" && area[1] != '9' && area[1:] != "11" && exchange[1:] != "11"
			if got := nanpValid(area, exchange); got != wantNANP {
				t.Fatalf("nanpValid(%q, %q) = %v, want %v", area, exchange, got, wantNANP)
			}
		} else if nanpValid(area, exchange) && (len(area) != 3 || len(exchange) != 3) {
			t.Fatalf("nanpValid(%q, %q) = true for a wrong length", area, exchange)
		}
	})
}

package phi

import (
	"slices"
	"strings"
	"testing"
)

// span is an expected finding: its type and the exact text it covers.
type span struct {
	typ  Type
	text string
}

func spansOf(text string, findings []Finding) []span {
	got := make([]span, 0, len(findings))
	for _, f := range findings {
		got = append(got, span{f.Type, text[f.Start:f.End]})
	}
	return got
}

type scanCase struct {
	name  string
	input string
	want  []span
}

// runScanCases scans each input with DefaultScanner and compares the
// findings, type and text, with want. An empty want asserts that nothing is
// reported.
func runScanCases(t *testing.T, cases []scanCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := spansOf(tc.input, DefaultScanner().Scan(tc.input))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Scan(%q)\n got %v\nwant %v", tc.input, got, tc.want)
			}
		})
	}
}

func TestScanSSN(t *testing.T) {
	runScanCases(t, []scanCase{
		{"labelled test range", "SSN: 999-12-3456.", []span{{TypeSSN, "999-12-3456"}}},
		{"dashed without label", "ref 123-45-6789 on file", []span{{TypeSSN, "123-45-6789"}}},
		{"spaced without label", "number 123 45 6789.", []span{{TypeSSN, "123 45 6789"}}},
		{"bare after SS#", "SS# 123456789", []span{{TypeSSN, "123456789"}}},
		{"bare after social security", "social security number 123456789", []span{{TypeSSN, "123456789"}}},
		{"bare without label", "order 123456789 placed", nil},
		{"area 000 without label", "ref 000-12-3456", nil},
		{"area 666 without label", "ref 666-12-3456", nil},
		{"group 00 without label", "ref 123-00-4567", nil},
		{"serial 0000 without label", "ref 123-45-0000", nil},
		{"area 000 after label", "SSN 000-12-3456", []span{{TypeSSN, "000-12-3456"}}},
		{"inside longer run", "lot 12-123-45-6789", nil},
		{"mixed separators", "ref 123-45 6789", nil},
	})
}

func TestScanPhone(t *testing.T) {
	runScanCases(t, []scanCase{
		{"parenthesized area code", "Call (555) 123-4567.", []span{{TypePhone, "(555) 123-4567"}}},
		{"dashes", "reach her at 555-123-4567", []span{{TypePhone, "555-123-4567"}}},
		{"dots", "number 555.123.4567", []span{{TypePhone, "555.123.4567"}}},
		{"plus one spaced", "+1 555 123 4567", []span{{TypePhone, "+1 555 123 4567"}}},
		{"one dash prefix", "1-555-123-4567", []span{{TypePhone, "1-555-123-4567"}}},
		{"bare after phone cue", "phone 5551234567", []span{{TypePhone, "5551234567"}}},
		{"bare without cue", "order 5551234567 filled", nil},
		{"extension", "tel 555-123-4567 ext. 89", []span{{TypePhone, "555-123-4567 ext. 89"}}},
		{"fax cue", "Fax: 555-123-4568", []span{{TypeFax, "555-123-4568"}}},
		{"phone then fax", "ph 555-123-4567, fax 555-123-4568", []span{{TypePhone, "555-123-4567"}, {TypeFax, "555-123-4568"}}},
		{"nearest cue wins", "fax or phone 555-123-4567", []span{{TypePhone, "555-123-4567"}}},
		{"inside longer run", "id 12555-123-45678", nil},
		{"blood pressure", "BP 120/80, HR 72", nil},
		{"iso date", "on 2023-04-12", []span{{TypeDate, "2023-04-12"}}},
	})
}

func TestScanEmail(t *testing.T) {
	runScanCases(t, []scanCase{
		{"plain", "email jane.roe@example.com", []span{{TypeEmail, "jane.roe@example.com"}}},
		{"sentence end", "Write to j_roe+clinic@mail.example.org.", []span{{TypeEmail, "j_roe+clinic@mail.example.org"}}},
		{"no top-level domain", "user@localhost", nil},
		{"numeric top-level domain", "user@example.c0m", nil},
		{"no local part", "see @example.com", nil},
		{"single letter top-level domain", "a@b.c", nil},
	})
}

func TestScanDate(t *testing.T) {
	runScanCases(t, []scanCase{
		{"month day year", "on 04/12/2023.", []span{{TypeDate, "04/12/2023"}}},
		{"short year", "on 4/12/23", []span{{TypeDate, "4/12/23"}}},
		{"iso", "2023-04-12", []span{{TypeDate, "2023-04-12"}}},
		{"dashes", "on 12-04-2023", []span{{TypeDate, "12-04-2023"}}},
		{"day first", "on 25/12/2023", []span{{TypeDate, "25/12/2023"}}},
		{"dotted", "on 12.04.2023", []span{{TypeDate, "12.04.2023"}}},
		{"dotted short year", "release 1.2.23 notes", nil},
		{"february 30", "on 02/30/2023", nil},
		{"month 13", "on 13/13/2023", nil},
		{"iso month 13", "2023-13-01", nil},
		{"leap day", "on 02/29/2024", []span{{TypeDate, "02/29/2024"}}},
		{"leap day in common year", "on 02/29/2023", nil},
		{"written", "seen April 12, 2023.", []span{{TypeDate, "April 12, 2023"}}},
		{"abbreviated", "Apr 12 2023", []span{{TypeDate, "Apr 12 2023"}}},
		{"day month year", "on 12 April 2023", []span{{TypeDate, "12 April 2023"}}},
		{"ordinal", "March 5th, 2021", []span{{TypeDate, "March 5th, 2021"}}},
		{"abbreviation period", "Nov. 22nd, 2022", []span{{TypeDate, "Nov. 22nd, 2022"}}},
		{"apostrophe year", "Nov 11th '23", []span{{TypeDate, "Nov 11th '23"}}},
		{"day of month", "the 5th of May, 2021", []span{{TypeDate, "5th of May, 2021"}}},
		{"dashed month", "noted on 17-Feb-2023 at", []span{{TypeDate, "17-Feb-2023"}}},
		{"month and day", "since September 10th", []span{{TypeDate, "September 10th"}}},
		{"month and year", "in April 2023", []span{{TypeDate, "April 2023"}}},
		{"month day after cue", "DOB 4/12", []span{{TypeDate, "4/12"}}},
		{"invalid written day", "February 30, 2023", nil},
		{"year alone", "diagnosed back in 2021.", nil},
		{"half tab", "take 1/2 tab", nil},
		{"three quarters", "3/4 times daily", nil},
		{"blood pressure", "BP 120/80", nil},
		{"age", "a 55-year-old male", nil},
		{"modal may", "May I add 5 mg?", nil},
		{"weekday alone", "flew home on Tuesday morning", []span{{TypeDate, "Tuesday"}}},
		{"weekday opens sentence", "Wednesday was quiet.", []span{{TypeDate, "Wednesday"}}},
		{"weekday before written date", "seen Monday, April 12, 2023.", []span{{TypeDate, "Monday, April 12, 2023"}}},
		{"weekday before numeric date", "on Friday 04/12/2023", []span{{TypeDate, "Friday 04/12/2023"}}},
		{"weekday before day first", "on Sunday 12 April 2023", []span{{TypeDate, "Sunday 12 April 2023"}}},
		{"weekday before fraction", "Monday 1/2 tab", []span{{TypeDate, "Monday"}}},
		{"weekday abbreviation", "Sat in the Sun on Wed", nil},
		{"weekday lowercase", "on friday morning", nil},
		{"weekday inside word", "Mondays and Fridays", nil},
		{"day suffix word", "Holiday and Someday", nil},
	})
}

func TestScanIdentifiers(t *testing.T) {
	runScanCases(t, []scanCase{
		{"mrn colon", "(MRN: ST-998877)", []span{{TypeMRN, "ST-998877"}}},
		{"mr hash", "MR# 12345678", []span{{TypeMRN, "12345678"}}},
		{"medical record number is", "medical record number is 12345678", []span{{TypeMRN, "12345678"}}},
		{"chart hash", "Chart #: AB-1234", []span{{TypeMRN, "AB-1234"}}},
		{"med rec", "Med Rec#: CC-7890", []span{{TypeMRN, "CC-7890"}}},
		{"uuid", "MRN 123e4567-e89b-12d3-a456-426614174000", []span{{TypeMRN, "123e4567-e89b-12d3-a456-426614174000"}}},
		{"ssn shape after mrn", "MRN: 123-45-6789", []span{{TypeMRN, "123-45-6789"}}},
		{"member id", "member ID HP-678901", []span{{TypeHealthID, "HP-678901"}}},
		{"policy number with zip shape", "policy number: 12345-6789", []span{{TypeHealthID, "12345-6789"}}},
		{"beneficiary", "beneficiary #XY-654321", []span{{TypeHealthID, "XY-654321"}}},
		{"account", "account number 9876543210", []span{{TypeAccount, "9876543210"}}},
		{"acct hash", "acct # 55-1234", []span{{TypeAccount, "55-1234"}}},
		{"license", "license # D1234567", []span{{TypeLicense, "D1234567"}}},
		{"dea", "DEA AB1234563", []span{{TypeLicense, "AB1234563"}}},
		{"pending", "MRN pending", nil},
		{"too few digits", "MRN 123", nil},
		{"year after label", "policy number 2023", nil},
		{"label inside word", "idea 12345678", nil},
	})
}

func TestScanName(t *testing.T) {
	runScanCases(t, []scanCase{
		{"patient full name", "Patient Jane Roe presents with cough", []span{{TypeName, "Jane Roe"}}},
		{"pt period middle initial", "Pt. John Q. Public", []span{{TypeName, "John Q. Public"}}},
		{"apostrophe", "Mr. O'Brien called", []span{{TypeName, "O'Brien"}}},
		{"hyphen", "Mrs. Smith-Jones", []span{{TypeName, "Smith-Jones"}}},
		{"title initial surname", "seen by Dr. A. Smith today", []span{{TypeName, "A. Smith"}}},
		{"title initial only", "Mr. W. declined", []span{{TypeName, "W."}}},
		{"patient name label", "patient name: Jane Roe", []span{{TypeName, "Jane Roe"}}},
		{"name label", "Name: Jane Roe", []span{{TypeName, "Jane Roe"}}},
		{"named", "a woman named Jane Roe", []span{{TypeName, "Jane Roe"}}},
		{"possessive", "Dr. Smith's notes", []span{{TypeName, "Smith"}}},
		{"initial pattern", "like Anna S., seen", []span{{TypeName, "Anna S."}}},
		{"initial pattern at end", "referred Anna S.", []span{{TypeName, "Anna S."}}},
		{"initial and surname", "for Jane A. Doe today", []span{{TypeName, "Jane A. Doe"}}},
		{"patient is", "Patient is stable", nil},
		{"pt presents", "Pt presents with cough", nil},
		{"pt with", "Pt With fever", nil},
		{"dr office", "call Dr. Office", nil},
		{"vitamin d", "low Vitamin D.", nil},
		{"hepatitis b", "history of Hepatitis B.", nil},
		{"type a", "blood Type A.", nil},
		{"patient a", "Patient A. and Patient B.", nil},
		{"acronym", "Pt HIV positive", nil},
		{"country abbreviation", "in the U.S. Army", nil},
		{"bacterium", "grew E. coli", nil},
		{"multiple sclerosis", "with MS like symptoms", nil},
	})
}

func TestScanAddress(t *testing.T) {
	runScanCases(t, []scanCase{
		{"with unit", "lives at 12 Oak Hill Rd Apt 4B today", []span{{TypeAddress, "12 Oak Hill Rd Apt 4B"}}},
		{"suite after comma", "1600 Example Avenue, Suite 200", []span{{TypeAddress, "1600 Example Avenue, Suite 200"}}},
		{"ordinal and direction", "42 W. 5th St. is closed", []span{{TypeAddress, "42 W. 5th St."}}},
		{"suffix as name", "12 Court Rd", []span{{TypeAddress, "12 Court Rd"}}},
		{"full line", "12 Elm St, Lawrence, KS 66044", []span{{TypeAddress, "12 Elm St"}, {TypeLocation, "Lawrence"}, {TypeZIP, "66044"}}},
		{"zip plus four", "zip code 66044-1234", []span{{TypeZIP, "66044-1234"}}},
		{"state and comma", "Lawrence, KS, 66044", []span{{TypeLocation, "Lawrence"}, {TypeZIP, "66044"}}},
		{"five digits alone", "counted 66044 cells", nil},
		{"dose", "take 2 Tylenol daily", nil},
		{"no suffix", "room 12 Main", nil},
	})
}

func TestScanURLAndIP(t *testing.T) {
	runScanCases(t, []scanCase{
		{"https sentence end", "See https://example.com/path?q=1.", []span{{TypeURL, "https://example.com/path?q=1"}}},
		{"www in parentheses", "(see www.example.org/info)", []span{{TypeURL, "www.example.org/info"}}},
		{"balanced parenthesis", "http://example.com/wiki/A_(b) ok", []span{{TypeURL, "http://example.com/wiki/A_(b)"}}},
		{"other scheme", "ftp://example.com", nil},
		{"www inside word", "nowww.example", nil},
		{"ipv4", "from 192.0.2.44.", []span{{TypeIPAddress, "192.0.2.44"}}},
		{"ipv4 with port", "host 192.0.2.20:8080", []span{{TypeIPAddress, "192.0.2.20"}}},
		{"ipv6 compressed", "from 2001:db8::1 today", []span{{TypeIPAddress, "2001:db8::1"}}},
		{"ipv6 link local", "fe80::1", []span{{TypeIPAddress, "fe80::1"}}},
		{"ipv6 full", "2001:0db8:0000:0000:0000:ff00:0042:8329", []span{{TypeIPAddress, "2001:0db8:0000:0000:0000:ff00:0042:8329"}}},
		{"dotted run", "build 1.2.3.4.5", nil},
		{"version cue", "version 1.2.3.4", nil},
		{"octet over 255", "256.1.1.1", nil},
		{"leading zero", "10.01.1.1", nil},
		{"time", "at 10:30:45", nil},
		{"cpp scope", "std::vector", nil},
		{"icd-10", "E11.9", nil},
	})
}

// TestScanNegatives checks that clinical text without identifiers yields
// nothing: doses, vitals, fractions, ages, years, codes and versions.
func TestScanNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"dose", "take 5 mg twice daily", nil},
		{"vitals", "BP 120/80, HR 72, T 37.1, SpO2 98%", nil},
		{"fractions", "take 1/2 tab 3/4 times daily", nil},
		{"age and year", "a 55-year-old diagnosed in 2021", nil},
		{"letter words", "Vitamin D. and Hepatitis C. screening", nil},
		{"icd codes", "codes E11.9, I10 and N18.3", nil},
		{"version", "software version 1.2.3.4.5", nil},
		{"lab values", "WBC 14.2, Hgb 10.1, Plt 250", nil},
	})
}

func TestScanConfidence(t *testing.T) {
	conf := func(text string) float64 {
		t.Helper()
		findings := DefaultScanner().Scan(text)
		if len(findings) != 1 {
			t.Fatalf("Scan(%q) = %v, want one finding", text, findings)
		}
		return findings[0].Confidence
	}

	if valid, invalid := conf("SSN 123-45-6789"), conf("SSN 000-45-6789"); invalid >= valid {
		t.Errorf("labelled invalid SSN confidence %v, want below valid %v", invalid, valid)
	}
	if cued, plain := conf("DOB 04/12/1961"), conf("on 04/12/1961"); cued <= plain {
		t.Errorf("date after cue confidence %v, want above %v", cued, plain)
	}
	if labelled, plain := conf("MRN 123-45-6789"), conf("on 123-45-6789"); labelled <= plain {
		t.Errorf("MRN confidence %v, want above unlabelled SSN %v", labelled, plain)
	}
}

// TestScanNote checks a synthetic discharge summary end to end.
func TestScanNote(t *testing.T) {
	text := readNote(t)
	want := []span{
		{TypeName, "Jane Roe"}, {TypeMRN, "EX-0012345"}, {TypeDate, "04/12/1961"},
		{TypeDate, "2023-04-12"}, {TypeDate, "April 18, 2023"},
		{TypeName, "Alan Example"}, {TypeName, "B. Samson"},
		{TypeHealthID, "HP-0098765"}, {TypeHealthID, "XQ-5550123"},
		{TypePhone, "(555) 010-4477"}, {TypeFax, "555-010-4478"},
		{TypeEmail, "jane.roe@example.com"},
		{TypeAddress, "1200 Example Avenue, Apt 4B"}, {TypeLocation, "Lawrence"}, {TypeZIP, "66044"},
		{TypeDate, "March 5th, 2023"}, {TypeName, "Anna S."},
		{TypeName, "Example"}, {TypePhone, "555.010.4499"}, {TypeDate, "04/25/2023"},
		{TypeURL, "https://portal.example.com/visits?id=7731"},
		{TypeIPAddress, "192.0.2.44"}, {TypeIPAddress, "2001:db8::7:1"},
		{TypeSSN, "999-55-0101"}, {TypeName, "John Roe"},
		{TypePhone, "555-010-4480"}, {TypeDate, "Nov. 22nd, 2023"},
	}
	got := spansOf(text, DefaultScanner().Scan(text))
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %v", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("unexpected %v", g)
		}
	}
}

func TestDetectorNames(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range DefaultScanner().detectors {
		name := d.Name()
		if name == "" || strings.ToLower(name) != name {
			t.Errorf("detector %T name %q, want a non-empty lowercase name", d, name)
		}
		if seen[name] {
			t.Errorf("detector name %q used twice", name)
		}
		seen[name] = true
	}
}

func TestNameStopWordsFitBuffer(t *testing.T) {
	for _, word := range nameStopWords.members {
		if len(word) > 24 || strings.ToLower(word) != word {
			t.Errorf("stop word %q: want lowercase and at most 24 bytes", word)
		}
		if !isNameStopWord(strings.ToUpper(word[:1]) + word[1:]) {
			t.Errorf("isNameStopWord(%q) = false for a capitalized stop word", word)
		}
	}
}

func TestDetectAppends(t *testing.T) {
	sentinel := Finding{Type: TypeOtherID, Start: 0, End: 1, Confidence: 1, Detector: "sentinel"}
	text := readNote(t)
	for _, d := range DefaultScanner().detectors {
		out := d.Detect(text, []Finding{sentinel})
		if len(out) < 1 || out[0] != sentinel {
			t.Errorf("%s: Detect did not keep dst and append to it: %d findings", d.Name(), len(out))
		}
		for _, f := range out[1:] {
			if f.Detector != d.Name() {
				t.Errorf("%s: finding names detector %q", d.Name(), f.Detector)
			}
		}
	}
}

// TestCueLists checks the form that cueBefore and matchIDCue rely on: each
// cue is lowercase and starts with a letter.
func TestCueLists(t *testing.T) {
	lists := map[string][]string{
		"ssn": ssnCues.words, "phone": phoneCues.words, "date": dateCues.words,
		"zip": zipCues.words, "version": versionCues.words, "code": codeCues.words,
	}
	for _, cue := range idCues {
		lists["id"] = append(lists["id"], cue.label)
	}
	for name, cues := range lists {
		for _, cue := range cues {
			if cue == "" || !isLower(cue[0]) || strings.ToLower(cue) != cue {
				t.Errorf("%s cue %q: want lowercase, starting with a letter", name, cue)
			}
		}
	}
	if phoneCues.words[faxCue] != "fax" {
		t.Errorf("phoneCues.words[faxCue] = %q, want %q", phoneCues.words[faxCue], "fax")
	}
}

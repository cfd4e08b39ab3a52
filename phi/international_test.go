package phi

import "testing"

func TestScanInternationalPhone(t *testing.T) {
	runScanCases(t, []scanCase{
		{"uk with country code", "ring +44 20 7946 0958 today", []span{{TypePhone, "+44 20 7946 0958"}}},
		{"uk national", "landlord on 0161 496 0000.", []span{{TypePhone, "0161 496 0000"}}},
		{"parenthesized trunk", "office (0151) 496 0123", []span{{TypePhone, "(0151) 496 0123"}}},
		{"dots and extension", "try 555.123.4567 ext. 12 first", []span{{TypePhone, "555.123.4567 ext. 12"}}},
		{"trunk in brackets", "+41 (0)96 471 07 95", []span{{TypePhone, "+41 (0)96 471 07 95"}}},
		{"double zero prefix", "001-518-640-0854", []span{{TypePhone, "001-518-640-0854"}}},
		{"attached extension", "345-899-3560x4587", []span{{TypePhone, "345-899-3560x4587"}}},
		{"plus without separators", "+447700677662", []span{{TypePhone, "+447700677662"}}},
		{"short grouping after cue", "Phone: 699 956 915", []span{{TypePhone, "699 956 915"}}},
		{"label after number", "416 60 039 office", []span{{TypePhone, "416 60 039"}}},
		{"fax label after number", "07700 063 966-Fax", []span{{TypeFax, "07700 063 966"}}},
		{"fax cue", "Fax: +46 (0)157 548 89", []span{{TypeFax, "+46 (0)157 548 89"}}},
	})
}

func TestScanInternationalPhoneNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"ssn shape with leading zero", "ref 000-12-3456", nil},
		{"vitals", "BP 120/80, HR 72, SpO2 98%", nil},
		{"decimal dose", "dose 0.5 mg twice", nil},
		{"count without cue", "platelets 150 000 per uL", nil},
		{"grouped count", "cohort of 12 345 678 people", nil},
		{"saline volume", "0.9% saline 1000 mL over 2 h", nil},
		{"too few digits after plus", "+12 34", nil},
	})
}

func TestScanNameShapes(t *testing.T) {
	runScanCases(t, []scanCase{
		{"accented surname", "seen with Marie Langrová today", []span{{TypeName, "Marie Langrová"}}},
		{"given name opens sentence", "Catherine is a very sympathetic person.", []span{{TypeName, "Catherine"}}},
		{"given name before colon", "Ella: what a day", []span{{TypeName, "Ella"}}},
		{"given and unlisted surname opening sentence", "Henry Manninen listed his songs.", []span{{TypeName, "Henry Manninen"}}},
		{"speech verb", "I'm so jealous! said Jensen to him", []span{{TypeName, "Jensen"}}},
		{"aligned label", "Name:    Anna Josefsen", []span{{TypeName, "Anna Josefsen"}}},
		{"question label", "What's your name? Jildau Bouts", []span{{TypeName, "Jildau Bouts"}}},
		{"credit", "a film directed by Maciej Borkowski in 2010", []span{{TypeName, "Maciej Borkowski"}}},
		{"call me", "people call me Aantje", []span{{TypeName, "Aantje"}}},
		{"relative", "remove my kid Florence from the plan", []span{{TypeName, "Florence"}}},
		{"greeting", "Hi Christin, thanks", []span{{TypeName, "Christin"}}},
	})
}

func TestScanNameShapeNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"eponym opens sentence", "Addison disease was ruled out.", nil},
		{"organism after by", "pneumonia caused by Staphylococcus aureus", nil},
		{"salutation", "Dear Colleague, please review.", nil},
		{"common word opening sentence", "Will you check the labs?", nil},
		{"month opening sentence", "March is when symptoms began.", nil},
		{"drug opening sentence", "Tylenol is given every 6 hours.", nil},
		{"eponymous sign", "Homans sign is negative.", nil},
		{"greeting to team", "Hi Team, the plan is set.", nil},
		{"said before common noun", "she said Metformin helps", nil},
	})
}

func TestScanInternationalAddress(t *testing.T) {
	runScanCases(t, []scanCase{
		{"french prefix type", "lives at 12 Rue de la Paix now", []span{{TypeAddress, "12 Rue de la Paix"}}},
		{"uk suffix and unit", "at 14 High Street, Flat 3 today", []span{{TypeAddress, "14 High Street, Flat 3"}}},
		{"us with unit", "1234 Main St. Apt 5", []span{{TypeAddress, "1234 Main St. Apt 5"}}},
		{"po box", "send it to PO Box 123 please", []span{{TypeAddress, "PO Box 123"}}},
		{"po box dotted", "P.O. Box 242", []span{{TypeAddress, "P.O. Box 242"}}},
		{"italian", "his address: Via Roma 131", []span{{TypeAddress, "Via Roma 131"}}},
		{"german ending", "Strickstrasse 61", []span{{TypeAddress, "Strickstrasse 61"}}},
		{"polish prefix", "ul. Słowicza 10, Wrocław", []span{{TypeAddress, "ul. Słowicza 10"}, {TypeLocation, "Wrocław"}}},
		{"hungarian type after name", "at Erzsébet tér 19 now", []span{{TypeAddress, "Erzsébet tér 19"}}},
		{"military box", "PSC 7589, Box 0572", []span{{TypeAddress, "PSC 7589, Box 0572"}}},
		{"military post line", "APO AE 20040", []span{{TypeAddress, "APO AE 20040"}}},
		{"number before number", "515 385 Gemsbok St", []span{{TypeAddress, "515 385 Gemsbok St"}}},
		{"unit on next line", "12 Countess Close\nApt. 5", []span{{TypeAddress, "12 Countess Close\nApt. 5"}}},
		{"bare street on own line", "87331 Dunajska 56\nStudenec", []span{{TypeAddress, "87331 Dunajska 56"}, {TypeLocation, "Studenec"}}},
	})
}

func TestScanInternationalAddressNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"six minute walk", "6 Minute Walk test was normal", nil},
		{"dose with brand", "take 2 Tylenol 500 mg", nil},
		{"stage", "Stage 4 disease", nil},
		{"via lowercase", "sent 2 via Fedex", nil},
		{"vitamin", "Vitamin D 1000 units daily", nil},
		{"day and drug", "Day 3 Vancomycin 1500, then stop", nil},
		{"region", "travel history to the Ohio River Valley last summer", nil},
		{"box without number", "check the PO Box field", nil},
	})
}

func TestScanPostalCodes(t *testing.T) {
	runScanCases(t, []scanCase{
		{"zip label short code", "ZIP: 3520", []span{{TypeZIP, "3520"}}},
		{"postal code dashed", "postal code 53-320", []span{{TypeZIP, "53-320"}}},
		{"dutch after label", "zip code 7412 SL", []span{{TypeZIP, "7412 SL"}}},
		{"uk postcode", "London SW1A 1AA", []span{{TypeZIP, "SW1A 1AA"}}},
		{"canadian postal code", "Ottawa K1A 0B1", []span{{TypeZIP, "K1A 0B1"}}},
		{"after country", "Finland 41600", []span{{TypeLocation, "Finland"}, {TypeZIP, "41600"}}},
	})
}

func TestScanPostalCodeNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"lab value", "HbA1c 7.2 and CD4 500", nil},
		{"tnm staging", "staged T2 N0 M0", nil},
		{"icd code", "coded E11.9 today", nil},
		{"number after country word", "French 1000 mg", nil},
		{"count without label", "counted 3520 cells", nil},
	})
}

func TestScanCountries(t *testing.T) {
	runScanCases(t, []scanCase{
		{"moved from", "She moved here from Estonia", []span{{TypeLocation, "Estonia"}}},
		{"travelling to", "I will be travelling to Canada next week", []span{{TypeLocation, "Canada"}}},
		{"two words", "arrived from Czech Republic.", []span{{TypeLocation, "Czech Republic"}}},
		{"own line", "Suite 2\nSweden\n", []span{{TypeLocation, "Sweden"}}},
		{"town after travel verb", "Ms. Jones flew to Loeches on Monday", []span{{TypeName, "Jones"}, {TypeLocation, "Loeches"}, {TypeDate, "Monday"}}},
	})
}

func TestScanCountryNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"state alone", "Texas has new guidance", nil},
		{"state after cue", "she lives in Texas", nil},
		{"nut allergy", "Brazil nut allergy", nil},
		{"nationality", "French guidelines recommend", nil},
		{"country mid sentence", "Canada geese nest nearby", nil},
	})
}

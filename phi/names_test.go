package phi

import (
	"testing"
)

func TestScanNameLists(t *testing.T) {
	runScanCases(t, []scanCase{
		{"given and surname", "a 60-year-old male, Robert Brown, who", []span{{TypeName, "Robert Brown"}}},
		{"middle name", "seen with Mary Ann Johnson today", []span{{TypeName, "Mary Ann Johnson"}}},
		{"bare initial", "pt is John D seen today", []span{{TypeName, "John D"}}},
		{"single between commas", "a 20yo female, Anna, seen today", []span{{TypeName, "Anna"}}},
		{"single possessive", "referenced in John's notes", []span{{TypeName, "John"}}},
		{"common surname after given name", "Elizabeth White, who had", []span{{TypeName, "Elizabeth White"}}},
		{"hyphenated surname", "seen with Jane Smith-Jones today", []span{{TypeName, "Jane Smith-Jones"}}},
		{"apostrophe surname", "seen with Mary O'Brien today", []span{{TypeName, "Mary O'Brien"}}},
		{"lowercase after cue", "pt john smith seen", []span{{TypeName, "john smith"}}},
		{"relative cue", "his wife Mary reports", []span{{TypeName, "Mary"}}},
		{"relative cue with comma", "Her daughter, Jane Roe, called", []span{{TypeName, "Jane Roe"}}},
		{"synthea suffix", "Sumiko254 Larue605\n is a 60 year-old", []span{{TypeName, "Sumiko254 Larue605"}}},
		{"synthea suffix on stop word", "An125 Medhurst46 is", []span{{TypeName, "An125 Medhurst46"}}},
		{"synthea suffix alone", "seen by Larue605 today", []span{{TypeName, "Larue605"}}},
	})
}

func TestScanNameNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"eponym disease", "history of Parkinson disease", nil},
		{"eponym possessive", "a history of Wilson's disease", nil},
		{"eponym hyphenated", "history of Stevens-Johnson syndrome", nil},
		{"eponym lymphoma", "Non-Hodgkin lymphoma and Crohn's disease", nil},
		{"eponym score", "a high Wells score and a Gleason score of 7", nil},
		{"eponym reflex", "a positive Chaddock reflex", nil},
		{"named study", "based on Framingham Heart Study findings", nil},
		{"graves addison cushing", "Graves disease, Addison's disease and Cushing syndrome", nil},
		{"common words", "Will Grace Hope May Mark Young Brown", nil},
		{"month", "seen in May for follow-up", nil},
		{"weekday", "seen on Monday, June", []span{{TypeDate, "Monday"}}},
		{"drug brand", "started Eliquis, Humira and Rose Bengal stain", nil},
		{"sentence start common pair", "Will Young patients respond?", nil},
		{"ethnicity", "a 55-year-old African American male", nil},
		{"dosage", "Metformin 500 mg twice daily", nil},
		{"saint place", "seen at St. Mary's", []span{{TypeLocation, "St. Mary's"}}},
		{"product digits", "Type2 diabetes", nil},
	})
}

func TestScanClinicianName(t *testing.T) {
	cases := []struct {
		name, input, want, detector string
	}{
		{"dr period", "seen by Dr. Sarah P. today", "Sarah P.", "name_clinician"},
		{"dr no period", "seen by Dr Jane Roe today", "Jane Roe", "name_clinician"},
		{"doctor", "Doctor Roe called", "Roe", "name_clinician"},
		{"credential", "signed Jane Roe, MD today", "Jane Roe", "name_clinician"},
		{"credential dotted", "signed Jane Roe, M.D.", "Jane Roe", "name_clinician"},
		{"nurse practitioner", "per Anna Smith NP", "Anna Smith", "name_clinician"},
		{"patient", "Patient Jane Roe", "Jane Roe", "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			found := DefaultScanner().Scan(tc.input)
			if len(found) != 1 {
				t.Fatalf("Scan(%q) = %v, want one finding", tc.input, spansOf(tc.input, found))
			}
			f := found[0]
			if got := tc.input[f.Start:f.End]; got != tc.want || f.Type != TypeName {
				t.Errorf("Scan(%q) = %s %q, want NAME %q", tc.input, f.Type, got, tc.want)
			}
			if f.Detector != tc.detector {
				t.Errorf("Scan(%q) detector = %q, want %q", tc.input, f.Detector, tc.detector)
			}
		})
	}
}

func TestScanStreetDrIsNotClinician(t *testing.T) {
	// "Jane walked" is a person, but "Oak Dr" is a street, not a title,
	// so the name must not come from the clinician detector.
	text := "on Oak Dr Jane walked"
	for _, f := range DefaultScanner().Scan(text) {
		if f.Detector == (ClinicianNameDetector{}).Name() {
			t.Errorf("Scan(%q) found %q by %s, want no clinician name", text, text[f.Start:f.End], f.Detector)
		}
	}
}

func TestScanLocation(t *testing.T) {
	runScanCases(t, []scanCase{
		{"hospital", "treated at Methodist Hospital on", []span{{TypeLocation, "Methodist Hospital"}}},
		{"medical center", "seen at UCLA Medical Center today", []span{{TypeLocation, "UCLA Medical Center"}}},
		{"clinic after the", "seen at the Elm Clinic", []span{{TypeLocation, "Elm Clinic"}}},
		{"saint possessive", "admitted to St. Vincent's yesterday", []span{{TypeLocation, "St. Vincent's"}}},
		{"saint curly", "seen at St. Jude\u2019s today", []span{{TypeLocation, "St. Jude\u2019s"}}},
		{"and inside", "Brigham and Women's Hospital", []span{{TypeLocation, "Brigham and Women's Hospital"}}},
		{"health system", "admitted to Cedars-Sinai on", []span{{TypeLocation, "Cedars-Sinai"}}},
		{"at context", "last seen at Cedar Crest on", []span{{TypeLocation, "Cedar Crest"}}},
		{"general", "admitted to Mass General on", []span{{TypeLocation, "Mass General"}}},
		{"lowercase clinic", "visited our New York clinic", []span{{TypeLocation, "New York clinic"}}},
		{"town after in", "treated in Dallas and", []span{{TypeLocation, "Dallas"}}},
		{"town and state", "lives in Atlanta, GA now", []span{{TypeLocation, "Atlanta"}}},
		{"town two words", "from San Francisco, CA", []span{{TypeLocation, "San Francisco"}}},
		{"residence any phrase", "residing in Westchester, seen", []span{{TypeLocation, "Westchester"}}},
		{"county", "resident of Douglas County", []span{{TypeLocation, "Douglas County"}}},
		{"facility then town", "St. Mary's Hospital, Dallas", []span{{TypeLocation, "St. Mary's Hospital"}, {TypeLocation, "Dallas"}}},
	})
}

func TestScanLocationNegatives(t *testing.T) {
	runScanCases(t, []scanCase{
		{"state alone", "a patient in Texas with", nil},
		{"state code alone", "moved to KS last year", nil},
		{"eponym town", "a high Wells score", nil},
		{"framingham", "Framingham Risk Score of 20%", nil},
		{"river valley", "travel to the Ohio River Valley", nil},
		{"mental health", "Mental Health services", nil},
		{"heading", "Hospital course: stable", nil},
		{"st johns wort", "takes St. John's wort daily", nil},
		{"unit acronym", "transferred to ICU overnight", nil},
		{"month after in", "seen in April", nil},
		{"credential state", "Jane Roe, MD", []span{{TypeName, "Jane Roe"}}},
	})
}

func TestScanAgeOver89(t *testing.T) {
	runScanCases(t, []scanCase{
		{"hyphenated", "a 92-year-old woman", []span{{TypeDate, "92-year-old"}}},
		{"synthea", "is a 92 year-old male", []span{{TypeDate, "92 year-old"}}},
		{"spaced", "a 95 year old man", []span{{TypeDate, "95 year old"}}},
		{"years old", "she is 101 years old", []span{{TypeDate, "101 years old"}}},
		{"yo", "95 yo F", []span{{TypeDate, "95 yo"}}},
		{"yo joined", "95yo female", []span{{TypeDate, "95yo"}}},
		{"slash", "95 y/o male", []span{{TypeDate, "95 y/o"}}},
		{"aged", "aged 93 with", []span{{TypeDate, "93"}}},
		{"age colon", "Age: 95.", []span{{TypeDate, "95"}}},
		{"of age", "90 years of age", []span{{TypeDate, "90 years of age"}}},
		{"eighty nine", "an 89-year-old man", nil},
		{"younger", "a 60-year-old man", nil},
		{"dose", "92 mg daily", nil},
		{"decimal", "age 92.5 kg", nil},
		{"too old", "age 130", nil},
	})
}

func TestDetectHealthContext(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  HealthContext
	}{
		{"icd codes", "dx E11.9 and S72.001A", HealthContext{ICD10: 2}},
		{"bare icd after cue", "ICD-10 code I10", HealthContext{ICD10: 1}},
		{"bare icd without cue", "vitamin B12 level", HealthContext{}},
		{"u codes excluded", "U07.1", HealthContext{}},
		{"cpt after cue", "CPT 99213 billed", HealthContext{CPT: 1}},
		{"cpt category codes", "1234F and 0001T", HealthContext{CPT: 2}},
		{"five digits alone", "counted 99213 cells", HealthContext{}},
		{"medications", "lisinopril, atorvastatin and metformin", HealthContext{Medications: 3}},
		{"diagnoses", "type 2 diabetes with hypertension", HealthContext{Diagnoses: 2}},
		{"none", "the weather is fine", HealthContext{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DetectHealthContext(tc.input); got != tc.want {
				t.Errorf("DetectHealthContext(%q) = %+v, want %+v", tc.input, got, tc.want)
			}
		})
	}
}

func TestHealthContextTotal(t *testing.T) {
	h := HealthContext{ICD10: 1, CPT: 2, Medications: 3, Diagnoses: 4}
	if got := h.Total(); got != 10 {
		t.Errorf("Total() = %d, want 10", got)
	}
}

// TestLexiconLoads checks the embedded lexicon: each list is present and
// ranked, and ambiguous words are marked.
func TestLexiconLoads(t *testing.T) {
	checks := []struct {
		word  string
		check func(lexEntry) bool
		what  string
	}{
		{"mary", func(e lexEntry) bool { return e.firstRank > 0 && e.firstRank < 10 }, "a top-ten given name"},
		{"Smith", func(e lexEntry) bool { return e.lastRank == 1 }, "the first surname"},
		{"ROSE", func(e lexEntry) bool { return e.isFirst() && e.common }, "a given name that is also a word"},
		{"john", func(e lexEntry) bool { return e.isFirst() && !e.common }, "a given name that is not marked common"},
		{"houston", func(e lexEntry) bool { return e.cityRank > 0 }, "a town"},
		{"san", func(e lexEntry) bool { return e.cityPrefix }, "the first word of a town"},
		{"WROCŁAW", func(e lexEntry) bool { return e.townRank > 0 && e.cityRank == 0 }, "a town outside the US, lowercased as Unicode"},
		{"Szöllösy", func(e lexEntry) bool { return e == lexEntry{} }, "absent: a name no list holds"},
		{"Petr", func(e lexEntry) bool { return e.firstRank > firstCensusNames }, "a given name of other origin, ranked after the Census names"},
		{"Kowalski", func(e lexEntry) bool { return e.isLast() }, "a surname"},
		{"zzzz", func(e lexEntry) bool { return e == lexEntry{} }, "absent"},
	}
	for _, c := range checks {
		if e := lookupWord(c.word); !c.check(e) {
			t.Errorf("lookupWord(%q) = %+v, want %s", c.word, e, c.what)
		}
	}
	if e := lookupPhrase("Los  Angeles", 0, len("Los  Angeles")); e.cityRank == 0 {
		t.Errorf("lookupPhrase(Los Angeles) = %+v, want a town", e)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	lookupWord("warm up")
	allocs := testing.AllocsPerRun(100, func() {
		lookupWord("Johnson")
		inWordSet(notNameWords, "Parkinson")
		lookupPhrase("San Francisco", 0, 13)
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %.0f times per run, want 0", allocs)
	}
}

// TestLexiconTable checks lookups in the decoded name and town table.
func TestLexiconTable(t *testing.T) {
	Preload()
	tests := []struct {
		name  string
		word  string
		check func(lexEntry) bool
	}{
		{"given name", "Mary", lexEntry.isFirst},
		{"surname", "JOHNSON", lexEntry.isLast},
		{"US city", "lawrence", lexEntry.isPlace},
		{"town prefix", "san", func(e lexEntry) bool { return e.cityPrefix }},
		{"common word", "rose", func(e lexEntry) bool { return e.common }},
		{"unlisted", "zzqxv", func(e lexEntry) bool { return e == lexEntry{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if e := lookupWord(tc.word); !tc.check(e) {
				t.Errorf("lookupWord(%q) = %+v", tc.word, e)
			}
		})
	}
}

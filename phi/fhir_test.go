package phi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fhirPatient = `{
  "resourceType": "Patient",
  "id": "pt-0001",
  "identifier": [
    {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-12-3456"},
    {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "value": "MRN-000123"},
    {"type": {"coding": [{"code": "DL"}]}, "value": "S99912345"},
    {"type": {"coding": [{"code": "PPN"}]}, "value": "X12345678X"},
    {"system": "urn:example:local", "value": "LOC-77"}
  ],
  "name": [{"use": "official", "family": "Ro\u00e9", "given": ["Jane", "Q"], "prefix": ["Ms."]}],
  "telecom": [
    {"system": "phone", "value": "555-010-4477"},
    {"system": "fax", "value": "555-010-4478"},
    {"system": "email", "value": "jane.roe@example.com"}
  ],
  "birthDate": "1961-04-12",
  "address": [{"line": ["1200 Example Avenue", "Apt 4B"], "city": "Lawrence", "district": "Douglas", "state": "KS", "postalCode": "66044"}],
  "photo": [{"url": "https://example.com/photo/1.jpg"}],
  "generalPractitioner": [{"reference": "Practitioner/pr-1", "display": "Dr. Alan Example"}],
  "managingOrganization": {"reference": "Organization/org-1", "display": "Example Clinic"}
}`

func TestFHIRDetector(t *testing.T) {
	want := []span{
		{TypeOtherID, "pt-0001"},
		{TypeSSN, "999-12-3456"}, {TypeMRN, "MRN-000123"}, {TypeLicense, "S99912345"},
		{TypeLicense, "X12345678X"}, {TypeOtherID, "LOC-77"},
		{TypeName, `Ro\u00e9`}, {TypeName, "Jane"}, {TypeName, "Q"},
		{TypePhone, "555-010-4477"}, {TypeFax, "555-010-4478"}, {TypeEmail, "jane.roe@example.com"},
		{TypeDate, "1961-04-12"},
		{TypeAddress, "1200 Example Avenue"}, {TypeAddress, "Apt 4B"}, {TypeLocation, "Lawrence"},
		{TypeLocation, "Douglas"}, {TypeZIP, "66044"},
		{TypeURL, "https://example.com/photo/1.jpg"},
		{TypeName, "Dr. Alan Example"}, {TypeLocation, "Example Clinic"},
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(fhirPatient)); err != nil {
		t.Fatalf("compact fixture: %v", err)
	}
	tests := []struct {
		name string
		text string
	}{
		{"pretty-printed", "Summarise this:\n" + fhirPatient + "\nThanks."},
		{"one line", "Summarise " + compact.String() + " please"},
		{"inside bundle", `{"resourceType":"Bundle","entry":[{"resource":` + compact.String() + `}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := spansOf(tc.text, FHIRDetector{}.Detect(tc.text, nil))
			slices.SortFunc(got, compareSpans)
			sorted := slices.Clone(want)
			slices.SortFunc(sorted, compareSpans)
			if !slices.Equal(got, sorted) {
				t.Errorf("Detect\n got %v\nwant %v", got, sorted)
			}
		})
	}
}

func compareSpans(a, b span) int {
	if c := strings.Compare(string(a.typ), string(b.typ)); c != 0 {
		return c
	}
	return strings.Compare(a.text, b.text)
}

func TestFHIRDetectorIgnores(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"clinical resource", `{"resourceType":"Observation","valueQuantity":{"value":98}}`},
		{"broken json", `{"resourceType":"Patient","name":[{"family":"Roe"`},
		{"resource type in prose", `the "resourceType" field names the resource`},
		{"escaped json", `{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Roe\"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (FHIRDetector{}).Detect(tc.text, nil); len(got) != 0 {
				t.Errorf("Detect(%q) = %v, want nothing", tc.text, got)
			}
		})
	}
}

func TestFHIRThroughScanner(t *testing.T) {
	text := "Check " + fhirPatient
	masked := Mask(text, DefaultScanner().Scan(text), nil)
	for _, value := range []string{"999-12-3456", "MRN-000123", `Ro\u00e9`, "Jane", "1961-04-12", "Lawrence", "66044", "555-010-4477"} {
		if strings.Contains(masked, `"`+value+`"`) {
			t.Errorf("masked text still contains %q", value)
		}
	}
}

// fhirCorpusDir holds Synthea FHIR R4 bulk-export files, one resource per
// line. The test skips when they are absent.
const fhirCorpusDir = "../../shared/corpora/synthea-fhir-10"

// fhirExpected lists the identifying fields of a resource as (field, value)
// pairs, read with encoding/json independently of FHIRDetector.
func fhirExpected(resource map[string]any) [][2]string {
	var out [][2]string
	rt, _ := resource["resourceType"].(string)
	add := func(field string, v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, [2]string{rt + "." + field, s})
		}
	}
	list := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		if v == nil {
			return nil
		}
		return []any{v}
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	addAddress := func(field string, v any) {
		for _, a := range list(v) {
			for _, line := range list(obj(a)["line"]) {
				add(field+".line", line)
			}
			add(field+".city", obj(a)["city"])
			add(field+".postalCode", obj(a)["postalCode"])
		}
	}

	for _, n := range list(resource["name"]) {
		if s, ok := n.(string); ok {
			add("name", s)
			continue
		}
		add("name.family", obj(n)["family"])
		for _, g := range list(obj(n)["given"]) {
			add("name.given", g)
		}
	}
	add("birthDate", resource["birthDate"])
	add("deceasedDateTime", resource["deceasedDateTime"])
	for _, c := range list(resource["telecom"]) {
		add("telecom."+fmt.Sprint(obj(c)["system"]), obj(c)["value"])
	}
	addAddress("address", resource["address"])
	for _, id := range list(resource["identifier"]) {
		add("identifier.value", obj(id)["value"])
	}
	for _, ext := range list(resource["extension"]) {
		url, _ := obj(ext)["url"].(string)
		switch {
		case strings.HasSuffix(url, "patient-mothersMaidenName"):
			add("mothersMaidenName", obj(ext)["valueString"])
		case strings.HasSuffix(url, "patient-birthPlace"):
			add("birthPlace.city", obj(obj(ext)["valueAddress"])["city"])
		}
	}
	if p := obj(resource["practitioner"]); p != nil {
		add("practitioner.display", p["display"])
		add("practitioner.identifier.value", obj(p["identifier"])["value"])
	}
	return out
}

// TestFHIRCorpus pastes every resource of the Synthea sample, as one line
// and pretty-printed, into a prompt and checks that each identifying field
// is found: exactly, with FHIRDetector alone, and fully masked by the
// default Scanner. It logs the fraction found per field.
func TestFHIRCorpus(t *testing.T) {
	files := []string{"Patient", "Practitioner", "PractitionerRole", "Organization", "Location"}
	if _, err := os.Stat(filepath.Join(fhirCorpusDir, "Patient.000.ndjson")); err != nil {
		t.Skipf("FHIR corpus not available: %v", err)
	}

	total := map[string]int{}
	exact := map[string]int{}
	masked := map[string]int{}
	for _, name := range files {
		f, err := os.Open(filepath.Join(fhirCorpusDir, name+".000.ndjson"))
		if err != nil {
			t.Fatalf("open corpus: %v", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
		for sc.Scan() {
			line := sc.Bytes()
			var resource map[string]any
			if err := json.Unmarshal(line, &resource); err != nil {
				t.Fatalf("parse %s resource: %v", name, err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, line, "", "  "); err != nil {
				t.Fatalf("indent %s resource: %v", name, err)
			}
			expected := fhirExpected(resource)
			for _, layout := range []string{string(line), pretty.String()} {
				text := "Please summarise this record:\n" + layout + "\nThank you."
				found := map[string]bool{}
				detected := FHIRDetector{}.Detect(text, nil)
				for _, fd := range detected {
					var decoded string
					if err := json.Unmarshal([]byte(`"`+text[fd.Start:fd.End]+`"`), &decoded); err == nil {
						found[decoded] = true
					}
				}
				out := Mask(text, DefaultScanner().Scan(text), nil)
				for _, e := range expected {
					total[e[0]]++
					if found[e[1]] {
						exact[e[0]]++
					}
					if !strings.Contains(out, `"`+e[1]+`"`) {
						masked[e[0]]++
					} else if testing.Verbose() {
						t.Logf("%s %q not masked", e[0], e[1])
					}
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("read corpus: %v", err)
		}
		f.Close()
	}

	for _, field := range slices.Sorted(maps.Keys(total)) {
		t.Logf("%-42s found %4d/%4d (%.3f)  masked %4d/%4d (%.3f)", field,
			exact[field], total[field], float64(exact[field])/float64(total[field]),
			masked[field], total[field], float64(masked[field])/float64(total[field]))
		if exact[field] != total[field] {
			t.Errorf("%s: FHIRDetector found %d of %d values", field, exact[field], total[field])
		}
		if masked[field] != total[field] {
			t.Errorf("%s: Scan masked %d of %d values", field, masked[field], total[field])
		}
	}
}

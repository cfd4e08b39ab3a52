package evaluation

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/phigate/phigate/phi"
)

// fhirPrompt is the text placed before a pasted resource, so that the
// scanned text reads like a prompt rather than bare JSON.
const fhirPrompt = "Summarize this FHIR resource for the care team:\n"

// Document ID suffixes of the two layouts in which each resource is pasted.
const (
	layoutCompact  = "compact"
	layoutIndented = "indented"
)

// fhirResourceTypes are the resource types whose identifying fields are
// scored. Other resource types are read (DocumentReference for its notes)
// or skipped.
var fhirResourceTypes = []string{"Patient", "Practitioner", "PractitionerRole", "Organization", "Location"}

// FHIRResource is one resource of an NDJSON file.
type FHIRResource struct {
	Type string
	ID   string
	// JSON is the resource as read, one compact JSON object.
	JSON []byte
	data map[string]any
}

// FHIRField is an identifying value at a known path of a resource.
type FHIRField struct {
	// Kind names the path, for example "Patient.identifier[SS]" or
	// "Practitioner.telecom[email]".
	Kind  string
	Value string
}

// ReadFHIR reads FHIR R4 resources in NDJSON form, one JSON object with a
// resourceType per line, as a bulk export writes them. Blank lines are
// skipped; a line that is not such an object is an error.
func ReadFHIR(r io.Reader) ([]FHIRResource, error) {
	var resources []FHIRResource
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var data map[string]any
		if err := json.Unmarshal(line, &data); err != nil {
			return nil, fmt.Errorf("line %d: invalid resource: %w", lineNo, err)
		}
		typ, _ := data["resourceType"].(string)
		if typ == "" {
			return nil, fmt.Errorf("line %d: resource has no resourceType", lineNo)
		}
		id, _ := data["id"].(string)
		resources = append(resources, FHIRResource{Type: typ, ID: id, JSON: slices.Clone(line), data: data})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading resources: %w", err)
	}
	return resources, nil
}

// Fields returns the identifying values of the resource. The paths are
// names, birth and death dates, telecom values, address lines, cities and
// postal codes, and typed identifiers (MRN, SSN, driver's licence,
// passport, NPI). Patients add the mother's maiden name and the birthplace
// city, and Organization and Location their name. Date-times contribute
// their date part (YYYY-MM-DD), because the time of day is not a Safe
// Harbor element. Empty values are skipped.
func (r FHIRResource) Fields() []FHIRField {
	var fields []FHIRField
	add := func(kind, value string) {
		if value != "" {
			fields = append(fields, FHIRField{Kind: r.Type + "." + kind, Value: value})
		}
	}

	switch r.Type {
	case "Patient", "Practitioner":
		for _, n := range list(r.data["name"]) {
			for _, g := range list(field(n, "given")) {
				add("name.given", str(g))
			}
			add("name.family", str(field(n, "family")))
		}
	case "Organization", "Location":
		add("name", str(r.data["name"]))
	}
	if r.Type == "Patient" {
		add("birthDate", str(r.data["birthDate"]))
		add("deceasedDateTime", datePart(str(r.data["deceasedDateTime"])))
		for _, ext := range list(r.data["extension"]) {
			switch str(field(ext, "url")) {
			case "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName":
				add("mothersMaidenName", str(field(ext, "valueString")))
			case "http://hl7.org/fhir/StructureDefinition/patient-birthPlace":
				add("birthPlace.city", str(field(field(ext, "valueAddress"), "city")))
			}
		}
	}

	for _, t := range list(r.data["telecom"]) {
		add("telecom["+str(field(t, "system"))+"]", str(field(t, "value")))
	}
	for _, a := range list(r.data["address"]) {
		for _, line := range list(field(a, "line")) {
			add("address.line", str(line))
		}
		add("address.city", str(field(a, "city")))
		add("address.postalCode", str(field(a, "postalCode")))
	}
	for _, id := range list(r.data["identifier"]) {
		if kind := identifierKind(id); kind != "" {
			add("identifier["+kind+"]", str(field(id, "value")))
		}
	}
	if r.Type == "PractitionerRole" {
		if kind := identifierKind(field(field(r.data, "practitioner"), "identifier")); kind != "" {
			add("practitioner.identifier["+kind+"]", str(field(field(field(r.data, "practitioner"), "identifier"), "value")))
		}
	}
	return fields
}

// identifierKind returns the v2-0203 type code of an identifier (MR, SS,
// DL, PPN, ...), "NPI" for the US NPI system, or "" for an untyped
// identifier such as a generator's internal id.
func identifierKind(id any) string {
	if str(field(id, "system")) == "http://hl7.org/fhir/sid/us-npi" {
		return "NPI"
	}
	for _, c := range list(field(field(id, "type"), "coding")) {
		if code := str(field(c, "code")); code != "" {
			return code
		}
	}
	return ""
}

// field returns v[key] when v is a JSON object, else nil.
func field(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

// list returns v as a JSON array, and a single value as a one-element
// list, because Location.address contains one address where other
// resources contain an array.
func list(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	default:
		return []any{v}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func datePart(s string) string {
	if len(s) > 10 && s[10] == 'T' {
		return s[:10]
	}
	return s
}

// FHIRNote is one clinical note: a text/plain attachment of a
// DocumentReference.
type FHIRNote struct {
	ID string
	// PatientID is the id from subject.reference "Patient/<id>", or "".
	PatientID string
	Text      string
}

// FHIRCorpus is a loaded set of FHIR resources.
type FHIRCorpus struct {
	name      string
	Resources []FHIRResource
	Notes     []FHIRNote
	patients  map[string]FHIRResource
	// undecodable counts attachments whose data is not valid base64.
	undecodable int
}

// NewFHIRCorpus returns a corpus named name over resources, decoding the
// notes of DocumentReference resources.
func NewFHIRCorpus(name string, resources []FHIRResource) *FHIRCorpus {
	c := &FHIRCorpus{name: name, patients: map[string]FHIRResource{}}
	for _, r := range resources {
		switch {
		case r.Type == "Patient":
			c.patients[r.ID] = r
			c.Resources = append(c.Resources, r)
		case r.Type == "DocumentReference":
			c.addNotes(r)
		case slices.Contains(fhirResourceTypes, r.Type):
			c.Resources = append(c.Resources, r)
		}
	}
	return c
}

func (c *FHIRCorpus) addNotes(r FHIRResource) {
	patient, _ := strings.CutPrefix(str(field(field(r.data, "subject"), "reference")), "Patient/")
	for i, content := range list(r.data["content"]) {
		att := field(content, "attachment")
		if !strings.HasPrefix(str(field(att, "contentType")), "text/plain") {
			continue
		}
		text, err := base64.StdEncoding.DecodeString(str(field(att, "data")))
		if err != nil {
			c.undecodable++
			continue
		}
		c.Notes = append(c.Notes, FHIRNote{
			ID:        "DocumentReference/" + r.ID + "/" + strconv.Itoa(i),
			PatientID: patient,
			Text:      string(text),
		})
	}
}

func (c *FHIRCorpus) Name() string { return c.name }
func (c *FHIRCorpus) Kind() Kind   { return KindFHIR }

// Documents returns each scored resource twice, pasted compact and
// indented after a short prompt (IDs "<Type>/<id>/compact" and
// "<Type>/<id>/indented"), then every note (ID "DocumentReference/<id>/<n>").
func (c *FHIRCorpus) Documents() []Document {
	docs := make([]Document, 0, 2*len(c.Resources)+len(c.Notes))
	for i, r := range c.Resources {
		docs = append(docs,
			Document{ID: c.resourceID(i, layoutCompact), Text: pasteResource(r.JSON, "")},
			Document{ID: c.resourceID(i, layoutIndented), Text: pasteResource(r.JSON, "  ")},
		)
	}
	for _, n := range c.Notes {
		docs = append(docs, Document{ID: n.ID, Text: n.Text})
	}
	return docs
}

// resourceID includes the index, so resources without an id, or with one
// id reused, still get unique document IDs.
func (c *FHIRCorpus) resourceID(i int, layout string) string {
	r := c.Resources[i]
	return r.Type + "/" + r.ID + "/" + strconv.Itoa(i) + "/" + layout
}

func pasteResource(raw []byte, indent string) string {
	var buf bytes.Buffer
	buf.WriteString(fhirPrompt)
	var err error
	if indent == "" {
		err = json.Compact(&buf, raw)
	} else {
		err = json.Indent(&buf, raw, "", indent)
	}
	if err != nil {
		// Compact and Indent fail only on invalid JSON, which ReadFHIR
		// rejects. A resource built otherwise is pasted unchanged.
		buf.Truncate(len(fhirPrompt))
		buf.Write(raw)
	}
	buf.WriteByte('\n')
	return buf.String()
}

// FHIRScore holds the figures for pasted resources and for notes.
type FHIRScore struct {
	// Fields has one row per field kind, in name order.
	Fields  []FHIRFieldScore `json:"fields"`
	Overall FHIRFieldScore   `json:"overall"`
	Notes   FHIRNoteScore    `json:"notes"`
}

// FHIRFieldScore counts identifying values of one field kind. A value is
// found in a layout when every occurrence of it in that pasted text lies
// inside findings; Found counts values found in both layouts. Missing
// counts values that do not occur in the pasted text at all, which
// happens only when JSON escaping changes them; they are not scored.
type FHIRFieldScore struct {
	Kind          string  `json:"kind"`
	Values        int     `json:"values"`
	FoundCompact  int     `json:"found_compact"`
	FoundIndented int     `json:"found_indented"`
	Found         int     `json:"found"`
	Missing       int     `json:"missing,omitempty"`
	Rate          float64 `json:"rate"`
}

// FHIRNoteScore holds the note figures. A note passes when every
// occurrence of every item it contains is masked; Items breaks that down
// by item kind.
type FHIRNoteScore struct {
	Notes    int     `json:"notes"`
	Passed   int     `json:"passed"`
	PassRate float64 `json:"pass_rate"`
	// UnknownPatient counts notes whose subject is not a Patient of the
	// corpus; their names cannot be checked.
	UnknownPatient int             `json:"unknown_patient"`
	Undecodable    int             `json:"undecodable"`
	Items          []NoteItemScore `json:"items"`
}

// NoteItemScore counts one kind of item in notes: "given name", "family
// name", "date" or "age over 89".
type NoteItemScore struct {
	Kind string `json:"kind"`
	// Notes counts notes containing the item, NotesMasked those in which
	// every occurrence was masked.
	Notes       int     `json:"notes"`
	NotesMasked int     `json:"notes_masked"`
	Occurrences int     `json:"occurrences"`
	Masked      int     `json:"masked"`
	Rate        float64 `json:"rate"`
}

// Score checks identifying fields of pasted resources and names, dates
// and ages in notes (see FHIRFieldScore and noteItems for the rules).
// Resources and notes without predictions are left out.
func (c *FHIRCorpus) Score(pred Predictions) (*Report, error) {
	docs, found, err := scoredDocuments(c.Documents(), pred)
	if err != nil {
		return nil, err
	}
	findingsByID := make(map[string][]phi.Finding, len(docs))
	textByID := make(map[string]string, len(docs))
	for k, d := range docs {
		findingsByID[d.ID] = found[k]
		textByID[d.ID] = d.Text
	}

	score := &FHIRScore{}
	score.Fields, score.Overall = c.scoreFields(findingsByID, textByID)
	score.Notes = c.scoreNotes(findingsByID)

	return &Report{
		Corpus:    c.name,
		Kind:      KindFHIR,
		Documents: len(docs),
		Bytes:     textBytes(docs),
		FHIR:      score,
	}, nil
}

func (c *FHIRCorpus) scoreFields(findings map[string][]phi.Finding, texts map[string]string) ([]FHIRFieldScore, FHIRFieldScore) {
	rows := map[string]*FHIRFieldScore{}
	for i, r := range c.Resources {
		compactID, indentedID := c.resourceID(i, layoutCompact), c.resourceID(i, layoutIndented)
		_, hasCompact := findings[compactID]
		_, hasIndented := findings[indentedID]
		if !hasCompact || !hasIndented {
			continue
		}
		for _, f := range r.Fields() {
			row, ok := rows[f.Kind]
			if !ok {
				row = &FHIRFieldScore{Kind: f.Kind}
				rows[f.Kind] = row
			}
			inCompact, okCompact := valueMasked(texts[compactID], f.Value, findings[compactID])
			inIndented, okIndented := valueMasked(texts[indentedID], f.Value, findings[indentedID])
			if !okCompact || !okIndented {
				row.Missing++
				continue
			}
			row.Values++
			if inCompact {
				row.FoundCompact++
			}
			if inIndented {
				row.FoundIndented++
			}
			if inCompact && inIndented {
				row.Found++
			}
		}
	}

	overall := FHIRFieldScore{Kind: "overall"}
	var out []FHIRFieldScore
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		row := rows[k]
		row.Rate = Ratio(row.Found, row.Values)
		overall.Values += row.Values
		overall.FoundCompact += row.FoundCompact
		overall.FoundIndented += row.FoundIndented
		overall.Found += row.Found
		overall.Missing += row.Missing
		out = append(out, *row)
	}
	overall.Rate = Ratio(overall.Found, overall.Values)
	return out, overall
}

// valueMasked reports whether every occurrence of value in text lies
// inside findings. The value is looked up as is and, failing that, in its
// JSON-escaped form. ok is false when neither occurs.
func valueMasked(text, value string, findings []phi.Finding) (masked, ok bool) {
	spans := occurrences(text, value, false)
	if len(spans) == 0 {
		if escaped := jsonEscape(value); escaped != value {
			spans = occurrences(text, escaped, false)
		}
	}
	if len(spans) == 0 {
		return false, false
	}
	for _, s := range spans {
		if !covered(findings, s[0], s[1]) {
			return false, true
		}
	}
	return true, true
}

func jsonEscape(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return s
	}
	out := strings.TrimSpace(buf.String())
	return out[1 : len(out)-1]
}

// occurrences returns the byte spans of every occurrence of sub in text.
// With words set, an occurrence must not be preceded or followed by a
// letter or digit, so that a short name does not match inside a word.
func occurrences(text, sub string, words bool) [][2]int {
	if sub == "" {
		return nil
	}
	var spans [][2]int
	for from := 0; from < len(text); {
		i := strings.Index(text[from:], sub)
		if i < 0 {
			break
		}
		start, end := from+i, from+i+len(sub)
		if !words || (!alnumAt(text, start-1) && !alnumAt(text, end)) {
			spans = append(spans, [2]int{start, end})
		}
		from = start + 1
	}
	return spans
}

func alnumAt(text string, i int) bool {
	if i < 0 || i >= len(text) {
		return false
	}
	c := text[i]
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

var (
	noteDate = regexp.MustCompile(`\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})\b`)
	noteAge  = regexp.MustCompile(`\b(\d{2,3})[ -]years?[ -]old\b`)
)

// Note item kinds, in report order.
const (
	itemGiven  = "given name"
	itemFamily = "family name"
	itemDate   = "date"
	itemAge    = "age over 89"
)

// noteItems returns the spans that must be masked in a note, by item
// kind: each given and family name of the patient (every Patient.name
// entry, matched as a whole word), each date written YYYY-MM-DD or
// M/D/YYYY, and the number of each "N year-old" with N over 89.
func noteItems(text string, patient *FHIRResource) map[string][][2]int {
	items := map[string][][2]int{}
	if patient != nil {
		seen := map[string]bool{}
		for _, n := range list(patient.data["name"]) {
			for _, g := range list(field(n, "given")) {
				if name := str(g); !seen[name] {
					seen[name] = true
					items[itemGiven] = append(items[itemGiven], occurrences(text, name, true)...)
				}
			}
			if name := str(field(n, "family")); !seen[name] {
				seen[name] = true
				items[itemFamily] = append(items[itemFamily], occurrences(text, name, true)...)
			}
		}
	}
	for _, m := range noteDate.FindAllStringIndex(text, -1) {
		items[itemDate] = append(items[itemDate], [2]int{m[0], m[1]})
	}
	for _, m := range noteAge.FindAllStringSubmatchIndex(text, -1) {
		if age, _ := strconv.Atoi(text[m[2]:m[3]]); age > 89 {
			items[itemAge] = append(items[itemAge], [2]int{m[2], m[3]})
		}
	}
	return items
}

func (c *FHIRCorpus) scoreNotes(findings map[string][]phi.Finding) FHIRNoteScore {
	score := FHIRNoteScore{Undecodable: c.undecodable}
	kinds := []string{itemGiven, itemFamily, itemDate, itemAge}
	rows := make([]NoteItemScore, len(kinds))
	for i, k := range kinds {
		rows[i].Kind = k
	}

	for _, n := range c.Notes {
		fs, ok := findings[n.ID]
		if !ok {
			continue
		}
		score.Notes++
		var patient *FHIRResource
		if p, ok := c.patients[n.PatientID]; ok {
			patient = &p
		} else {
			score.UnknownPatient++
		}

		items := noteItems(n.Text, patient)
		passed := true
		for i, k := range kinds {
			spans := items[k]
			if len(spans) == 0 {
				continue
			}
			masked := 0
			for _, s := range spans {
				if covered(fs, s[0], s[1]) {
					masked++
				}
			}
			rows[i].Notes++
			rows[i].Occurrences += len(spans)
			rows[i].Masked += masked
			if masked == len(spans) {
				rows[i].NotesMasked++
			} else {
				passed = false
			}
		}
		if passed {
			score.Passed++
		}
	}

	for i := range rows {
		rows[i].Rate = Ratio(rows[i].NotesMasked, rows[i].Notes)
	}
	score.Items = rows
	score.PassRate = Ratio(score.Passed, score.Notes)
	return score
}

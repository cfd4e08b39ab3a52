package phi

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// FHIRDetector finds the identifying fields of FHIR R4 resources pasted
// into text as JSON, one line or pretty-printed, alone or inside a Bundle.
// It handles the resource types that describe people and places: Patient,
// Practitioner, RelatedPerson, Person, Organization, Location and
// PractitionerRole.
//
// Each field is typed by its place in the resource, not by its shape:
//   - HumanName family, given and text are NAME, and so is the mother's
//     maiden name extension;
//   - birthDate and deceasedDateTime are DATE;
//   - a ContactPoint value is PHONE, FAX, EMAIL or URL by its system;
//   - Address line and text are ADDRESS, city and district LOCATION, and
//     postalCode ZIP;
//   - an Identifier value is SSN, MRN, NPI, HEALTH_PLAN_ID, LICENSE
//     (driver's licence, passport, DEA) or ACCOUNT by its system or type
//     code, and OTHER_ID otherwise;
//   - a photo url is URL;
//   - Organization and Location names, and the display of a reference to
//     one, are LOCATION, while the display of a reference to a person is
//     NAME.
//
// The resource id is OTHER_ID, because systems such as Synthea reuse it as
// a record number or as the value of an identifier. A literal reference to
// a person resource ("Patient/123") has its id reported as OTHER_ID too.
//
// A finding covers the contents of the JSON string token, between the
// quotes, as written in the text (escapes included).
//
// NOTE: a resource pasted as an escaped JSON string (`{\"resourceType\":
// ...}`) is not parsed. The other detectors still scan it.
type FHIRDetector struct{}

// maxFHIRResourceBytes bounds the JSON object parsed for one resource, so
// a pasted export cannot make one scan parse megabytes. A larger resource
// is left to the other detectors.
const maxFHIRResourceBytes = 1 << 20

// maxFHIRDepth bounds the nesting of a parsed resource; FHIR R4 resources
// of the handled types nest fewer than 12 levels.
const maxFHIRDepth = 64

// fhirHandledTypes are the resource types whose fields are reported.
var fhirHandledTypes = map[string]bool{
	"Patient": true, "Practitioner": true, "RelatedPerson": true, "Person": true,
	"Organization": true, "Location": true, "PractitionerRole": true,
}

// Name returns "fhir".
func (FHIRDetector) Name() string { return "fhir" }

// scansOriginalText makes the Scanner pass the original text, whose JSON
// escapes normalization would decode.
func (FHIRDetector) scansOriginalText() {}

// Detect appends the identifying fields of the FHIR resources in text to
// dst.
func (d FHIRDetector) Detect(text string, dst []Finding) []Finding {
	const key = `"resourceType"`
	for off := 0; off < len(text); {
		k := strings.Index(text[off:], key)
		if k < 0 {
			break
		}
		p := off + k
		off = p + len(key)

		start := enclosingObjectStart(text, p)
		if start < 0 {
			continue
		}
		root, err := parseJSONTree(text, start)
		if err != nil || root.kind != '{' {
			continue
		}
		typeNode := root.member("resourceType")
		if typeNode == nil || typeNode.kind != 's' || !fhirHandledTypes[typeNode.str] {
			continue
		}
		w := fhirWalker{detector: d.Name(), dst: dst}
		w.resource(root, typeNode.str)
		dst = w.dst
	}
	return dst
}

// enclosingObjectStart returns the offset of the '{' that opens the JSON
// object around offset p, or -1. It counts braces backwards without
// reading strings, so a brace inside a string before p can mislead it. The
// parse that follows then fails and the resource is skipped.
func enclosingObjectStart(text string, p int) int {
	depth := 0
	for k := p - 1; k >= 0 && p-k <= maxFHIRResourceBytes; k-- {
		switch text[k] {
		case '}', ']':
			depth++
		case '{', '[':
			if depth == 0 {
				if text[k] == '{' {
					return k
				}
				return -1
			}
			depth--
		}
	}
	return -1
}

// jsonNode is one parsed JSON value with the offsets of string contents.
type jsonNode struct {
	// kind is '{', '[', 's' for a string or 'v' for another scalar.
	kind byte
	// str is the decoded value of a string.
	str string
	// start and end delimit a string's contents in the text, between the
	// quotes.
	start, end int
	// keys and values are an object's members in order, or an array's
	// elements in values.
	keys   []string
	values []*jsonNode
}

// member returns the value of an object's first member named key, or nil.
func (n *jsonNode) member(key string) *jsonNode {
	if n == nil || n.kind != '{' {
		return nil
	}
	for k, name := range n.keys {
		if name == key {
			return n.values[k]
		}
	}
	return nil
}

// memberString returns the decoded string member key, or "".
func (n *jsonNode) memberString(key string) string {
	if v := n.member(key); v != nil && v.kind == 's' {
		return v.str
	}
	return ""
}

// elements returns an array's elements, or the value itself when it is not
// an array, since FHIR JSON writers differ on single-element fields.
func (n *jsonNode) elements() []*jsonNode {
	if n == nil {
		return nil
	}
	if n.kind == '[' {
		return n.values
	}
	return []*jsonNode{n}
}

var errJSONTooDeep = errors.New("json nesting too deep")

// parseJSONTree parses the JSON value that starts at offset start of text,
// reading at most maxFHIRResourceBytes, and records string offsets.
func parseJSONTree(text string, start int) (*jsonNode, error) {
	limit := min(len(text), start+maxFHIRResourceBytes)
	p := jsonTreeParser{text: text, base: start}
	p.dec = json.NewDecoder(strings.NewReader(text[start:limit]))
	p.dec.UseNumber()
	return p.value(0)
}

type jsonTreeParser struct {
	dec  *json.Decoder
	text string
	base int
}

func (p *jsonTreeParser) value(depth int) (*jsonNode, error) {
	if depth > maxFHIRDepth {
		return nil, errJSONTooDeep
	}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return p.object(depth)
		}
		if t == '[' {
			return p.array(depth)
		}
		return nil, io.ErrUnexpectedEOF
	case string:
		return p.stringNode(t), nil
	default:
		return &jsonNode{kind: 'v'}, nil
	}
}

// stringNode builds the node for the string token just read. The decoder
// offset is right after its closing quote. The opening quote is the
// nearest one before that is not escaped, because a JSON string contains
// no bare quotes.
func (p *jsonTreeParser) stringNode(s string) *jsonNode {
	closing := p.base + int(p.dec.InputOffset()) - 1
	opening := closing - 1
	for ; opening > p.base; opening-- {
		if p.text[opening] != '"' {
			continue
		}
		backslashes := 0
		for k := opening - 1; k >= p.base && p.text[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			break
		}
	}
	return &jsonNode{kind: 's', str: s, start: opening + 1, end: closing}
}

func (p *jsonTreeParser) object(depth int) (*jsonNode, error) {
	n := &jsonNode{kind: '{'}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, io.ErrUnexpectedEOF
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.values = append(n.values, v)
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, err
	}
	return n, nil
}

func (p *jsonTreeParser) array(depth int) (*jsonNode, error) {
	n := &jsonNode{kind: '['}
	for p.dec.More() {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.values = append(n.values, v)
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, err
	}
	return n, nil
}

// fhirWalker collects the findings of one resource.
type fhirWalker struct {
	detector string
	dst      []Finding
}

func (w *fhirWalker) report(n *jsonNode, typ Type) {
	if n == nil || n.kind != 's' || n.end <= n.start {
		return
	}
	w.dst = append(w.dst, Finding{Type: typ, Start: n.start, End: n.end, Confidence: confContext, Detector: w.detector})
}

// resource walks a resource root of type rt.
func (w *fhirWalker) resource(root *jsonNode, rt string) {
	w.report(root.member("id"), TypeOtherID)
	switch rt {
	case "Organization", "Location":
		if name := root.member("name"); name != nil && name.kind == 's' {
			w.report(name, TypeLocation)
		}
		for _, alias := range root.member("alias").elements() {
			w.report(alias, TypeLocation)
		}
	}
	w.object(root, "")
}

// object walks the members of an object found under parentKey.
func (w *fhirWalker) object(n *jsonNode, parentKey string) {
	if display := n.member("display"); display != nil && parentKey != "" {
		if typ, ok := referenceDisplayType(n.memberString("reference"), parentKey); ok {
			w.report(display, typ)
		}
	}
	if ref := n.member("reference"); ref != nil && ref.kind == 's' {
		w.reference(ref)
	}

	for k, key := range n.keys {
		v := n.values[k]
		switch key {
		case "resourceType", "text", "meta":
			// The narrative is HTML that the other detectors scan.
		case "name":
			for _, e := range v.elements() {
				if e.kind == '{' {
					w.humanName(e)
				}
			}
		case "valueHumanName":
			w.humanName(v)
		case "telecom", "valueContactPoint":
			for _, e := range v.elements() {
				w.contactPoint(e)
			}
		case "address", "valueAddress":
			for _, e := range v.elements() {
				w.address(e)
			}
		case "identifier", "valueIdentifier":
			for _, e := range v.elements() {
				w.identifier(e)
			}
		case "birthDate", "deceasedDateTime":
			w.report(v, TypeDate)
		case "photo":
			for _, e := range v.elements() {
				w.report(e.member("url"), TypeURL)
				w.report(e.member("data"), TypeOtherID)
			}
		case "extension":
			for _, e := range v.elements() {
				if strings.HasSuffix(e.memberString("url"), "mothersMaidenName") {
					w.report(e.member("valueString"), TypeName)
				}
				w.walk(e, key)
			}
		default:
			w.walk(v, key)
		}
	}
}

// walk descends into objects and arrays under key, skipping nested
// resources, which Detect finds on their own.
func (w *fhirWalker) walk(v *jsonNode, key string) {
	switch v.kind {
	case '{':
		if v.member("resourceType") == nil {
			w.object(v, key)
		}
	case '[':
		for _, e := range v.values {
			w.walk(e, key)
		}
	}
}

func (w *fhirWalker) humanName(n *jsonNode) {
	w.report(n.member("family"), TypeName)
	w.report(n.member("text"), TypeName)
	for _, given := range n.member("given").elements() {
		w.report(given, TypeName)
	}
}

func (w *fhirWalker) contactPoint(n *jsonNode) {
	value := n.member("value")
	if value == nil || value.kind != 's' {
		return
	}
	var typ Type
	switch n.memberString("system") {
	case "phone", "sms", "pager":
		typ = TypePhone
	case "fax":
		typ = TypeFax
	case "email":
		typ = TypeEmail
	case "url":
		typ = TypeURL
	case "other":
		typ = TypeOtherID
	default:
		switch {
		case strings.Contains(value.str, "@"):
			typ = TypeEmail
		case strings.Contains(value.str, "://"):
			typ = TypeURL
		default:
			typ = TypePhone
		}
	}
	w.report(value, typ)
}

func (w *fhirWalker) address(n *jsonNode) {
	for _, line := range n.member("line").elements() {
		w.report(line, TypeAddress)
	}
	w.report(n.member("text"), TypeAddress)
	w.report(n.member("city"), TypeLocation)
	w.report(n.member("district"), TypeLocation)
	w.report(n.member("postalCode"), TypeZIP)
}

// identifierTypes maps HL7 v2 table 0203 identifier type codes to types.
var identifierTypes = map[string]Type{
	"SS": TypeSSN, "MR": TypeMRN, "NPI": TypeNPI,
	"MC": TypeHealthID, "MB": TypeHealthID, "MA": TypeHealthID, "SN": TypeHealthID,
	"DL": TypeLicense, "PPN": TypeLicense, "DEA": TypeLicense, "MD": TypeLicense, "LN": TypeLicense,
	"AN": TypeAccount, "AM": TypeAccount, "BA": TypeAccount, "BC": TypeAccount,
}

// identifierSystems maps well-known identifier system URIs to types.
var identifierSystems = map[string]Type{
	"http://hl7.org/fhir/sid/us-ssn": TypeSSN,
	"http://hl7.org/fhir/sid/us-npi": TypeNPI,
	"http://hl7.org/fhir/sid/us-mbi": TypeHealthID,
	"urn:oid:2.16.840.1.113883.4.1":  TypeSSN,
	"urn:oid:2.16.840.1.113883.4.6":  TypeNPI,
}

func (w *fhirWalker) identifier(n *jsonNode) {
	value := n.member("value")
	if value == nil || value.kind != 's' {
		return
	}
	typ, ok := identifierSystems[n.memberString("system")]
	if !ok {
		typ = TypeOtherID
		for _, coding := range n.member("type").member("coding").elements() {
			if t, found := identifierTypes[coding.memberString("code")]; found {
				typ = t
				break
			}
		}
	}
	w.report(value, typ)
	if assigner := n.member("assigner"); assigner != nil && assigner.kind == '{' {
		w.object(assigner, "assigner")
	}
}

// reference reports the id in a literal reference to a person resource
// ("Patient/123"), which links the text to that person.
func (w *fhirWalker) reference(ref *jsonNode) {
	for _, prefix := range [...]string{"Patient/", "RelatedPerson/", "Person/"} {
		if !strings.HasPrefix(ref.str, prefix) || len(ref.str) == len(prefix) {
			continue
		}
		// Narrow the span to the id only when the token holds no escapes,
		// so that decoded and raw offsets agree.
		if ref.end-ref.start == len(ref.str) {
			w.report(&jsonNode{kind: 's', start: ref.start + len(prefix), end: ref.end}, TypeOtherID)
		} else {
			w.report(ref, TypeOtherID)
		}
		return
	}
}

// referenceDisplayType returns the type of a reference's display text,
// from the reference's target type or, without one, from the member that
// holds the reference.
func referenceDisplayType(reference, parentKey string) (Type, bool) {
	target, _, _ := strings.Cut(reference, "/")
	switch target {
	case "Patient", "Practitioner", "RelatedPerson", "Person":
		return TypeName, true
	case "Organization", "Location":
		return TypeLocation, true
	}
	switch parentKey {
	case "patient", "practitioner", "subject", "generalPractitioner", "other", "author", "performer", "requester":
		return TypeName, true
	case "organization", "managingOrganization", "location", "partOf", "serviceProvider", "custodian", "assigner":
		return TypeLocation, true
	}
	return "", false
}

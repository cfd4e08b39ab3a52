package evaluation

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/phigate/phigate/phi"
)

// SpanLabels maps the entity labels of span-annotated corpora (Presidio's
// label set) to phigate types. Labels absent from the map, such as
// ORGANIZATION, TITLE, NRP and AGE, are not Safe Harbor identifiers in
// general, so they are left out of the score. A tool that misses them
// loses no recall, and a tool that finds them loses no precision.
var SpanLabels = map[string]phi.Type{
	"PERSON":            phi.TypeName,
	"STREET_ADDRESS":    phi.TypeAddress,
	"GPE":               phi.TypeLocation,
	"LOCATION":          phi.TypeLocation,
	"DATE_TIME":         phi.TypeDate,
	"PHONE_NUMBER":      phi.TypePhone,
	"US_SSN":            phi.TypeSSN,
	"EMAIL_ADDRESS":     phi.TypeEmail,
	"IP_ADDRESS":        phi.TypeIPAddress,
	"ZIP_CODE":          phi.TypeZIP,
	"CREDIT_CARD":       phi.TypeAccount,
	"IBAN_CODE":         phi.TypeAccount,
	"US_BANK_NUMBER":    phi.TypeAccount,
	"US_DRIVER_LICENSE": phi.TypeLicense,
	"MEDICAL_LICENSE":   phi.TypeLicense,
	"DOMAIN_NAME":       phi.TypeURL,
	"URL":               phi.TypeURL,
}

// sameKind reports whether a prediction of type got matches a gold span of
// type want for the type-exact figures. ADDRESS, LOCATION and ZIP are one
// kind, because corpora split postal addresses differently from phigate
// (Presidio's STREET_ADDRESS spans include the town and postal code, which
// phigate may report apart), and all three are Safe Harbor geographic
// subdivisions. PHONE and FAX are one kind, because the digits alone
// cannot tell them apart.
func sameKind(got, want phi.Type) bool {
	return kindOf(got) == kindOf(want)
}

func kindOf(t phi.Type) phi.Type {
	switch t {
	case phi.TypeLocation, phi.TypeZIP:
		return phi.TypeAddress
	case phi.TypeFax:
		return phi.TypePhone
	}
	return t
}

// SpanSample is one annotated text of a span corpus.
type SpanSample struct {
	Text  string
	Spans []GoldSpan
}

// GoldSpan is one annotated entity, with byte offsets into its sample's
// text, End exclusive.
type GoldSpan struct {
	Label      string
	Start, End int
}

type rawSpanSample struct {
	FullText string `json:"full_text"`
	Spans    []struct {
		EntityType  string `json:"entity_type"`
		EntityValue string `json:"entity_value"`
		Start       int    `json:"start_position"`
		End         int    `json:"end_position"`
	} `json:"spans"`
}

// ReadSpans reads a span-annotated corpus: a JSON array of objects with
// full_text and spans, each span giving entity_type, entity_value and
// start_position/end_position as 0-based code point offsets (Python string
// indexes), end exclusive. The offsets are converted to byte offsets. A
// span whose offsets fall outside the text, or whose text differs from its
// entity_value, makes the corpus invalid, because its offsets would then
// be counted in some other unit.
func ReadSpans(r io.Reader) ([]SpanSample, error) {
	var raw []rawSpanSample
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("decoding span corpus: %w", err)
	}

	samples := make([]SpanSample, 0, len(raw))
	for i, rs := range raw {
		offsets := codePointOffsets(rs.FullText)
		sample := SpanSample{Text: rs.FullText}
		for j, sp := range rs.Spans {
			if sp.Start < 0 || sp.End < sp.Start || sp.End >= len(offsets) {
				return nil, fmt.Errorf("sample %d, span %d: offsets %d-%d are outside the %d-character text", i, j, sp.Start, sp.End, len(offsets)-1)
			}
			g := GoldSpan{Label: sp.EntityType, Start: offsets[sp.Start], End: offsets[sp.End]}
			if got := rs.FullText[g.Start:g.End]; got != sp.EntityValue {
				return nil, fmt.Errorf("sample %d, span %d: text at offsets %d-%d differs from entity_value", i, j, sp.Start, sp.End)
			}
			sample.Spans = append(sample.Spans, g)
		}
		samples = append(samples, sample)
	}
	return samples, nil
}

// codePointOffsets returns the byte offset of each code point of s,
// followed by len(s), so that offsets[k] converts code point index k to a
// byte index. Go decodes JSON into valid UTF-8 and Python counts a decoded
// surrogate pair as one code point, so the two indexings agree.
func codePointOffsets(s string) []int {
	offsets := make([]int, 0, len(s)+1)
	for i := range s {
		offsets = append(offsets, i)
	}
	return append(offsets, len(s))
}

// isBareYear reports whether a date span is only a year. Safe Harbor lets
// the year of a date be kept, so such spans are left out of the score.
func isBareYear(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SpanCorpus is a loaded span-annotated corpus.
type SpanCorpus struct {
	name    string
	Samples []SpanSample
}

// NewSpanCorpus returns a corpus named name over samples.
func NewSpanCorpus(name string, samples []SpanSample) *SpanCorpus {
	return &SpanCorpus{name: name, Samples: samples}
}

func (c *SpanCorpus) Name() string { return c.name }
func (c *SpanCorpus) Kind() Kind   { return KindSpans }

// Documents returns one document per sample, with the sample's index as
// ID.
func (c *SpanCorpus) Documents() []Document {
	docs := make([]Document, len(c.Samples))
	for i, s := range c.Samples {
		docs[i] = Document{ID: strconv.Itoa(i), Text: s.Text}
	}
	return docs
}

// SpanScore holds the span figures, per phigate type and overall.
type SpanScore struct {
	Types   []SpanTypeScore `json:"types"`
	Overall SpanTypeScore   `json:"overall"`
	// Excluded counts gold spans left out of the score, by corpus label:
	// labels without a phigate type, and DATE_TIME spans that are a bare
	// year.
	Excluded map[string]int `json:"excluded"`
}

// SpanTypeScore holds the counts and rates for one phigate type (or all
// of them). Gold-side counts use the type mapped from the gold label,
// prediction-side counts use the predicted type.
//
// "Any" figures accept a match of any type: what matters for redaction is
// that the text was masked. "Exact" figures require the same kind (see
// sameKind).
type SpanTypeScore struct {
	Type string `json:"type"`

	Gold       int `json:"gold"`
	FoundAny   int `json:"found_any"`
	FoundExact int `json:"found_exact"`
	// GoldBytes and CoveredBytes measure how much of the gold text was
	// masked, which overlap matching alone hides.
	GoldBytes    int `json:"gold_bytes"`
	CoveredBytes int `json:"covered_bytes"`

	Predicted    int `json:"predicted"`
	CorrectAny   int `json:"correct_any"`
	CorrectExact int `json:"correct_exact"`

	RecallAny      float64 `json:"recall_any"`
	PrecisionAny   float64 `json:"precision_any"`
	F1Any          float64 `json:"f1_any"`
	RecallExact    float64 `json:"recall_exact"`
	PrecisionExact float64 `json:"precision_exact"`
	F1Exact        float64 `json:"f1_exact"`
	ByteRecall     float64 `json:"byte_recall"`
}

func (s *SpanTypeScore) add(o SpanTypeScore) {
	s.Gold += o.Gold
	s.FoundAny += o.FoundAny
	s.FoundExact += o.FoundExact
	s.GoldBytes += o.GoldBytes
	s.CoveredBytes += o.CoveredBytes
	s.Predicted += o.Predicted
	s.CorrectAny += o.CorrectAny
	s.CorrectExact += o.CorrectExact
}

func (s *SpanTypeScore) finish() {
	s.RecallAny = Ratio(s.FoundAny, s.Gold)
	s.PrecisionAny = Ratio(s.CorrectAny, s.Predicted)
	s.F1Any = F1(s.PrecisionAny, s.RecallAny)
	s.RecallExact = Ratio(s.FoundExact, s.Gold)
	s.PrecisionExact = Ratio(s.CorrectExact, s.Predicted)
	s.F1Exact = F1(s.PrecisionExact, s.RecallExact)
	s.ByteRecall = Ratio(s.CoveredBytes, s.GoldBytes)
}

// Score matches predictions with gold spans. Two spans match when they
// share at least one byte. A scored gold span is found when some
// prediction matches it; a prediction is correct when it matches some
// scored gold span. One prediction covering two gold spans finds both and
// counts once; two predictions inside one gold span find it once and are
// both correct. A prediction that matches only excluded gold spans (an
// ORGANIZATION, say) is not counted at all, and one that matches nothing
// is a false positive.
func (c *SpanCorpus) Score(pred Predictions) (*Report, error) {
	docs, found, err := scoredDocuments(c.Documents(), pred)
	if err != nil {
		return nil, err
	}

	byType := map[string]*SpanTypeScore{}
	row := func(t phi.Type) *SpanTypeScore {
		r, ok := byType[string(t)]
		if !ok {
			r = &SpanTypeScore{Type: string(t)}
			byType[string(t)] = r
		}
		return r
	}
	excluded := map[string]int{}

	for k, d := range docs {
		idx, _ := strconv.Atoi(d.ID)
		sample := c.Samples[idx]
		findings := found[k]

		var scored, ignored []GoldSpan
		for _, g := range sample.Spans {
			t, ok := SpanLabels[g.Label]
			if !ok || (t == phi.TypeDate && isBareYear(sample.Text[g.Start:g.End])) {
				excluded[g.Label]++
				ignored = append(ignored, g)
				continue
			}
			scored = append(scored, g)
		}

		for _, g := range scored {
			t := SpanLabels[g.Label]
			r := row(t)
			r.Gold++
			r.GoldBytes += g.End - g.Start
			r.CoveredBytes += coveredBytes(findings, g.Start, g.End)
			anyHit, exactHit := false, false
			for _, f := range findings {
				if overlaps(f.Start, f.End, g.Start, g.End) {
					anyHit = true
					exactHit = exactHit || sameKind(f.Type, t)
				}
			}
			if anyHit {
				r.FoundAny++
			}
			if exactHit {
				r.FoundExact++
			}
		}

		for _, f := range findings {
			anyHit, exactHit, ignoredHit := false, false, false
			for _, g := range scored {
				if overlaps(f.Start, f.End, g.Start, g.End) {
					anyHit = true
					exactHit = exactHit || sameKind(f.Type, SpanLabels[g.Label])
				}
			}
			for _, g := range ignored {
				ignoredHit = ignoredHit || overlaps(f.Start, f.End, g.Start, g.End)
			}
			if !anyHit && ignoredHit {
				continue
			}
			r := row(f.Type)
			r.Predicted++
			if anyHit {
				r.CorrectAny++
			}
			if exactHit {
				r.CorrectExact++
			}
		}
	}

	score := &SpanScore{Overall: SpanTypeScore{Type: "overall"}, Excluded: excluded}
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		r := byType[t]
		r.finish()
		score.Overall.add(*r)
		score.Types = append(score.Types, *r)
	}
	score.Overall.finish()

	return &Report{
		Corpus:    c.name,
		Kind:      KindSpans,
		Documents: len(docs),
		Bytes:     textBytes(docs),
		Spans:     score,
	}, nil
}

func overlaps(aStart, aEnd, bStart, bEnd int) bool {
	return aStart < bEnd && bStart < aEnd
}

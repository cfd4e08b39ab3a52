package evaluation

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/phigate/phigate/phi"
)

// Markers of the value-tagged query format.
const (
	queryMarker = "===QUERY==="
	tagsMarker  = "===PHI_TAGS==="
)

// QueryTagTypes maps the tag types of the clinical-queries corpus to the
// phigate types that should mask them. The leak measure does not use the
// mapping, since a value leaks whatever type masks it, but reports and
// docs show it to relate the two vocabularies.
var QueryTagTypes = map[string]phi.Type{
	"NAME":                           phi.TypeName,
	"GEOGRAPHIC_LOCATION":            phi.TypeLocation,
	"DATE":                           phi.TypeDate,
	"MEDICAL_RECORD_NUMBER":          phi.TypeMRN,
	"HEALTH_PLAN_BENEFICIARY_NUMBER": phi.TypeHealthID,
	"PHONE_NUMBER":                   phi.TypePhone,
	"FAX_NUMBER":                     phi.TypeFax,
	"SOCIAL_SECURITY_NUMBER":         phi.TypeSSN,
	"EMAIL_ADDRESS":                  phi.TypeEmail,
	"ACCOUNT_NUMBER":                 phi.TypeAccount,
	"CERTIFICATE_LICENSE_NUMBER":     phi.TypeLicense,
	"UNIQUE_IDENTIFIER":              phi.TypeOtherID,
}

// Query is one query of a value-tagged corpus. A query without tags is a
// hard negative: it contains no PHI.
type Query struct {
	Text string
	Tags []QueryTag
}

// QueryTag is one tagged PHI value. Tags give values, not offsets, and a
// value may occur more than once in its query.
type QueryTag struct {
	Type  string `json:"identifier_type"`
	Value string `json:"value"`
}

// ReadQueries reads a value-tagged corpus: blocks of a "===QUERY===" line,
// the query text, a "===PHI_TAGS===" line and one JSON object
// {"identifier_type", "value"} per line. Blank lines are ignored; a query
// text spread over several lines is joined with newlines. Text before the
// first marker, a tag line that is not such an object, or a tag with an
// empty value is an error.
func ReadQueries(r io.Reader) ([]Query, error) {
	var queries []Query
	section := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == queryMarker:
			queries = append(queries, Query{})
			section = "query"
		case line == tagsMarker:
			if section != "query" {
				return nil, fmt.Errorf("line %d: %s without a preceding %s", lineNo, tagsMarker, queryMarker)
			}
			section = "tags"
		case strings.TrimSpace(line) == "":
		case section == "query":
			q := &queries[len(queries)-1]
			if q.Text != "" {
				q.Text += "\n"
			}
			q.Text += line
		case section == "tags":
			var tag QueryTag
			if err := json.Unmarshal([]byte(line), &tag); err != nil {
				return nil, fmt.Errorf("line %d: invalid tag: %w", lineNo, err)
			}
			if tag.Value == "" {
				return nil, fmt.Errorf("line %d: tag has no value", lineNo)
			}
			q := &queries[len(queries)-1]
			q.Tags = append(q.Tags, tag)
		default:
			return nil, fmt.Errorf("line %d: text before the first %s", lineNo, queryMarker)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading queries: %w", err)
	}
	return queries, nil
}

// QueryCorpus is a loaded value-tagged corpus.
type QueryCorpus struct {
	name    string
	Queries []Query
}

// NewQueryCorpus returns a corpus named name over queries.
func NewQueryCorpus(name string, queries []Query) *QueryCorpus {
	return &QueryCorpus{name: name, Queries: queries}
}

func (c *QueryCorpus) Name() string { return c.name }
func (c *QueryCorpus) Kind() Kind   { return KindQueries }

// Documents returns one document per query, with the query's index as ID.
func (c *QueryCorpus) Documents() []Document {
	docs := make([]Document, len(c.Queries))
	for i, q := range c.Queries {
		docs[i] = Document{ID: strconv.Itoa(i), Text: q.Text}
	}
	return docs
}

// QueryScore holds the leak and over-redaction figures.
type QueryScore struct {
	// Types has one row per tag type, in name order.
	Types   []QueryTypeScore `json:"types"`
	Overall QueryTypeScore   `json:"overall"`
	// PHIQueries counts queries with at least one scored tag, and
	// FullyMasked those of them in which no tagged value leaked.
	PHIQueries  int     `json:"phi_queries"`
	FullyMasked int     `json:"fully_masked"`
	FullyRate   float64 `json:"fully_masked_rate"`
	// HardNegatives counts queries without tags, and OverRedacted those
	// of them in which anything was masked.
	HardNegatives    int     `json:"hard_negatives"`
	OverRedacted     int     `json:"over_redacted"`
	OverRedactedRate float64 `json:"over_redacted_rate"`
	// FalseFindings counts, by phigate type, the findings on hard
	// negatives: what caused the over-redaction.
	FalseFindings map[string]int `json:"false_findings"`
}

// QueryTypeScore holds the figures for one tag type (or all of them).
type QueryTypeScore struct {
	Type string `json:"type"`
	// Phigate is the phigate type the tag type maps to, if any.
	Phigate string `json:"phigate_type,omitempty"`
	// Tags counts scored tags, Leaked those whose value is still in the
	// masked text, and Absent the tags left out because their value does
	// not occur in the query at all (an annotation error).
	Tags     int     `json:"tags"`
	Leaked   int     `json:"leaked"`
	Absent   int     `json:"absent"`
	LeakRate float64 `json:"leak_rate"`
}

// Score masks each query with its predictions (phi.Mask, every type) and
// checks each tag: a tag leaks when its value still occurs verbatim in the
// masked text. So masking part of a value ("Anna" of "Anna S.") counts as
// protecting it, as in the published measure for this corpus. The same
// (type, value) pair tagged twice in one query is scored once, because
// the verbatim test cannot tell the occurrences apart. A hard negative is
// over-redacted when the predictions hold any finding for it.
func (c *QueryCorpus) Score(pred Predictions) (*Report, error) {
	docs, found, err := scoredDocuments(c.Documents(), pred)
	if err != nil {
		return nil, err
	}

	byType := map[string]*QueryTypeScore{}
	score := &QueryScore{FalseFindings: map[string]int{}}
	for k, d := range docs {
		idx, _ := strconv.Atoi(d.ID)
		q := c.Queries[idx]
		findings := found[k]

		if len(q.Tags) == 0 {
			score.HardNegatives++
			if len(findings) > 0 {
				score.OverRedacted++
			}
			for _, f := range findings {
				score.FalseFindings[string(f.Type)]++
			}
			continue
		}

		masked := phi.Mask(q.Text, findings, nil)
		seen := map[QueryTag]bool{}
		scoredTags, leaks := 0, 0
		for _, tag := range q.Tags {
			if seen[tag] {
				continue
			}
			seen[tag] = true
			row, ok := byType[tag.Type]
			if !ok {
				row = &QueryTypeScore{Type: tag.Type, Phigate: string(QueryTagTypes[tag.Type])}
				byType[tag.Type] = row
			}
			if !strings.Contains(q.Text, tag.Value) {
				row.Absent++
				continue
			}
			row.Tags++
			scoredTags++
			if strings.Contains(masked, tag.Value) {
				row.Leaked++
				leaks++
			}
		}
		if scoredTags > 0 {
			score.PHIQueries++
			if leaks == 0 {
				score.FullyMasked++
			}
		}
	}

	score.Overall = QueryTypeScore{Type: "overall"}
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		row := byType[t]
		row.LeakRate = Ratio(row.Leaked, row.Tags)
		score.Overall.Tags += row.Tags
		score.Overall.Leaked += row.Leaked
		score.Overall.Absent += row.Absent
		score.Types = append(score.Types, *row)
	}
	score.Overall.LeakRate = Ratio(score.Overall.Leaked, score.Overall.Tags)
	score.FullyRate = Ratio(score.FullyMasked, score.PHIQueries)
	score.OverRedactedRate = Ratio(score.OverRedacted, score.HardNegatives)

	return &Report{
		Corpus:    c.name,
		Kind:      KindQueries,
		Documents: len(docs),
		Bytes:     textBytes(docs),
		Queries:   score,
	}, nil
}

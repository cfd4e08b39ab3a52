// Package evaluation measures how well a PHI detector does on annotated
// corpora. It reads three corpus formats, runs a phi.Scanner (or takes
// predictions another tool made on the same texts), and scores the result
// with one implementation, so that figures for different tools compare.
//
// The formats, and the measure each one supports:
//
//   - span-annotated JSON (the presidio-research synthetic set): gold spans
//     with character offsets, scored by recall, precision and F1 per type;
//   - value-tagged queries (the synthetic-clinical-queries set): tagged
//     values that must not survive masking, and hard negatives that masking
//     must leave alone;
//   - FHIR R4 NDJSON (a Synthea bulk export): identifying fields at known
//     FHIR paths, which must be masked when a resource is pasted into a
//     prompt. Clinical notes add the patient's names, dates and ages over
//     89, which must be masked too.
//
// Every corpus is first turned into Documents, the texts a tool scans. A
// tool's output is a Predictions map from document ID to findings, so the
// scorers never depend on who made the findings.
package evaluation

import (
	"errors"
	"fmt"
	"time"

	"github.com/phigate/phigate/phi"
)

// Kind names a corpus format.
type Kind string

// The corpus formats that Load recognizes.
const (
	KindSpans   Kind = "spans"
	KindQueries Kind = "queries"
	KindFHIR    Kind = "fhir"
)

// Document is one text of a corpus that a tool scans. ID is unique within
// its corpus and stable across runs, so predictions made by another
// process can be matched back to it.
type Document struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Predictions maps a document ID to the findings a tool reported for that
// document, with byte offsets into Document.Text. A document missing from
// the map was not scanned and is left out of the score, which lets a slow
// tool be scored on a subset.
type Predictions map[string][]phi.Finding

// Corpus is a loaded corpus of one Kind.
type Corpus interface {
	// Name identifies the corpus in reports and prediction files: the base
	// name of the path it was loaded from.
	Name() string
	Kind() Kind
	// Documents returns the texts to scan, in a stable order.
	Documents() []Document
	// Score compares predictions with the corpus's ground truth. It
	// returns ErrNoDocuments when no document has predictions.
	Score(pred Predictions) (*Report, error)
}

// ErrNoDocuments is returned by Score when the predictions cover none of
// the corpus's documents, typically because they were made for another
// corpus.
var ErrNoDocuments = errors.New("no document of the corpus has predictions")

// Report holds the figures for one tool on one corpus. Exactly one of
// Spans, Queries and FHIR is set, according to Kind.
type Report struct {
	Corpus string `json:"corpus"`
	Path   string `json:"path"`
	Kind   Kind   `json:"kind"`
	Tool   string `json:"tool"`
	// Documents and Bytes count the scored documents and their text.
	Documents int   `json:"documents"`
	Bytes     int64 `json:"bytes"`
	// Throughput is the scan speed over the scored text, zero when unknown.
	Throughput Throughput `json:"throughput"`

	Spans   *SpanScore  `json:"spans,omitempty"`
	Queries *QueryScore `json:"queries,omitempty"`
	FHIR    *FHIRScore  `json:"fhir,omitempty"`
}

// Throughput is a measured scan speed. MBPerSecond uses 10^6 bytes.
type Throughput struct {
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	MBPerSecond float64 `json:"mb_per_second"`
}

// NewThroughput returns the speed of scanning bytes in elapsed seconds, or
// the zero Throughput when either is not positive.
func NewThroughput(bytes int64, seconds float64) Throughput {
	if bytes <= 0 || seconds <= 0 {
		return Throughput{}
	}
	return Throughput{Bytes: bytes, Seconds: seconds, MBPerSecond: float64(bytes) / seconds / 1e6}
}

// minMeasureTime is how long Run keeps scanning for the throughput figure.
// One pass over a small corpus takes a few milliseconds, too short for a
// stable rate, so Run repeats whole passes until this much time is spent.
const minMeasureTime = 500 * time.Millisecond

// Run scans every document of c with s. It returns the predictions and the
// throughput of Scan alone: the first pass yields the findings, and further
// passes, whose findings are discarded, run until minMeasureTime has
// elapsed.
func Run(c Corpus, s *phi.Scanner) (Predictions, Throughput) {
	docs := c.Documents()
	pred := make(Predictions, len(docs))
	var size int64
	for _, d := range docs {
		size += int64(len(d.Text))
	}

	start := time.Now()
	for _, d := range docs {
		pred[d.ID] = s.Scan(d.Text)
	}
	passes := 1
	for time.Since(start) < minMeasureTime && size > 0 {
		for _, d := range docs {
			s.Scan(d.Text)
		}
		passes++
	}
	elapsed := time.Since(start).Seconds()

	return pred, NewThroughput(size*int64(passes), elapsed)
}

// Ratio returns num/den, or 0 when den is 0, so that empty categories
// print as 0 rather than NaN.
func Ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// F1 returns the harmonic mean of precision and recall, or 0 when both are
// 0.
func F1(precision, recall float64) float64 {
	if precision+recall == 0 {
		return 0
	}
	return 2 * precision * recall / (precision + recall)
}

// scoredDocuments returns the documents that have predictions, with their
// findings resolved to sorted, non-overlapping spans. Predictions with a
// span outside the document's text are an error, because they show that the
// tool used other offsets (characters instead of bytes, for example).
func scoredDocuments(docs []Document, pred Predictions) ([]Document, [][]phi.Finding, error) {
	var kept []Document
	var found [][]phi.Finding
	for _, d := range docs {
		fs, ok := pred[d.ID]
		if !ok {
			continue
		}
		for _, f := range fs {
			if f.Start < 0 || f.End > len(d.Text) || f.Start > f.End {
				return nil, nil, fmt.Errorf("document %s: finding %d-%d lies outside its %d-byte text", d.ID, f.Start, f.End, len(d.Text))
			}
		}
		kept = append(kept, d)
		found = append(found, phi.Resolve(append([]phi.Finding(nil), fs...)))
	}
	if len(kept) == 0 {
		return nil, nil, ErrNoDocuments
	}
	return kept, found, nil
}

func textBytes(docs []Document) int64 {
	var n int64
	for _, d := range docs {
		n += int64(len(d.Text))
	}
	return n
}

// covered reports whether every byte of [start, end) lies inside a finding.
// Findings must be sorted and non-overlapping, as phi.Resolve returns them.
func covered(findings []phi.Finding, start, end int) bool {
	pos := start
	for _, f := range findings {
		if f.End <= pos {
			continue
		}
		if f.Start > pos {
			return false
		}
		pos = f.End
		if pos >= end {
			return true
		}
	}
	return pos >= end
}

// coveredBytes returns how many bytes of [start, end) lie inside findings,
// which must be sorted and non-overlapping.
func coveredBytes(findings []phi.Finding, start, end int) int {
	n := 0
	for _, f := range findings {
		lo, hi := max(f.Start, start), min(f.End, end)
		if lo < hi {
			n += hi - lo
		}
	}
	return n
}

package evaluation

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/phigate/phigate/phi"
)

// TextsFile is the JSON document that lists the texts of one or more
// corpora for another tool to scan. That tool writes a PredictionsFile
// for the same document IDs.
type TextsFile struct {
	Corpora []CorpusTexts `json:"corpora"`
}

// CorpusTexts holds the documents of one corpus.
type CorpusTexts struct {
	Corpus    string     `json:"corpus"`
	Kind      Kind       `json:"kind"`
	Documents []Document `json:"documents"`
}

// PredictionsFile is the JSON document in which another tool reports its
// findings on the texts of a TextsFile. Offsets are UTF-8 byte offsets
// into the document text, end exclusive; a tool working in characters
// must convert them. Types are phigate types (see the phi package); the
// type-exact figures depend on them, the others do not.
type PredictionsFile struct {
	Tool    string              `json:"tool"`
	Corpora []CorpusPredictions `json:"corpora"`
}

// CorpusPredictions holds one tool's findings on one corpus. Seconds is
// the tool's own scanning time for these documents, excluding start-up
// such as model loading, or 0 when not measured.
type CorpusPredictions struct {
	Corpus    string               `json:"corpus"`
	Seconds   float64              `json:"seconds"`
	Documents []DocumentPrediction `json:"documents"`
}

// DocumentPrediction is a tool's findings on one document.
type DocumentPrediction struct {
	ID       string             `json:"id"`
	Findings []PredictedFinding `json:"findings"`
}

// PredictedFinding is one span reported by a tool.
type PredictedFinding struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Texts returns the documents of the corpora as a TextsFile.
func Texts(corpora []Corpus) TextsFile {
	out := TextsFile{Corpora: []CorpusTexts{}}
	for _, c := range corpora {
		out.Corpora = append(out.Corpora, CorpusTexts{Corpus: c.Name(), Kind: c.Kind(), Documents: c.Documents()})
	}
	return out
}

// ReadPredictions decodes a PredictionsFile.
func ReadPredictions(r io.Reader) (*PredictionsFile, error) {
	var pf PredictionsFile
	if err := json.NewDecoder(r).Decode(&pf); err != nil {
		return nil, fmt.Errorf("decoding predictions: %w", err)
	}
	return &pf, nil
}

// For returns the predictions and the measured scan time for the corpus
// named name. ok is false when the file has no entry for it. A document
// listed twice is an error, since its findings would be ambiguous.
func (pf *PredictionsFile) For(name string) (pred Predictions, seconds float64, ok bool, err error) {
	for _, cp := range pf.Corpora {
		if cp.Corpus != name {
			continue
		}
		pred = make(Predictions, len(cp.Documents))
		for _, d := range cp.Documents {
			if _, dup := pred[d.ID]; dup {
				return nil, 0, false, fmt.Errorf("corpus %s: document %s listed twice in predictions", name, d.ID)
			}
			fs := make([]phi.Finding, 0, len(d.Findings))
			for _, f := range d.Findings {
				fs = append(fs, phi.Finding{Type: phi.Type(f.Type), Start: f.Start, End: f.End, Confidence: 1, Detector: pf.Tool})
			}
			pred[d.ID] = fs
		}
		return pred, cp.Seconds, true, nil
	}
	return nil, 0, false, nil
}

package phi

import (
	"testing"
)

// BenchmarkNamePlaceDetectors measures each new detector alone on the
// synthetic discharge summary. The embedded lexicon is decoded on first
// use, so it is decoded before the timer starts.
func BenchmarkNamePlaceDetectors(b *testing.B) {
	text := benchText(b)
	Preload()
	detectors := []Detector{NameDetector{}, ClinicianNameDetector{}, LocationDetector{}, AgeDetector{}}
	for _, d := range detectors {
		b.Run(d.Name(), func(b *testing.B) {
			dst := make([]Finding, 0, 64)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				dst = d.Detect(text, dst[:0])
			}
		})
	}
}

func BenchmarkDetectHealthContext(b *testing.B) {
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		DetectHealthContext(text)
	}
}

func BenchmarkLexiconDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		decodeLexicon()
	}
}

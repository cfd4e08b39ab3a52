package phi

import (
	"strings"
	"testing"
)

// benchText is the synthetic discharge summary repeated to about 10 KB, so
// the figure reflects a long prompt rather than call overhead.
func benchText(b *testing.B) string {
	note := readNote(b)
	return strings.Repeat(note, 4)
}

func BenchmarkScan(b *testing.B) {
	text := benchText(b)
	scanner := DefaultScanner()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		scanner.Scan(text)
	}
}

func BenchmarkDetector(b *testing.B) {
	text := benchText(b)
	for _, d := range DefaultScanner().detectors {
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

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
	Preload()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		scanner.Scan(text)
	}
}

// BenchmarkScanSize scans the note repeated to about 10 KB, 100 KB and
// 1 MB. The throughput should stay about the same: the index and the
// detectors take time linear in the text, and Resolve sorts the findings.
func BenchmarkScanSize(b *testing.B) {
	note := readNote(b)
	for _, size := range []struct {
		name  string
		bytes int
	}{{"10KB", 10 << 10}, {"100KB", 100 << 10}, {"1MB", 1 << 20}} {
		text := strings.Repeat(note, max(size.bytes/len(note), 1))
		b.Run(size.name, func(b *testing.B) {
			scanner := DefaultScanner()
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				scanner.Scan(text)
			}
		})
	}
}

// BenchmarkScanNoDigits scans the 10 KB note with every digit removed,
// which the detectors of numbers skip almost entirely.
func BenchmarkScanNoDigits(b *testing.B) {
	text := strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return -1
		}
		return r
	}, benchText(b))
	scanner := DefaultScanner()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		scanner.Scan(text)
	}
}

// BenchmarkScanProse scans 10 KB of lowercase prose with no digits,
// capitals or labels, where the cost is the index and the visits of the
// word detectors to each word.
func BenchmarkScanProse(b *testing.B) {
	text := strings.Repeat("she was seen in clinic today and tolerated the new dose well. ", 10<<10/62)
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

// BenchmarkDetectorIndexed measures each detector as Scan runs it, with
// the text index built before the timer starts. The index's word cache is
// emptied before each run, so each detector pays for the lookups of the
// words it reads first, which in Scan an earlier detector may have paid.
func BenchmarkDetectorIndexed(b *testing.B) {
	text := benchText(b)
	Preload()
	var ix textIndex
	ix.build(text)
	for _, d := range DefaultScanner().detectors {
		id, ok := d.(indexedDetector)
		if !ok {
			continue
		}
		b.Run(d.Name(), func(b *testing.B) {
			dst := make([]Finding, 0, 64)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				ix.clearWords()
				dst = id.detectIndexed(text, &ix, dst[:0])
			}
		})
	}
}

// BenchmarkTextIndex measures building the index that Scan shares among
// the detectors.
func BenchmarkTextIndex(b *testing.B) {
	text := benchText(b)
	var ix textIndex
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		ix.build(text)
	}
}

// BenchmarkScanReference measures the scan without an index, for
// comparison with BenchmarkScan on the same detectors.
func BenchmarkScanReference(b *testing.B) {
	text := benchText(b)
	scanner := DefaultScanner()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		scanReference(scanner, text)
	}
}

package audit

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkSeal measures encrypting one decision record's sealed fields,
// the work a Sealer adds to every append.
func BenchmarkSeal(b *testing.B) {
	s := newTestSealer(b, "", testSealKey("k1", 1))
	b.ReportAllocs()
	for b.Loop() {
		rec := sealableRecord(1)
		if err := s.Seal(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen measures decrypting them again, as audit show and audit
// find do for every record.
func BenchmarkOpen(b *testing.B) {
	s := newTestSealer(b, "", testSealKey("k1", 1))
	sealed := sealableRecord(1)
	if err := s.Seal(sealed); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := *sealed
		if err := s.Open(&rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSealed is BenchmarkAppend at 64 goroutines per core with
// a Sealer, to compare durable append throughput with and without
// encryption.
func BenchmarkAppendSealed(b *testing.B) {
	l, err := OpenFileWithOptions(filepath.Join(b.TempDir(), "audit.jsonl"), FileOptions{Logger: discardLogger(), Sealer: newTestSealer(b, "", testSealKey("k1", 1))})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if err := l.Append(context.Background(), sampleRecord(i)); err != nil {
				b.Errorf("Append: %v", err)
				return
			}
		}
	})

	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if err := l.Close(); err != nil {
		b.Fatalf("Close: %v", err)
	}
}

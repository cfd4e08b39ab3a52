package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures durable appends, each waiting for its fsync, from
// several goroutines per core. Group commit lets one fsync serve every
// record waiting at that moment, so records/s grows with the goroutine
// count until the disk or the encoder saturates.
func BenchmarkAppend(b *testing.B) {
	for _, perCore := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("goroutines_per_core=%d", perCore), func(b *testing.B) {
			l := openLog(b, filepath.Join(b.TempDir(), "audit.jsonl"))
			b.SetParallelism(perCore)
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
		})
	}
}

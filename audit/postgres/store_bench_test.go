package postgres

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkAppend measures durable appends into PostgreSQL (fsync and
// synchronous commit on, the server on this machine) from several
// goroutines per core. Each Append waits for the COPY of its batch to
// commit, so records/s grows with concurrency as more records share one
// commit.
func BenchmarkAppend(b *testing.B) {
	for _, perCore := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("goroutines_per_core=%d", perCore), func(b *testing.B) {
			db := migrated(b)
			opts := storeOptions(b, db, "bench")
			opts.Logger = discardLogger()
			s := openStore(b, opts)
			b.SetParallelism(perCore)
			b.ReportAllocs()
			b.ResetTimer()

			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if err := s.Append(context.Background(), sampleRecord(i)); err != nil {
						b.Errorf("Append: %v", err)
						return
					}
				}
			})

			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if err := s.Close(); err != nil {
				b.Fatalf("Close: %v", err)
			}
			if st := s.Status(); st.Spooled != 0 {
				b.Fatalf("%d records went to the spool, want all written to the database", st.Spooled)
			}
		})
	}
}

package pgstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
)

// benchBatch is the batch size of the ingest benchmarks, as in
// sync/ingest's BenchmarkIngestBolt.
const benchBatch = 200

// benchIngest measures s.Ingest of batches of benchBatch new records,
// split over devices devices ingesting at once (one goroutine each), and
// reports records/s.
func benchIngest(b *testing.B, s store.Store, devices int) {
	ctx := context.Background()
	start := time.Date(2026, 11, 26, 8, 0, 0, 0, kst)
	batches := make([][]store.Batch, devices)
	for d := range devices {
		id := fmt.Sprintf("k-%d", d)
		enroll(b, s, id)
		n := (b.N + devices - 1) / devices
		recs := records(id, n*benchBatch, func(i int) time.Time { return start.Add(time.Duration(i) * 100 * time.Millisecond) })
		for i := range n {
			batches[d] = append(batches[d], batch(recs, uint64(i*benchBatch+1), uint64((i+1)*benchBatch)))
		}
	}
	// The first batch of each device makes the day's partition: not timed.
	for d := range devices {
		mustIngest(b, s, batches[d][0], benchBatch)
		batches[d] = batches[d][1:]
	}
	b.ReportAllocs()
	b.ResetTimer()
	begin := time.Now()
	var wg sync.WaitGroup
	total := 0
	for d := range devices {
		total += len(batches[d])
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, bt := range batches[d] {
				if n, err := s.Ingest(ctx, bt); err != nil || n != benchBatch {
					b.Errorf("Ingest = %d, %v", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	b.ReportMetric(float64(total*benchBatch)/elapsed.Seconds(), "records/s")
}

// BenchmarkIngestPG measures Ingest into PostgreSQL (synchronous commit
// on) of batches of 200 new records: one device at a time, and four
// devices at once, as several kiosks' batches arrive at a central.
func BenchmarkIngestPG(b *testing.B) {
	for _, devices := range []int{1, 4} {
		b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) {
			s := openStore(b, newDatabase(b), nil)
			benchIngest(b, s, devices)
		})
	}
}

// BenchmarkIngestPGBoltBaseline is BenchmarkIngestPG's baseline, run
// alike against the embedded bbolt store (fsync on).
func BenchmarkIngestPGBoltBaseline(b *testing.B) {
	for _, devices := range []int{1, 4} {
		b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "central.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchIngest(b, s, devices)
		})
	}
}

package ingest

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
)

// BenchmarkOpenSealed measures checkin.Open on all cores: the bound on how
// fast the central can prove that it can read the records it stores.
func BenchmarkOpenSealed(b *testing.B) {
	keys := newKeys(b, "jeju")
	s := checkin.NewSealer(keys.SealingPublicKey(), 0, nil)
	defer s.Close()
	sealed := make([][]byte, 1024)
	for i := range sealed {
		var err error
		if sealed[i], err = s.Seal(checkin.Personal{PassKind: 1, Serial: uint32(i)}); err != nil {
			b.Fatal(err)
		}
	}
	pub, priv := keys.SealingPublicKey(), keys.SealingPrivateKey()
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := checkin.Open(sealed[i%len(sealed)], pub, priv); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkIngestBolt measures Handle with the bbolt store (fsync on)
// for batches of 200 new records: decode, verify, continuity, open every
// sealed part, correct clocks, one transaction.
func BenchmarkIngestBolt(b *testing.B) {
	const perBatch = 200
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("open-workers=%d", workers), func(b *testing.B) {
			f := newFixture(b, nil, func(c *Config) { c.OpenWorkers = workers })
			k := newKiosk(b, f.keys, "k-1", "v-1", f.enroll(b, "k-1", "v-1"))
			// Sealing inline (no precomputing goroutine), before the timer.
			k.sealer = checkin.NewSealer(f.keys.SealingPublicKey(), 0, nil)
			defer k.sealer.Close()
			type msg struct {
				subject string
				data    []byte
			}
			msgs := make([]msg, b.N)
			for i := range msgs {
				first := uint64(len(k.recs) + 1)
				for range perBatch {
					k.add(checkin.Record{Quality: checkin.Unsynced})
				}
				msgs[i].subject, msgs[i].data = k.msg(first, first+perBatch-1)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for _, m := range msgs {
				res, err := f.in.Handle(ctx, m.subject, m.data, truth.Add(2*time.Hour))
				if err != nil || res.Stored != perBatch {
					b.Fatalf("Handle = %+v, %v", res, err)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N*perBatch)/elapsed.Seconds(), "records/s")
		})
	}
}

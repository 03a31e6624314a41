package kiosk

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/hardware/feedback"
)

// BenchmarkScanToCommit measures a scan from pass text to committed record
// (parse + verify + seal + debounce + bbolt commit with its fsyncs) against
// the baseline of a raw bbolt single-put commit on the same disk, the two
// interleaved so that both see the same machine. Metrics: p50 and p99 of
// each, and the p50 ratio (goal ≤ 2) — ns/op is the mean of both halves.
func BenchmarkScanToCommit(b *testing.B) {
	e := newEnv(b)
	raw, err := bolt.Open(filepath.Join(filepath.Dir(e.dir), "raw.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("b")); return err })
	texts := make([]string, b.N)
	for i := range texts {
		texts[i], _ = e.issue()
	}
	val := make([]byte, 180) // about one record
	rand.Read(val)
	var scan, base []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		err := raw.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "%016d", i), val)
		})
		t1 := time.Now()
		out := e.kiosk.HandleScan(context.Background(), scannerScan(texts[i], false))
		t2 := time.Now()
		if err != nil || out.Result != feedback.Accepted {
			b.Fatalf("%v %+v", err, out)
		}
		base, scan = append(base, t1.Sub(t0)), append(scan, t2.Sub(t1))
	}
	b.StopTimer()
	report(b, "scan", scan)
	report(b, "bolt", base)
	b.ReportMetric(float64(pct(scan, 50))/float64(pct(base, 50)), "p50-ratio")
}

func report(b *testing.B, name string, d []time.Duration) {
	b.ReportMetric(float64(pct(d, 50).Microseconds())/1000, name+"-p50-ms")
	b.ReportMetric(float64(pct(d, 99).Microseconds())/1000, name+"-p99-ms")
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// BenchmarkVerifyAndSeal is the crypto on a scan's path (parse + verify +
// precomputed seal + debounce tag), without the commit.
func BenchmarkVerifyAndSeal(b *testing.B) {
	e := newEnv(b)
	text, _ := e.issue()
	now := e.clock.Now()
	b.ResetTimer()
	for b.Loop() {
		p, err := e.kiosk.verify(text, now)
		if err != nil {
			b.Fatal(err)
		}
		e.kiosk.tag(&p)
		if _, err := e.kiosk.sealer.Seal(personalOf(&p)); err != nil {
			b.Fatal(err)
		}
	}
}

package ledgerstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/ledger"
)

// BenchmarkIngest measures bbolt's Ingest of 10-record batches without
// and with the batch's ledger leaf, in the same run; compare the two
// ns/op (the ledger's cost is the ratio). fsync stays on, as in
// production; the sub-benchmarks "nosync" show the CPU cost alone.
func BenchmarkIngest(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, withLeaf := range []bool{false, true} {
			name := fmt.Sprintf("fsync=%v/leaf=%v", sync, withLeaf)
			b.Run(name, func(b *testing.B) {
				st, err := boltstore.Open(filepath.Join(b.TempDir(), "central.db"), &boltstore.Options{NoSync: !sync})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				ctx := context.Background()
				if err := st.AddDevice(ctx, store.Device{ID: "k-1", Venue: "v-1", PublicKey: make([]byte, 32), NKey: "U1"}); err != nil {
					b.Fatal(err)
				}
				sealed := make([]byte, checkin.SealedLen)
				t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
				prev, seq := checkin.Genesis("k-1"), uint64(0)
				b.ResetTimer()
				for range b.N {
					sb := store.Batch{Device: "k-1"}
					first := seq + 1
					for range 10 {
						seq++
						prev = checkin.Next(prev, binary.BigEndian.AppendUint64(nil, seq))
						sb.Records = append(sb.Records, store.CheckIn{Device: "k-1", Seq: seq, Venue: "v-1", RawWall: t0, Time: t0,
							Received: t0, Sealed: sealed, Hash: prev})
					}
					sb.LastSeq, sb.LastHash = seq, prev
					if withLeaf {
						sb.Leaf, _ = (&ledger.Batch{Device: "k-1", First: first, Last: seq, Head: prev, Sealed: sha256.Sum256(sealed)}).MarshalText()
					}
					if _, err := st.Ingest(ctx, sb); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
			})
		}
	}
}

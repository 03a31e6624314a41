package ledger_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

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

// bigTree is a tree of 10 million leaves built in memory with ledger.Tree
// (tlog.StoredHashesForRecordHash per leaf: about 2 SHA-256 per leaf,
// 20 million hashes, 640 MB), once per process.
var bigTree = sync.OnceValue(func() *ledger.Tree {
	var t ledger.Tree
	var leaf [8]byte
	for i := range uint64(10_000_000) {
		binary.BigEndian.PutUint64(leaf[:], i)
		t.Append(leaf[:])
	}
	return &t
})

// BenchmarkProof10M measures inclusion and consistency proofs of a tree of
// 10 million leaves: their size and the time to check one.
func BenchmarkProof10M(b *testing.B) {
	start := time.Now()
	t := bigTree()
	b.Logf("built 10M-leaf tree in memory in %v", time.Since(start))
	const n = 10_000_000
	root, _ := t.Root(n)
	b.Run("inclusion", func(b *testing.B) {
		idx := int64(1234567)
		p, err := tlog.ProveRecord(n, idx, t)
		if err != nil {
			b.Fatal(err)
		}
		var leaf [8]byte
		binary.BigEndian.PutUint64(leaf[:], uint64(idx))
		b.ResetTimer()
		for range b.N {
			if err := tlog.CheckRecord(p, n, root, idx, tlog.RecordHash(leaf[:])); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(p)), "hashes")
		b.ReportMetric(float64(len(p)*tlog.HashSize), "proof-bytes")
	})
	b.Run("consistency", func(b *testing.B) {
		old := int64(7_654_321)
		oldRoot, _ := t.Root(old)
		p, err := tlog.ProveTree(n, old, t)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			if err := tlog.CheckTree(p, n, root, old, oldRoot); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(p)), "hashes")
		b.ReportMetric(float64(len(p)*tlog.HashSize), "proof-bytes")
	})
}

package ledger_test

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
)

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

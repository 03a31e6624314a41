package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/ledger"
)

// Ensure that Ingest appends a batch's leaf with its records and only
// then (a redelivery storing nothing appends nothing), that AddAudit
// appends its event's leaf, that the stored hashes are tlog's for the
// leaves, that BatchLeaf finds the batch that stored a record, and that
// checkpoints are kept in order and never shrink; also after reopening.
func testLedger(t *testing.T, h *harness) {
	ctx := h.ctx
	s := h.store("a")
	if n, err := s.LedgerSize(ctx); err != nil || n != 0 {
		t.Fatalf("empty store: LedgerSize = %d, %v", n, err)
	}
	if _, err := s.LatestCheckpoint(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty store: LatestCheckpoint error %v, want ErrNotFound", err)
	}
	enroll(t, s, "k-1", "v-1")
	c := newChain(t, "k-1", "v-1", 12)
	withLeaf := func(b store.Batch, tag string) store.Batch {
		b.Leaf = []byte("leaf " + tag + "\n")
		return b
	}
	var want [][]byte
	ingest(t, s, withLeaf(c.batch(1, 4), "1-4"), 4)
	want = append(want, []byte("leaf 1-4\n"))
	ingest(t, s, withLeaf(c.batch(1, 4), "1-4 again"), 0) // stores nothing: no leaf
	ingest(t, s, c.batch(5, 5), 1)                        // no leaf given: none
	if _, err := s.AddAudit(ctx, store.AuditEvent{Time: base, Kind: store.AuditDayDestroyed, Detail: `{"day":"2026-10-29"}`}); err != nil {
		t.Fatal(err)
	}
	leaf, err := ledgerstore.EventLeaf(store.AuditEvent{ID: 1, Time: base, Kind: store.AuditDayDestroyed, Detail: `{"day":"2026-10-29"}`})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, leaf)
	ingest(t, s, withLeaf(c.batch(9, 12), "9-12"), 4) // after a gap
	want = append(want, []byte("leaf 9-12\n"))
	ingest(t, s, withLeaf(c.batch(4, 10), "4-10"), 3) // fills 6-8
	want = append(want, []byte("leaf 4-10\n"))

	check := func(s store.Store) {
		t.Helper()
		n, err := s.LedgerSize(ctx)
		if err != nil || n != int64(len(want)) {
			t.Fatalf("LedgerSize = %d, %v; want %d", n, err, len(want))
		}
		got, err := s.LedgerLeaves(ctx, 0, n)
		if err != nil {
			t.Fatal(err)
		}
		var tr ledger.Tree
		for i := range want {
			if i >= len(got) || !bytes.Equal(got[i], want[i]) {
				t.Fatalf("leaves = %q, want %q", got, want)
			}
			tr.Append(want[i])
		}
		if _, err := s.LedgerLeaves(ctx, 0, n+1); err == nil {
			t.Errorf("LedgerLeaves beyond the size: no error")
		}
		for size := int64(1); size <= n; size++ {
			wantRoot, _ := tr.Root(size)
			root, err := tlog.TreeHash(size, ledgerstore.HashReader(ctx, s))
			if err != nil || root != wantRoot {
				t.Fatalf("TreeHash(%d) = %v, %v; want %v", size, root, err, wantRoot)
			}
		}
		for _, tt := range []struct {
			seq  uint64
			want int64
		}{{1, 0}, {4, 0}, {9, 2}, {12, 2}, {6, 3}, {8, 3}, {5, -1}, {13, -1}} {
			i, err := s.BatchLeaf(ctx, "k-1", tt.seq)
			if tt.want < 0 {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("BatchLeaf(k-1, %d) = %d, %v; want ErrNotFound", tt.seq, i, err)
				}
			} else if err != nil || i != tt.want {
				t.Errorf("BatchLeaf(k-1, %d) = %d, %v; want %d", tt.seq, i, err, tt.want)
			}
		}
		if _, err := s.BatchLeaf(ctx, "k-2", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("BatchLeaf of an unknown device: %v", err)
		}
	}
	check(s)

	cps := []store.Checkpoint{
		{Size: 2, Time: base, Note: []byte("two\n")},
		{Size: 4, Time: base.Add(10 * time.Second), Note: []byte("four\n")},
	}
	for _, cp := range cps {
		if err := s.AddCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddCheckpoint(ctx, store.Checkpoint{Size: 3, Time: base, Note: []byte("three\n")}); err == nil {
		t.Errorf("AddCheckpoint of a smaller tree: no error")
	}
	checkCps := func(s store.Store) {
		t.Helper()
		got, err := s.Checkpoints(ctx)
		if err != nil || len(got) != 2 || got[1].Size != 4 || string(got[0].Note) != "two\n" || !got[1].Time.Equal(cps[1].Time) {
			t.Fatalf("Checkpoints = %+v, %v", got, err)
		}
		latest, err := s.LatestCheckpoint(ctx)
		if err != nil || latest.Size != 4 || string(latest.Note) != "four\n" {
			t.Fatalf("LatestCheckpoint = %+v, %v", latest, err)
		}
	}
	checkCps(s)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s = h.store("a")
	check(s)
	checkCps(s)
}

// Ensure that concurrent appends (ingests of several devices and audit
// events) each get their own leaf and leave a consistent tree.
func testLedgerConcurrent(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.store("a")
	const devices, batches = 4, 5
	var wg sync.WaitGroup
	for d := range devices {
		id := fmt.Sprintf("k-%d", d)
		enroll(t, s, id, "v-1")
		c := newChain(t, id, "v-1", batches)
		wg.Go(func() {
			for i := uint64(1); i <= batches; i++ {
				b := c.batch(i, i)
				b.Leaf = fmt.Appendf(nil, "%s %d\n", id, i)
				if _, err := s.Ingest(ctx, b); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range batches {
			if _, err := s.AddAudit(ctx, store.AuditEvent{Time: base, Kind: "identity-revealed", Detail: `{}`}); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	n, err := s.LedgerSize(ctx)
	if err != nil || n != (devices+1)*batches {
		t.Fatalf("LedgerSize = %d, %v; want %d", n, err, (devices+1)*batches)
	}
	leaves, err := s.LedgerLeaves(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	var tr ledger.Tree
	seen := make(map[string]bool)
	for _, l := range leaves {
		tr.Append(l)
		seen[string(l)] = true
	}
	if int64(len(seen)) != n { // audit leaves differ by their ids
		t.Errorf("%d distinct leaves of %d", len(seen), n)
	}
	want, _ := tr.Root(n)
	root, err := tlog.TreeHash(n, ledgerstore.HashReader(ctx, s))
	if err != nil || root != want {
		t.Fatalf("stored tree hash %v, %v; recomputed %v", root, err, want)
	}
}

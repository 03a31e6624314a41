package ledgerstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/ledger"
)

func newKey(t testing.TB, name string) (note.Signer, note.Verifier) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// storeSource reads a log straight from a store (the central's HTTP API
// does the same, see central/ledger_api.go). note, if set, replaces the
// latest checkpoint.
type storeSource struct {
	st   store.Ledger
	note []byte
}

func (s *storeSource) Checkpoint(ctx context.Context) ([]byte, error) {
	if s.note != nil {
		return s.note, nil
	}
	c, err := s.st.LatestCheckpoint(ctx)
	return c.Note, err
}

func (s *storeSource) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	return s.st.LedgerLeaves(ctx, start, min(end, start+3)) // small pages
}

func (s *storeSource) Consistency(ctx context.Context, old, new int64) (tlog.TreeProof, error) {
	return tlog.ProveTree(new, old, ledgerstore.HashReader(ctx, s.st))
}

// testLog is a bbolt store with a device, batches and audit events in its
// ledger.
type testLog struct {
	path   string
	st     *boltstore.Store
	signer note.Signer
	v      note.Verifier
	cp     *ledgerstore.Checkpointer
	now    time.Time
	seq    uint64
	prev   checkin.Hash
}

func newTestLog(t *testing.T) *testLog {
	l := &testLog{path: filepath.Join(t.TempDir(), "central.db"), now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	l.signer, l.v = newKey(t, "test.anshim/ledger")
	l.open(t)
	t.Cleanup(func() { l.st.Close() })
	if err := l.st.AddDevice(context.Background(), store.Device{ID: "k-1", Venue: "v-1", PublicKey: make([]byte, 32), NKey: "U1"}); err != nil {
		t.Fatal(err)
	}
	l.prev = checkin.Genesis("k-1")
	return l
}

func (l *testLog) open(t *testing.T) {
	st, err := boltstore.Open(l.path, &boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	l.st = st
	l.cp = &ledgerstore.Checkpointer{Store: st, Signer: l.signer, Now: func() time.Time { return l.now }}
}

// batch ingests a batch of n records with its leaf, as sync/ingest does.
func (l *testLog) batch(t testing.TB, n int) {
	b := store.Batch{Device: "k-1"}
	first := l.seq + 1
	for range n {
		l.seq++
		l.prev = checkin.Next(l.prev, binary.BigEndian.AppendUint64(nil, l.seq))
		b.Records = append(b.Records, store.CheckIn{Device: "k-1", Seq: l.seq, Venue: "v-1", RawWall: l.now, Time: l.now,
			Received: l.now, Sealed: []byte("sealed"), Hash: l.prev})
	}
	b.LastSeq, b.LastHash = l.seq, l.prev
	leaf, err := (&ledger.Batch{Device: "k-1", First: first, Last: l.seq, Head: l.prev, Sealed: [32]byte{byte(l.seq)}}).MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	b.Leaf = leaf
	if _, err := l.st.Ingest(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func (l *testLog) checkpoint(t *testing.T) store.Checkpoint {
	t.Helper()
	l.now = l.now.Add(ledger.Every)
	c, _, err := l.cp.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rewrite replaces the log's leaves with edit(leaves) directly in the
// bbolt file, recomputing every stored hash as a careful operator would,
// and returns a checkpoint of the new tree signed with the real key.
func (l *testLog) rewrite(t *testing.T, edit func([][]byte) [][]byte) []byte {
	t.Helper()
	ctx := context.Background()
	n, _ := l.st.LedgerSize(ctx)
	leaves, err := l.st.LedgerLeaves(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	leaves = edit(leaves)
	l.st.Close()
	db, err := bolt.Open(l.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tr ledger.Tree
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"ledger-leaves", "ledger-hashes"} {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		lb, _ := tx.CreateBucket([]byte("ledger-leaves"))
		hb, _ := tx.CreateBucket([]byte("ledger-hashes"))
		for i, leaf := range leaves {
			at := len(hashesOf(&tr))
			tr.Append(leaf)
			for j, h := range hashesOf(&tr)[at:] {
				hb.Put(binary.BigEndian.AppendUint64(nil, uint64(at+j)), h[:])
			}
			lb.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), leaf)
		}
		return lb.SetSequence(uint64(len(leaves)))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	l.open(t)
	root, err := tlog.TreeHash(int64(len(leaves)), ledgerstore.HashReader(ctx, l.st))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := tr.Root(tr.Size()); root != want {
		t.Fatalf("rewritten store's root %v, want %v", root, want)
	}
	msg, err := ledger.Sign(ledger.Checkpoint{Size: int64(len(leaves)), Hash: root}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// hashesOf returns every stored hash of tr.
func hashesOf(tr *ledger.Tree) []tlog.Hash {
	n := tlog.StoredHashCount(tr.Size())
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = int64(i)
	}
	h, _ := tr.ReadHashes(idx)
	return h
}

// Ensure that the audit passes on an honest log, growing between audits,
// and that an operator who edits or deletes a leaf, recomputes the hashes
// and signs a new checkpoint with the real key is caught against the
// checkpoint the auditor saved.
func TestVerify_Tamper(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		edit func([][]byte) [][]byte
	}{
		{"edit", func(ls [][]byte) [][]byte {
			ls[1] = bytes.Replace(ls[1], []byte("seq 4 6"), []byte("seq 4 5"), 1)
			return ls
		}},
		{"delete", func(ls [][]byte) [][]byte { return append(ls[:2:2], ls[3:]...) }},
		{"delete-last", func(ls [][]byte) [][]byte { return ls[:len(ls)-1] }},
		{"delete-and-pad", func(ls [][]byte) [][]byte { // same size, so the log did not visibly shrink
			return append(append(ls[:2:2], ls[3:]...), ls[0])
		}},
		{"append-only-honest", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t)
			l.batch(t, 3)
			l.batch(t, 3)
			if _, err := l.st.AddAudit(ctx, store.AuditEvent{Time: l.now, Kind: "identity-revealed", Detail: `{"who":"inv-1","case_ref":"c-1","count":2}`}); err != nil {
				t.Fatal(err)
			}
			l.batch(t, 2)
			l.checkpoint(t)
			src := &storeSource{st: l.st}
			rep, err := ledger.Verify(ctx, src, l.v, nil)
			if err != nil || rep.Checkpoint.Size != 4 || rep.Types["batch"] != 3 || rep.Types["event"] != 1 {
				t.Fatalf("first audit: %+v, %v", rep, err)
			}
			saved := rep.Note
			l.batch(t, 1)
			l.checkpoint(t)
			rep, err = ledger.Verify(ctx, &storeSource{st: l.st}, l.v, saved)
			if err != nil || rep.Checkpoint.Size != 5 {
				t.Fatalf("audit after growth: %+v, %v", rep, err)
			}
			if tt.edit == nil {
				return
			}
			forged := l.rewrite(t, tt.edit)
			// Without the saved checkpoint the forgery is self-consistent:
			// only the auditor's memory catches it.
			if _, err := ledger.Verify(ctx, &storeSource{st: l.st, note: forged}, l.v, nil); err != nil {
				t.Fatalf("forged log, no saved checkpoint: %v", err)
			}
			_, err = ledger.Verify(ctx, &storeSource{st: l.st, note: forged}, l.v, rep.Note)
			if !errors.Is(err, ledger.ErrFork) {
				t.Fatalf("forged log against the saved checkpoint: %v, want ErrFork", err)
			}
			t.Logf("caught: %v", err)
		})
	}
}

// Ensure that Prove answers only for leaves in a checkpoint, that its
// receipt verifies offline, and that one of another leaf, index or
// checkpoint does not.
func TestProve(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	for range 6 {
		l.batch(t, 2)
	}
	idx, err := l.st.BatchLeaf(ctx, "k-1", 7)
	if err != nil || idx != 3 {
		t.Fatalf("BatchLeaf(k-1, 7) = %d, %v", idx, err)
	}
	if _, err := ledgerstore.Prove(ctx, l.st, idx); !errors.Is(err, store.ErrNotFound) && !errors.Is(err, ledger.ErrNotInCheckpoint) {
		t.Fatalf("Prove before a checkpoint: %v", err)
	}
	l.checkpoint(t)
	r, err := ledgerstore.Prove(ctx, l.st, idx)
	if err != nil {
		t.Fatal(err)
	}
	c, leaf, err := r.Verify(l.v)
	if err != nil || c.Size != 6 {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if b := leaf.(*ledger.Batch); b.First != 7 || b.Last != 8 {
		t.Fatalf("receipt leaf %+v", b)
	}
	bad := r
	bad.Index = 2
	if _, _, err := bad.Verify(l.v); err == nil {
		t.Errorf("receipt with another index verified")
	}
	bad = r
	bad.Leaf = strings.Replace(r.Leaf, "seq 7 8", "seq 7 9", 1)
	if _, _, err := bad.Verify(l.v); err == nil {
		t.Errorf("receipt of an edited leaf verified")
	}
	_, other := newKey(t, "test.anshim/ledger")
	if _, _, err := r.Verify(other); err == nil {
		t.Errorf("receipt verified with another key")
	}
	// Later checkpoints: the kiosk checks consistency with its receipt's.
	l.batch(t, 1)
	next := l.checkpoint(t)
	nc, err := ledger.Open(next.Note, l.v)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ProveTree(nc.Size, c.Size, ledgerstore.HashReader(ctx, l.st))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(p, nc.Size, nc.Hash, c.Size, c.Hash); err != nil {
		t.Fatal(err)
	}
}

// Ensure that the Checkpointer signs only when the tree grew (and once at
// the start), by its injected clock.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	l := newTestLog(t)
	c, made, err := l.cp.Checkpoint(ctx)
	if err != nil || !made || c.Size != 0 || !c.Time.Equal(l.now) {
		t.Fatalf("first = %+v, %v, %v", c, made, err)
	}
	if _, made, _ := l.cp.Checkpoint(ctx); made {
		t.Fatalf("made a checkpoint of an unchanged tree")
	}
	l.batch(t, 1)
	l.now = l.now.Add(ledger.Every)
	c, made, err = l.cp.Checkpoint(ctx)
	if err != nil || !made || c.Size != 1 || !c.Time.Equal(l.now) {
		t.Fatalf("after a leaf = %+v, %v, %v", c, made, err)
	}
	all, _ := l.st.Checkpoints(ctx)
	if len(all) != 2 {
		t.Fatalf("history of %d", len(all))
	}
}

package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Ensure that concurrent calls share commits, that a call whose function
// fails gets its error and leaves nothing behind while the others of its
// group are committed, and that a panic is an error, not a crash.
func TestGroupCommit(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var commits atomic.Int64
	var mu sync.Mutex
	txIDs := map[int]bool{}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err })
	g := &groupCommit{db: db}
	errBad := errors.New("bad call")
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = g.do(func(tx *bolt.Tx) error {
				tx.OnCommit(func() {
					commits.Add(1)
					mu.Lock()
					txIDs[tx.ID()] = true
					mu.Unlock()
				})
				b := tx.Bucket([]byte("b"))
				if err := b.Put(fmt.Appendf(nil, "k%03d", i), []byte("v")); err != nil {
					return err
				}
				switch i % 50 {
				case 7:
					return errBad
				case 8:
					panic("boom")
				}
				return nil
			})
		})
	}
	wg.Wait()
	stored := 0
	db.View(func(tx *bolt.Tx) error {
		for i := range n {
			got := tx.Bucket([]byte("b")).Get(fmt.Appendf(nil, "k%03d", i)) != nil
			bad := i%50 == 7 || i%50 == 8
			switch {
			case bad && errs[i] == nil:
				t.Errorf("call %d failed in its function but got no error", i)
			case bad && got:
				t.Errorf("call %d failed but its write was committed", i)
			case !bad && errs[i] != nil:
				t.Errorf("call %d: %v", i, errs[i])
			case !bad && !got:
				t.Errorf("call %d succeeded but its write is missing", i)
			}
			if got {
				stored++
			}
		}
		return nil
	})
	if stored != n-8 {
		t.Errorf("%d writes stored, want %d", stored, n-8)
	}
	if !errors.Is(errs[7], errBad) {
		t.Errorf("call 7: %v, want its own error", errs[7])
	}
	if len(txIDs) >= n-8 {
		t.Errorf("%d successful calls committed in %d transactions: none shared", n-8, len(txIDs))
	}
	if c := commits.Load(); c != n-8 {
		t.Errorf("%d calls saw their transaction commit, want %d", c, n-8)
	}
}

// Ensure that a lone call commits at once, on its own.
func TestGroupCommit_Lone(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := &groupCommit{db: db}
	for i := range 3 {
		if err := g.do(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return b.Put([]byte{byte(i)}, nil)
		}); err != nil {
			t.Fatal(err)
		}
		db.View(func(tx *bolt.Tx) error {
			if tx.Bucket([]byte("b")).Get([]byte{byte(i)}) == nil {
				t.Errorf("call %d returned before its write was committed", i)
			}
			return nil
		})
	}
}

package boltstore

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/storetest"
)

// Ensure that the bbolt store passes the conformance suite, and that every
// file it leaves behind passes bbolt's consistency check.
func TestConformance(t *testing.T) {
	root := t.TempDir()
	storetest.Run(t, func(t *testing.T, name string) store.Store {
		dir := filepath.Join(root, url.PathEscape(t.Name()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return openChecked(t, filepath.Join(dir, name+".db"))
	})
}

// openChecked opens the store at path and, when the test ends (after the
// suite closed the store), reopens the file and runs bbolt's check.
func openChecked(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, &Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s, err := Open(path, &Options{Timeout: time.Second})
		if err != nil {
			t.Errorf("reopen %s for the check: %v", path, err)
			return
		}
		defer s.Close()
		if err := s.Check(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Ensure that a second Open of a locked file fails after its timeout
// instead of waiting forever.
func TestOpen_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, &Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, bolt.ErrTimeout) {
		t.Fatalf("second Open: %v, want bolt.ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

// Ensure that Open refuses a bbolt file of another format.
func TestOpen_OtherFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return m.Put(keyFormat, []byte("anshim-outbox-v1"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, nil); err == nil {
		s.Close()
		t.Fatal("Open accepted a kiosk outbox as a central store")
	}
}

// Ensure that a canceled context stops a call before it touches the file.
func TestStore_CanceledContext(t *testing.T) {
	s := openChecked(t, filepath.Join(t.TempDir(), "central.db"))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AddVenue(ctx, store.Venue{ID: "v-1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("AddVenue with a canceled context: %v", err)
	}
	if _, err := s.Venue(context.Background(), "v-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("venue added despite the canceled context: %v", err)
	}
}

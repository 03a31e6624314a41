package pgstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/central/store/storetest"
)

func adminDSN(tb testing.TB) string    { return pgtest.DSN(tb) }
func newDatabase(tb testing.TB) string { return pgtest.NewDatabase(tb) }

// openStore opens the store at dsn and closes it when the test ends.
func openStore(tb testing.TB, dsn string, opts *Options) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Ensure that the PostgreSQL store passes the conformance suite, each test
// in databases of its own.
func TestConformance(t *testing.T) {
	adminDSN(t)
	var mu sync.Mutex
	dsns := make(map[[2]string]string) // (test, store name) → database
	storetest.Run(t, func(t *testing.T, name string) store.Store {
		key := [2]string{t.Name(), name}
		mu.Lock()
		dsn, ok := dsns[key]
		mu.Unlock()
		if !ok {
			dsn = newDatabase(t)
			mu.Lock()
			dsns[key] = dsn
			mu.Unlock()
		}
		s, err := Open(context.Background(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Ensure that a canceled context stops a call before it touches the
// database.
func TestStore_CanceledContext(t *testing.T) {
	s := openStore(t, newDatabase(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AddVenue(ctx, store.Venue{ID: "v-1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("AddVenue with a canceled context: %v", err)
	}
	if _, err := s.Venue(context.Background(), "v-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("venue added despite the canceled context: %v", err)
	}
	if _, err := s.Ingest(ctx, store.Batch{Device: "k-1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest with a canceled context: %v", err)
	}
}

// Ensure that a quarantine entry is kept whatever bytes a malformed
// message put in its text fields, its device id and payload exactly.
func TestAddQuarantine_AnyBytes(t *testing.T) {
	s := openStore(t, newDatabase(t), nil)
	ctx := context.Background()
	q := store.Quarantine{Device: "k\x00\xff", Subject: "anshim.checkins.\xff\x00", Reason: "malformed",
		Detail: "device \"k\x00\xff\"", Received: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Payload: []byte{0, 0xff}}
	id, err := s.AddQuarantine(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Quarantined(ctx, q.Device)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("Quarantined = %+v, %v", got, err)
	}
	if g := got[0]; g.Device != q.Device || string(g.Payload) != string(q.Payload) ||
		g.Subject != "anshim.checkins.\uFFFD\uFFFD" || g.Detail != "device \"k\uFFFD\uFFFD\"" {
		t.Fatalf("Quarantined: device %q subject %q detail %q payload %x", g.Device, g.Subject, g.Detail, g.Payload)
	}
}

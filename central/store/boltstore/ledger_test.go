package boltstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// Ensure that a batch's records and its ledger leaf commit together: an
// Ingest (or AddAudit) that fails after appending the leaf — as a process
// killed before its commit — leaves neither records nor leaf, and the
// retry stores both once. (bbolt commits one transaction or nothing, so a
// SIGKILL anywhere inside it is the same case.)
func TestIngest_LedgerAtomic(t *testing.T) {
	ctx := context.Background()
	s := openChecked(t, filepath.Join(t.TempDir(), "central.db"))
	defer s.Close()
	pub := make([]byte, 32)
	if err := s.AddDevice(ctx, store.Device{ID: "k-1", Venue: "v-1", PublicKey: pub, NKey: "U1"}); err != nil {
		t.Fatal(err)
	}
	h := checkin.Next(checkin.Genesis("k-1"), []byte("r1"))
	b := store.Batch{
		Device:   "k-1",
		Records:  []store.CheckIn{{Device: "k-1", Seq: 1, Venue: "v-1", RawWall: time.Unix(1e9, 0), Time: time.Unix(1e9, 0), Received: time.Unix(1e9, 0), Sealed: []byte("sealed"), Hash: h}},
		LastSeq:  1,
		LastHash: h,
		Leaf:     []byte("leaf\n"),
	}
	crash := errors.New("killed before commit")
	testHookLedger = func() error { return crash }
	defer func() { testHookLedger = nil }()
	if _, err := s.Ingest(ctx, b); !errors.Is(err, crash) {
		t.Fatalf("Ingest with a failing commit: %v", err)
	}
	if _, err := s.AddAudit(ctx, store.AuditEvent{Time: time.Unix(1e9, 0), Kind: store.AuditDayDestroyed, Detail: "{}"}); !errors.Is(err, crash) {
		t.Fatalf("AddAudit with a failing commit: %v", err)
	}
	check := func(records, leaves int) {
		t.Helper()
		st, err := s.State(ctx, "k-1")
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.LedgerSize(ctx)
		if err != nil {
			t.Fatal(err)
		}
		audit, _ := s.Audit(ctx)
		if int(st.Records) != records || n != int64(leaves) || len(audit) != leaves-records {
			t.Fatalf("records %d, leaves %d, audit events %d; want %d, %d, %d", st.Records, n, len(audit), records, leaves, leaves-records)
		}
	}
	check(0, 0)
	testHookLedger = nil
	if n, err := s.Ingest(ctx, b); err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	check(1, 1)
	if n, err := s.Ingest(ctx, b); err != nil || n != 0 { // a redelivery after a lost report
		t.Fatalf("second retry: %d, %v", n, err)
	}
	check(1, 1)
	if _, err := s.AddAudit(ctx, store.AuditEvent{Time: time.Unix(1e9, 0), Kind: store.AuditDayDestroyed, Detail: "{}"}); err != nil {
		t.Fatal(err)
	}
	check(1, 2)
}

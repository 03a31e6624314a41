package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/checkin"
)

// Ensure that "anshim ledger audit" exits 0 with a summary on a clean
// store, and 1 naming the record when one was deleted out of band; and
// that a store locked by a running central is refused with a hint.
func TestLedgerAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.db")
	st, err := boltstore.Open(path, &boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.AddDevice(ctx, store.Device{ID: "k-1", Venue: "v-1"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	var recs []store.CheckIn
	for q := uint64(1); q <= 3; q++ {
		recs = append(recs, store.CheckIn{Device: "k-1", Seq: q, Venue: "v-1", Kind: checkin.Entry, RawWall: at, Time: at,
			Sealed: []byte{byte(q)}, Hash: sha256.Sum256([]byte{byte(q)})})
	}
	leaf := ledgerstore.NewBatch("k-1", 1, 3, recs[2].Hash, [32]byte{1}, recs)
	text, _ := leaf.MarshalText()
	if _, err := st.Ingest(ctx, store.Batch{Device: "k-1", Records: recs, LastSeq: 3, LastHash: recs[2].Hash, Leaf: text}); err != nil {
		t.Fatal(err)
	}
	e := testEnv(testNow, "")
	code, _, stderr := e.anshim(t, "ledger", "audit", "--store", "bolt:"+path, "--keys-free")
	if code != 1 || !strings.Contains(stderr, "a running central holds this file") {
		t.Fatalf("locked store: exit %d\n%s", code, stderr)
	}
	st.Close()

	out := e.mustRun(t, "ledger", "audit", "--store", "bolt:"+path, "--keys-free")
	if !strings.Contains(out, "data audit OK: 1 leaves checked") || !strings.Contains(out, "3 records checked on 1 devices, 1 live days") {
		t.Fatalf("clean store:\n%s", out)
	}

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("checkins")).Delete(binary.BigEndian.AppendUint64([]byte("\x03k-1"), 2))
	})
	db.Close()
	code, stdout, stderr := e.anshim(t, "ledger", "audit", "--store", "bolt:"+path, "--keys-free")
	if code != 1 || !strings.Contains(stdout, "MISSING      device k-1 seq 2 day 2026-11-20 leaf 0") ||
		!strings.Contains(stdout, "data audit FAILED, 1 findings") || !strings.Contains(stderr, "anshim: hint: keep this output") {
		t.Fatalf("deleted record: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = e.anshim(t, "ledger", "audit", "--store", "bolt:"+path, "--keys-free", "--format", "json")
	if code != 1 || !strings.Contains(stdout, `"kind": "missing"`) {
		t.Fatalf("json: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := e.anshim(t, "ledger", "audit", "--store", "bolt:"+path); code != 2 || !strings.Contains(stderr, "--keys-free") {
		t.Fatalf("no bundle: exit %d\n%s", code, stderr)
	}
}

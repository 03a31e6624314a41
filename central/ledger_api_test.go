package central

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"

	"github.com/anshim/anshim/ledger"
)

// Ensure that ingested batches and audit events land in the ledger, that
// checkpoints are signed by the server's clock, and that the HTTP API
// serves what an auditor (ledger.Verify) and a kiosk (receipts) need.
func TestLedgerAPI(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	v, err := note.NewVerifier(ts.keys.LedgerVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	k := ts.enroll(t, "cafe-1")
	nc, _ := k.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	bm := k.batches(ts.keys)
	var sealed [][32]byte
	for range 2 {
		data, id := bm.next(t, 3)
		sealed = append(sealed, sha256.Sum256(data))
		if _, err := js.Publish(ctx, k.enr.Subject, data, jetstream.WithMsgID(id)); err != nil {
			t.Fatal(err)
		}
		ts.waitStored(t, k.enr.Device, bm.seq)
	}
	if _, err := ts.RunRetention(ctx, ts.clock.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := ts.store.LedgerSize(ctx)
	if err != nil || n != 5 {
		t.Fatalf("ledger size %d, %v; want 5 (venue registered, kiosk enrolled, 2 batches, 1 day destroyed)", n, err)
	}

	client := &ledger.Client{URL: ts.HTTPURL()}
	if _, err := client.Receipt(ctx, k.enr.Device, 5); err == nil {
		t.Log("a receipt before the leaf's checkpoint (the loop may have signed one already)")
	}
	ts.clock.Advance(ledger.Every)
	if _, _, err := ts.CheckpointLedger(ctx, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	rep, err := ledger.Verify(ctx, client, v, nil)
	if err != nil || rep.Checkpoint.Size != 5 || rep.Types[ledger.TypeBatch] != 2 || rep.Types[ledger.TypeEvent] != 3 {
		t.Fatalf("audit: %+v, %v", rep, err)
	}
	r, err := client.Receipt(ctx, k.enr.Device, 5)
	if err != nil {
		t.Fatal(err)
	}
	_, leaf, err := r.Verify(v)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := leaf.(*ledger.Batch); !ok || b.First != 4 || b.Last != 6 || b.Sealed != sealed[1] || r.Index != 3 {
		t.Fatalf("receipt of record 5: index %d, leaf %+v", r.Index, leaf)
	}
	p, err := client.Inclusion(ctx, 3, 5)
	if err != nil || len(p) == 0 {
		t.Fatalf("inclusion proof: %v, %v", p, err)
	}

	// More leaves, a new checkpoint: consistent with the saved one.
	data, id := bm.next(t, 2)
	if _, err := js.Publish(ctx, k.enr.Subject, data, jetstream.WithMsgID(id)); err != nil {
		t.Fatal(err)
	}
	ts.waitStored(t, k.enr.Device, bm.seq)
	ts.clock.Advance(ledger.Every)
	if _, _, err := ts.CheckpointLedger(ctx, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	rep2, err := ledger.Verify(ctx, client, v, rep.Note)
	if err != nil || rep2.Checkpoint.Size != 6 {
		t.Fatalf("second audit: %+v, %v", rep2, err)
	}
	var hist []map[string]any
	if code := ts.do(t, "GET", "/v1/ledger/checkpoints", nil, false, &hist); code != http.StatusOK || len(hist) < 2 {
		t.Fatalf("history: %d, %d checkpoints", code, len(hist))
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v1/ledger/leaves?start=0&end=100", http.StatusOK},
		{"/v1/ledger/leaves?start=9&end=10", http.StatusBadRequest},
		{"/v1/ledger/proof/inclusion?index=3&size=3", http.StatusBadRequest},
		{"/v1/ledger/proof/inclusion?index=0&size=99", http.StatusBadRequest},
		{"/v1/ledger/proof/consistency?old=4&new=2", http.StatusBadRequest},
		{"/v1/ledger/proof/consistency?old=-1&new=2", http.StatusBadRequest},
		{"/v1/ledger/receipt?device=nobody&seq=1", http.StatusNotFound},
	} {
		if code := ts.do(t, "GET", tc.path, nil, false, nil); code != tc.want {
			t.Errorf("GET %s: %d, want %d", tc.path, code, tc.want)
		}
	}
	if _, err := ledger.Verify(ctx, client, v, []byte("junk")); err == nil || errors.Is(err, ledger.ErrFork) {
		t.Errorf("audit with a junk saved checkpoint: %v", err)
	}
}

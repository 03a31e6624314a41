package kiosk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
)

// fakeLedger serves consistency proofs from a tree.
type fakeLedger struct{ t *ledger.Tree }

func (f fakeLedger) Consistency(_ context.Context, old, new int64) (tlog.TreeProof, error) {
	return tlog.ProveTree(new, old, f.t)
}

func (f fakeLedger) Receipt(context.Context, uint64) (ledger.Receipt, error) {
	return ledger.Receipt{}, errors.New("not here")
}

func (f fakeLedger) Checkpoint(context.Context) ([]byte, error) {
	return nil, errors.New("not here")
}

// Ensure that the witness keeps a newer consistent checkpoint, and that a
// checkpoint signed by the real key over a rewritten tree — caught by the
// consistency proof — puts it in alert, with both checkpoints and the proof
// kept, an error logged, and the alert still there after a restart.
func TestWitness_Fork(t *testing.T) {
	keys, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := keys.LedgerSigner()
	bundle := keys.Bundle()
	v, err := bundle.NoteVerifier()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := CreateOutbox(path, OutboxMeta{Device: "k-1", Venue: "cafe"}); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ob, err := OpenOutbox(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	w, err := NewWitness(ob, v, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(dev string, n uint64) []byte {
		l, _ := (&ledger.Batch{Device: dev, First: n, Last: n}).MarshalText()
		return l
	}
	sign := func(tr *ledger.Tree, n int64) []byte {
		h, _ := tr.Root(n)
		msg, err := ledger.Sign(ledger.Checkpoint{Size: n, Hash: h}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	var real ledger.Tree
	for i := range uint64(4) {
		real.Append(leaf("k-1", i+1))
	}
	ctx := context.Background()
	// A receipt of leaf 1 in the tree of 2 (a batch the kiosk sent), then
	// a checkpoint of 4.
	if err := w.Sent(uplink.SentBatch{First: 2, Last: 2}); err != nil {
		t.Fatal(err)
	}
	p, _ := tlog.ProveRecord(2, 1, &real)
	r := ledger.Receipt{Index: 1, Leaf: string(leaf("k-1", 2)), Proof: p, Checkpoint: string(sign(&real, 2))}
	if err := w.Receipt(ctx, r, fakeLedger{&real}); err != nil {
		t.Fatal(err)
	}
	if h, _ := w.Highest(); h != 2 {
		t.Fatalf("highest %d", h)
	}
	// A receipt whose proof is not its leaf's is refused.
	bad := ledger.Receipt{Index: 0, Leaf: string(leaf("k-1", 1)), Proof: p, Checkpoint: r.Checkpoint}
	if err := w.Receipt(ctx, bad, fakeLedger{&real}); err == nil {
		t.Fatal("a receipt with a wrong proof kept")
	}
	if err := w.Observe(ctx, sign(&real, 4), fakeLedger{&real}); err != nil {
		t.Fatal(err)
	}
	if c, _ := ledger.Open(w.Latest(), v); c.Size != 4 || w.Alert() {
		t.Fatalf("latest %d, alert %v", c.Size, w.Alert())
	}
	// The log rewritten: leaf 2 changed, then grown to 6 and signed.
	var forked ledger.Tree
	for i := range uint64(6) {
		d := "k-1"
		if i == 1 {
			d = "k-evil"
		}
		forked.Append(leaf(d, i+1))
	}
	err = w.Observe(ctx, sign(&forked, 6), fakeLedger{&forked})
	if !errors.Is(err, ledger.ErrFork) || !w.Alert() {
		t.Fatalf("fork not caught: %v", err)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"ledger fork detected"`) {
		t.Errorf("log:\n%s", logs.String())
	}
	ev, err := w.Unreported()
	if err != nil || len(ev) != 1 {
		t.Fatalf("evidence %v %v", ev, err)
	}
	for k, e := range ev {
		if e.Old != string(sign(&real, 4)) || e.New != string(sign(&forked, 6)) || len(e.Proof) == 0 {
			t.Errorf("evidence %+v", e)
		}
		if err := w.Reported(k); err != nil {
			t.Fatal(err)
		}
	}
	if ev, _ := w.Unreported(); len(ev) != 0 {
		t.Errorf("still unreported: %v", ev)
	}
	// The latest stays the last consistent checkpoint; the alert survives
	// a restart.
	w2, err := NewWitness(ob, v, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ledger.Open(w2.Latest(), v); c.Size != 4 || !w2.Alert() {
		t.Fatalf("after restart: latest %d, alert %v", c.Size, w2.Alert())
	}
	// Same size, different root.
	var other ledger.Tree
	for i := range uint64(4) {
		other.Append(leaf("k-2", i+1))
	}
	if err := w2.Observe(ctx, sign(&other, 4), fakeLedger{&other}); !errors.Is(err, ledger.ErrFork) {
		t.Fatalf("same size fork: %v", err)
	}
	// Nothing of the outbox changed.
	if n, _ := ob.Pending(); n != 0 {
		t.Errorf("pending %d", n)
	}
}

// Ensure that receipt keys parse as the decimal numbers they are — the
// old fmt.Sscan read "00000000000000000010" as octal 8 and failed on
// "…19", so the uplink asked for the same receipts every 5 s forever —
// and that Highest is the largest.
func TestWitness_ReceiptKeys(t *testing.T) {
	for _, tc := range []struct {
		key     string
		want    uint64
		wantErr bool
	}{
		{"00000000000000000010", 10, false},
		{"00000000000000000019", 19, false},
		{"00000000000000000008", 8, false},
		{receiptKey(18446744073709551615), 18446744073709551615, false},
		{"0x10", 0, true},
		{"", 0, true},
	} {
		got, err := parseReceiptKey(tc.key)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("parseReceiptKey(%q) = %d, %v; want %d (error %v)", tc.key, got, err, tc.want, tc.wantErr)
		}
	}
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := CreateOutbox(path, OutboxMeta{Device: "k-1", Venue: "cafe"}); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ob, err := OpenOutbox(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	keys, _ := province.Generate(nil, "jeju")
	v, _ := keys.Bundle().NoteVerifier()
	w, err := NewWitness(ob, v, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint64{8, 19, 10} {
		if err := ob.PutCache(BucketReceipts, receiptKey(n), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	if h, err := w.Highest(); h != 19 || err != nil {
		t.Errorf("Highest = %d, %v; want 19", h, err)
	}
}

// Ensure that one fork is recorded once: the same forked checkpoint seen
// again, after a restart too, and a later checkpoint of the same fork add
// no evidence, while the alert stays.
func TestWitness_ForkRecordedOnce(t *testing.T) {
	keys, _ := province.Generate(nil, "jeju")
	signer, _ := keys.LedgerSigner()
	v, _ := keys.Bundle().NoteVerifier()
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := CreateOutbox(path, OutboxMeta{Device: "k-1", Venue: "cafe"}); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ob, err := OpenOutbox(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	tree := func(dev string, n int) *ledger.Tree {
		var tr ledger.Tree
		for i := range n {
			l, _ := (&ledger.Batch{Device: dev, First: uint64(i) + 1, Last: uint64(i) + 1}).MarshalText()
			tr.Append(l)
		}
		return &tr
	}
	sign := func(tr *ledger.Tree) []byte {
		h, _ := tr.Root(tr.Size())
		msg, err := ledger.Sign(ledger.Checkpoint{Size: tr.Size(), Hash: h}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	real, forked, forkedMore := tree("k-1", 4), tree("k-evil", 4), tree("k-evil", 6)
	ctx := context.Background()
	count := func() int {
		n := 0
		ob.ForEachCache(BucketEvidence, func(string, []byte) error { n++; return nil })
		return n
	}
	w, _ := NewWitness(ob, v, nil, slog.New(slog.DiscardHandler))
	if err := w.Observe(ctx, sign(real), fakeLedger{real}); err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		name    string
		restart bool
		msg     []byte
		l       fakeLedger
	}{
		{"the fork", false, sign(forked), fakeLedger{forked}},
		{"the same forked checkpoint again", false, sign(forked), fakeLedger{forked}},
		{"again after a restart", true, sign(forked), fakeLedger{forked}},
		{"the fork grown", false, sign(forkedMore), fakeLedger{forkedMore}},
	} {
		if step.restart {
			if w, err = NewWitness(ob, v, nil, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Observe(ctx, step.msg, step.l); !errors.Is(err, ledger.ErrFork) {
			t.Errorf("%d %s: %v, want a fork", i, step.name, err)
		}
		if n := count(); n != 1 || !w.Alert() {
			t.Errorf("%d %s: %d evidence records, alert %v", i, step.name, n, w.Alert())
		}
	}
}

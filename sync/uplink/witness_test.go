package uplink_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// evilCentral is the ledger side of a central whose operator is the
// attacker, over a real NATS server: it builds its ledger from the batches
// in the real stream exactly as the central does (one leaf per batch:
// device, range, chain head, SHA-256 of the message), signs checkpoints
// with the real ledger key, publishes receipts and answers the kiosks'
// checkpoint and consistency requests from the tree it currently shows —
// which the test rewrites at will.
type evilCentral struct {
	t      *testing.T
	nc     *nats.Conn
	signer note.Signer

	mu     sync.Mutex
	leaves [][]byte
	tree   *ledger.Tree
	cp     []byte // the checkpoint served
}

func startEvilCentral(t *testing.T, srv *natsServer, k *testKiosk) *evilCentral {
	t.Helper()
	nc, js := srv.connect(nil)
	signer, err := k.keys.LedgerSigner()
	if err != nil {
		t.Fatal(err)
	}
	e := &evilCentral{t: t, nc: nc, signer: signer, tree: &ledger.Tree{}}
	ctx := context.Background()
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: wire.BucketWitness, History: 1}); err != nil {
		t.Fatal(err)
	}
	e.serve(wire.SubjectCheckpointRequest, func([]byte) wire.LedgerReply {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.cp == nil {
			return wire.LedgerReply{Error: "no checkpoint", Retry: true}
		}
		return wire.LedgerReply{Checkpoint: string(e.cp)}
	})
	e.serve(wire.SubjectConsistencyRequest, func(data []byte) wire.LedgerReply {
		var req wire.ConsistencyRequest
		json.Unmarshal(data, &req)
		e.mu.Lock()
		defer e.mu.Unlock()
		if req.New > e.tree.Size() || req.Old < 1 || req.Old > req.New {
			return wire.LedgerReply{Error: fmt.Sprintf("size %d beyond the ledger's %d leaves", req.New, e.tree.Size())}
		}
		p, err := tlog.ProveTree(req.New, req.Old, e.tree)
		if err != nil {
			return wire.LedgerReply{Error: err.Error(), Retry: true}
		}
		return wire.LedgerReply{Proof: &ledger.Proof{Old: req.Old, Size: req.New, Proof: p}}
	})
	e.serve(wire.SubjectReceiptRequest, func(data []byte) wire.LedgerReply {
		var req wire.ReceiptRequest
		json.Unmarshal(data, &req)
		e.mu.Lock()
		defer e.mu.Unlock()
		for i, l := range e.leaves {
			if b, err := ledger.ParseLeaf(l); err == nil {
				if b, ok := b.(*ledger.Batch); ok && b.Device == req.Device && b.First <= req.Seq && req.Seq <= b.Last {
					r := e.receipt(int64(i))
					return wire.LedgerReply{Receipt: &r}
				}
			}
		}
		return wire.LedgerReply{Error: "not yet", Retry: true}
	})
	cons, err := js.OrderedConsumer(ctx, wire.Stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		b, _, err := wire.Decode(m.Data())
		if err != nil {
			t.Errorf("evil central: %v", err)
			return
		}
		e.append(&ledger.Batch{Device: b.Device, First: b.FirstSeq(), Last: b.Head.Seq, Head: b.Head.Hash, Sealed: sha256.Sum256(m.Data())}, true)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.Stop)
	return e
}

func (e *evilCentral) serve(subject string, f func([]byte) wire.LedgerReply) {
	_, err := e.nc.Subscribe(subject, func(m *nats.Msg) {
		data, _ := json.Marshal(f(m.Data))
		m.Respond(data)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// append adds a leaf, signs the tree and, for a batch, publishes its
// receipt (when receipt is set).
func (e *evilCentral) append(l ledger.Leaf, receipt bool) {
	text, err := l.MarshalText()
	if err != nil {
		e.t.Error(err)
		return
	}
	e.mu.Lock()
	e.leaves = append(e.leaves, text)
	e.tree.Append(text)
	index := e.tree.Size() - 1
	e.sign()
	r := e.receipt(index)
	e.mu.Unlock()
	if b, ok := l.(*ledger.Batch); ok && receipt {
		e.publish(b.Device, r)
	}
}

// sign signs the whole tree shown. e.mu is held.
func (e *evilCentral) sign() {
	n := e.tree.Size()
	h, err := e.tree.Root(n)
	if err != nil {
		e.t.Error(err)
		return
	}
	if e.cp, err = ledger.Sign(ledger.Checkpoint{Size: n, Hash: h}, e.signer); err != nil {
		e.t.Error(err)
	}
}

// receipt is the receipt of leaf index in the tree shown. e.mu is held.
func (e *evilCentral) receipt(index int64) ledger.Receipt {
	p, err := tlog.ProveRecord(e.tree.Size(), index, e.tree)
	if err != nil {
		e.t.Error(err)
	}
	return ledger.Receipt{Index: index, Leaf: string(e.leaves[index]), Proof: p, Checkpoint: string(e.cp)}
}

func (e *evilCentral) publish(device string, r ledger.Receipt) {
	data, _ := json.Marshal(r)
	if err := e.nc.Publish(wire.ReceiptSubject(device), data); err != nil {
		e.t.Error(err)
	}
}

// rewrite shows a tree of the first keep leaves followed by extra, signed.
func (e *evilCentral) rewrite(keep int, extra ...ledger.Leaf) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leaves = e.leaves[:keep]
	for _, l := range extra {
		text, _ := l.MarshalText()
		e.leaves = append(e.leaves, text)
	}
	e.tree = &ledger.Tree{}
	for _, l := range e.leaves {
		e.tree.Append(l)
	}
	e.sign()
}

// size is the size of the tree shown.
func (e *evilCentral) size() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tree.Size()
}

// witnessKiosk is a kiosk with records, its witness and its uplink
// running against srv.
type witnessKiosk struct {
	*testKiosk
	w    *kiosk.Witness
	v    note.Verifier
	u    *uplink.Uplink
	logs *logBuffer
}

func startWitnessKiosk(t *testing.T, srv *natsServer, k *testKiosk, poll time.Duration) *witnessKiosk {
	t.Helper()
	v, err := k.keys.Bundle().NoteVerifier()
	if err != nil {
		t.Fatal(err)
	}
	wk := &witnessKiosk{testKiosk: k, v: v, logs: &logBuffer{}}
	wk.w, err = kiosk.NewWitness(k.ob, v, nil, wk.logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	wk.w.Poll = poll
	cfg := k.config(srv.URL, wk.logs.logger())
	cfg.Witness = wk.w
	wk.u, _ = run(t, cfg)
	// Receipts are core NATS: records are written once the kiosk listens.
	waitFor(t, 10*time.Second, "the uplink connected", func() bool { return wk.u.Status().Connected })
	time.Sleep(200 * time.Millisecond)
	return wk
}

// waitReceipts waits until the witness keeps the receipts up to seq; the
// central publishes them again every half second (core NATS: one sent
// before the kiosk subscribed is lost, and the kiosk asks only after 25 s).
func (wk *witnessKiosk) waitReceipts(t *testing.T, evil *evilCentral, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if h, _ := wk.w.Highest(); h >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no receipts up to %d:\n%s", seq, wk.logs.String())
		}
		evil.mu.Lock()
		var rs []ledger.Receipt
		for i, l := range evil.leaves {
			if b, err := ledger.ParseLeaf(l); err == nil {
				if b, ok := b.(*ledger.Batch); ok && b.Device == wk.dev.ID {
					rs = append(rs, evil.receipt(int64(i)))
				}
			}
		}
		evil.mu.Unlock()
		for _, r := range rs {
			evil.publish(wk.dev.ID, r)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// evidence returns the kiosk's evidence records.
func (wk *witnessKiosk) evidence(t *testing.T) map[string]wire.Evidence {
	t.Helper()
	out := map[string]wire.Evidence{}
	err := wk.ob.ForEachCache(kiosk.BucketEvidence, func(key string, v []byte) error {
		var ev wire.Evidence
		if err := json.Unmarshal(v, &ev); err != nil {
			return err
		}
		out[key] = ev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// latestSize is the size of the latest checkpoint the witness keeps.
func (wk *witnessKiosk) latestSize() int64 {
	c, err := ledger.Open(wk.w.Latest(), wk.v)
	if err != nil {
		return -1
	}
	return c.Size
}

// Ensure that a receipt, correctly signed and included, whose leaf names
// this kiosk but not a batch it sent — another chain head and hash for a
// range it sent, or records it never wrote — is not kept: it is an alert
// with the receipt kept as evidence, while the receipts of the batches it
// sent are kept.
func TestWitness_MadeUpBatchRefused(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	createStream(t, js)
	k := newKiosk(t)
	evil := startEvilCentral(t, srv, k)
	wk := startWitnessKiosk(t, srv, k, time.Hour)
	k.fill(t, 5)
	wk.waitReceipts(t, evil, 5)
	if wk.w.Alert() {
		t.Fatalf("alert on honest receipts:\n%s", wk.logs.String())
	}
	for i, leaf := range []*ledger.Batch{
		{Device: k.dev.ID, First: 1, Last: 5, Head: [32]byte{1}, Sealed: [32]byte{2}},
		{Device: k.dev.ID, First: 6, Last: 9, Head: [32]byte{3}, Sealed: [32]byte{4}},
	} {
		evil.append(leaf, true)
		waitFor(t, 10*time.Second, "the made-up batch's evidence", func() bool { return len(wk.evidence(t)) == i+1 })
	}
	if h, _ := wk.w.Highest(); h != 5 || !wk.w.Alert() || !wk.u.Status().LedgerAlert {
		t.Fatalf("highest %d, alert %v", h, wk.w.Alert())
	}
	for key, ev := range wk.evidence(t) {
		if ev.Kind != wire.KindReceipt || ev.Receipt == nil || !strings.HasPrefix(key, "receipt-") || ev.Device != k.dev.ID {
			t.Errorf("evidence %s: %+v", key, ev)
		}
	}
	if !strings.Contains(wk.logs.String(), `"level":"ERROR","msg":"ledger fork detected"`) {
		t.Errorf("no ERROR line:\n%s", wk.logs.String())
	}
}

// Ensure that a central that cuts the tail of its log (an event leaf —
// an identity reveal — that a checkpoint already covered) and re-signs a
// smaller tree is caught by a kiosk that sends nothing, within a few poll
// periods; that a central refusing the consistency proof is itself the
// alert; and that the fork, seen again and again and grown, is recorded
// once, without a storm of requests.
func TestWitness_TailTruncationCaughtByPoll(t *testing.T) {
	const poll = 200 * time.Millisecond
	srv := startNATS(t, nil)
	nc, js := srv.connect(nil)
	stream := createStream(t, js)
	k := newKiosk(t)
	evil := startEvilCentral(t, srv, k)
	wk := startWitnessKiosk(t, srv, k, poll)
	k.fill(t, 3)
	wk.waitReceipts(t, evil, 3)
	sent := stream.CachedInfo().State.Msgs
	if info, _ := stream.Info(context.Background()); info != nil {
		sent = info.State.Msgs
	}

	// An identity reveal: the kiosk sees it by polling, no batch sent.
	keep := int(evil.size())
	evil.append(&ledger.Event{ID: 1, Time: time.Unix(1700000000, 0).UTC(), Kind: "identity-revealed", Detail: `{"case":"C-1","count":3}`}, false)
	waitFor(t, 10*poll+5*time.Second, "the event's checkpoint polled", func() bool { return wk.latestSize() == int64(keep+1) })

	// The tail cut: the tree of the leaves before the event, re-signed.
	var requests sync.Map
	sub, err := nc.Subscribe(wire.SubjectConsistencyRequest, func(m *nats.Msg) {
		n, _ := requests.LoadOrStore(string(m.Data), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	start := time.Now()
	evil.rewrite(keep)
	waitFor(t, 10*poll+5*time.Second, "the truncation caught", func() bool { return len(wk.evidence(t)) == 1 })
	t.Logf("truncation caught %v after the re-signing (poll %v)", time.Since(start).Round(time.Millisecond), poll)
	for _, ev := range wk.evidence(t) {
		if ev.Kind != wire.KindFork || !strings.Contains(ev.Reason, "refuses to prove consistency") {
			t.Errorf("evidence %+v", ev)
		}
		if c, err := ledger.Open([]byte(ev.Old), wk.v); err != nil || c.Size != int64(keep) {
			t.Errorf("old checkpoint %d, %v", c.Size, err)
		}
		if c, err := ledger.Open([]byte(ev.New), wk.v); err != nil || c.Size != int64(keep+1) {
			t.Errorf("new checkpoint %d, %v", c.Size, err)
		}
	}

	// The forked log shown again and grown: the same fork, one record.
	time.Sleep(5 * poll)
	evil.rewrite(keep, &ledger.Event{ID: 2, Time: time.Unix(1700000100, 0).UTC(), Kind: "day-destroyed", Detail: `{}`})
	time.Sleep(10 * poll)
	if ev := wk.evidence(t); len(ev) != 1 {
		t.Errorf("%d evidence records for one fork", len(ev))
	}
	if !wk.w.Alert() {
		t.Error("no alert")
	}
	requests.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n > 2 {
			t.Errorf("consistency %s asked %d times", k, n)
		}
		return true
	})
	if info, err := stream.Info(context.Background()); err != nil || info.State.Msgs != sent {
		t.Errorf("batches sent during the test: %d → %v (%v)", sent, info.State.Msgs, err)
	}
}

// Ensure that a kiosk gossips its latest checkpoint in the witness bucket
// under its own key, and that a peer's checkpoint there — signed by the
// ledger key over a forked tree of the same size — puts it in alert even
// though the central never showed it that checkpoint.
func TestWitness_PeerForkThroughGossip(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	createStream(t, js)
	k := newKiosk(t)
	evil := startEvilCentral(t, srv, k)
	wk := startWitnessKiosk(t, srv, k, 200*time.Millisecond)
	k.fill(t, 2)
	wk.waitReceipts(t, evil, 2)
	kv, err := js.KeyValue(context.Background(), wire.BucketWitness)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the kiosk's gossip", func() bool {
		e, err := kv.Get(context.Background(), k.dev.ID)
		if err != nil {
			return false
		}
		var g wire.Gossip
		return json.Unmarshal(e.Value(), &g) == nil && g.Checkpoint == string(wk.w.Latest())
	})

	// Another kiosk was shown a different tree of the same size.
	n := evil.size()
	var forked ledger.Tree
	for i := range n {
		l, _ := (&ledger.Batch{Device: "k-peer", First: uint64(i) + 1, Last: uint64(i) + 1}).MarshalText()
		forked.Append(l)
	}
	root, _ := forked.Root(n)
	msg, err := ledger.Sign(ledger.Checkpoint{Size: n, Hash: root}, evil.signer)
	if err != nil {
		t.Fatal(err)
	}
	value, _ := json.Marshal(wire.Gossip{Checkpoint: string(msg)})
	if _, err := kv.Put(context.Background(), "k-peer", value); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the peer's fork caught", func() bool { return len(wk.evidence(t)) == 1 })
	for _, ev := range wk.evidence(t) {
		if ev.Kind != wire.KindFork || !strings.Contains(ev.Reason, "k-peer") || !strings.Contains(ev.Reason, "two roots") {
			t.Errorf("evidence %+v", ev)
		}
	}
	if !wk.u.Status().LedgerAlert {
		t.Error("no alert in the status")
	}
	// The evidence is gossiped on: the kiosk's value now carries it.
	waitFor(t, 10*time.Second, "the fork in the kiosk's gossip", func() bool {
		e, err := kv.Get(context.Background(), k.dev.ID)
		if err != nil {
			return false
		}
		var g wire.Gossip
		return json.Unmarshal(e.Value(), &g) == nil && len(g.Forks) == 1
	})
}

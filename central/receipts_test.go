package central

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// syncBuf is a log buffer safe for concurrent use.
type syncBuf = logtest.Buffer

// Ensure that the receipt of an ingested batch reaches the kiosk's witness
// over NATS and verifies, that a checkpoint signed by the real ledger key
// over a different tree puts the kiosk in alert with the evidence kept and
// reported to the central, and that one device cannot read another's
// receipts or report alerts in its name.
func TestReceipts_EndToEnd(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	a := ts.enroll(t, "cafe-1")
	b := ts.enroll(t, "cafe-2")
	dev := a.enr.Device

	// A kiosk: an outbox file for the cache, its witness, its uplink.
	path := filepath.Join(t.TempDir(), "outbox.db")
	if err := kiosk.CreateOutbox(path, kiosk.OutboxMeta{Device: dev, Venue: a.enr.Venue}); err != nil {
		t.Fatal(err)
	}
	ob, err := kiosk.OpenOutbox(path, a.key)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	v, err := note.NewVerifier(ts.keys.LedgerVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	var klog syncBuf
	log := slog.New(slog.NewJSONHandler(&klog, nil))
	w, err := kiosk.NewWitness(ob, v, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := a.nkey.Seed()
	up, err := uplink.New(uplink.Config{Outbox: ob, Device: dev, Venue: a.enr.Venue, URLs: []string{ts.NATSURL()},
		Seed: seed, Subject: a.enr.Subject, InboxPrefix: a.enr.InboxPrefix, Log: log, Witness: w})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { up.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	waitUntil(t, "the uplink connected", func() bool { return up.Status().Connected })

	// A batch of the kiosk, ingested, then a checkpoint.
	nc, _ := a.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	data, id := a.batches(ts.keys).next(t, 3)
	if _, err := js.Publish(ctx, a.enr.Subject, data, jetstream.WithMsgID(id)); err != nil {
		t.Fatal(err)
	}
	// The test plays the kiosk's sender: the witness learns what was sent.
	sent, _, err := wire.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Sent(uplink.SentBatch{First: sent.FirstSeq(), Last: sent.Head.Seq, Head: sent.Head.Hash, Sealed: sha256.Sum256(data)}); err != nil {
		t.Fatal(err)
	}
	ts.waitStored(t, dev, 3)
	if _, ok, err := ts.CheckpointLedger(ctx, time.Now()); err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	// The witness keeps the receipt before the uplink counts it: wait for both.
	waitUntil(t, "the receipt kept by the kiosk", func() bool {
		h, _ := w.Highest()
		return h == 3 && w.Latest() != nil && up.Status().Receipts == 1
	})
	rv, err := ob.GetCache(kiosk.BucketReceipts, fmt.Sprintf("%020d", 3))
	if err != nil || rv == nil {
		t.Fatalf("receipt not in the cache: %v", err)
	}
	var rc ledger.Receipt
	json.Unmarshal(rv, &rc)
	if _, leaf, err := rc.Verify(v); err != nil || leaf.(*ledger.Batch).Device != dev {
		t.Fatalf("kept receipt: %v", err)
	}
	if up.Status().Receipts != 1 || up.Status().LedgerAlert {
		t.Fatalf("status %+v", up.Status())
	}

	// Asked again by request-reply, the receipt is the same leaf.
	rep, err := nc.Request(wire.SubjectReceiptRequest, []byte(fmt.Sprintf(`{"device":%q,"seq":2}`, dev)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var lr wire.LedgerReply
	if json.Unmarshal(rep.Data, &lr); lr.Receipt == nil || lr.Receipt.Index != rc.Index {
		t.Fatalf("receipt request: %s", rep.Data)
	}

	t.Run("isolation", func(t *testing.T) {
		bnc, errs := b.connect(t, ts.NATSURL())
		for _, subj := range []string{wire.ReceiptSubject(dev), "anshim.receipts.*", "anshim.receipts.>"} {
			if _, err := bnc.SubscribeSync(subj); err != nil {
				t.Fatal(err)
			}
			errs.waitFor(t, fmt.Sprintf("Permissions Violation for Subscription to %q", subj))
		}
		if err := bnc.Publish(wire.AlertSubject(dev), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		errs.waitFor(t, fmt.Sprintf("Permissions Violation for Publish to %q", wire.AlertSubject(dev)))
		// b's own receipts subject is allowed.
		if _, err := bnc.SubscribeSync(wire.ReceiptSubject(b.enr.Device)); err != nil {
			t.Fatal(err)
		}
		if err := bnc.Flush(); err != nil {
			t.Fatal(err)
		}
	})

	// A forged checkpoint: the real ledger key over a different tree of the
	// same size (the kiosk's batch kept, the leaves before it rewritten),
	// with a valid receipt for the kiosk's batch.
	real, _ := ledger.Open(w.Latest(), v)
	var tree ledger.Tree
	for i := range real.Size {
		l := []byte(rc.Leaf)
		if i != rc.Index {
			l, _ = (&ledger.Batch{Device: "k-evil", First: uint64(i) + 1, Last: uint64(i) + 1, Head: [32]byte{byte(i), 1}}).MarshalText()
		}
		tree.Append(l)
	}
	root, _ := tree.Root(real.Size)
	signer, _ := ts.keys.LedgerSigner()
	forged, err := ledger.Sign(ledger.Checkpoint{Size: real.Size, Hash: root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ProveRecord(real.Size, rc.Index, &tree)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := json.Marshal(ledger.Receipt{Index: rc.Index, Leaf: rc.Leaf, Proof: p, Checkpoint: string(forged)})
	cnc := ts.centralConn(t)
	if err := cnc.Publish(wire.ReceiptSubject(dev), msg); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the kiosk in alert", func() bool { return up.Status().LedgerAlert })
	if !strings.Contains(klog.String(), `"level":"ERROR","msg":"ledger fork detected"`) {
		t.Errorf("no fork error line in the kiosk log:\n%s", klog.String())
	}
	var evidence []string
	ob.ForEachCache(kiosk.BucketEvidence, func(_ string, v []byte) error { evidence = append(evidence, string(v)); return nil })
	if len(evidence) != 1 || !strings.Contains(evidence[0], strings.ReplaceAll(string(forged), "\n", `\n`)) {
		t.Fatalf("evidence: %q", evidence)
	}
	waitUntil(t, "the alert at the central", func() bool { return ts.metrics.ledgerForkAlerts.Load() == 1 })
	waitUntil(t, "the evidence marked reported", func() bool { m, err := w.Unreported(); return err == nil && len(m) == 0 })
	files, _ := filepath.Glob(filepath.Join(ts.cfg.DataOrDefault(), AlertsDir, "fork-*.json"))
	if len(files) != 1 {
		all, _ := filepath.Glob(filepath.Join(ts.cfg.DataOrDefault(), AlertsDir, "*"))
		t.Fatalf("central evidence files: %v (all %v)", files, all)
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), `"reason"`) || !strings.Contains(string(b), dev) {
		t.Errorf("central evidence: %s", b)
	}
	var m strings.Builder
	ts.writeMetrics(ctx, &m)
	if !strings.Contains(m.String(), "anshim_central_ledger_fork_alerts_total 1") {
		t.Errorf("metrics:\n%s", m.String())
	}
	// The outbox is not affected.
	if n, _ := ob.Pending(); n != 0 {
		t.Errorf("pending %d", n)
	}
}

// Ensure that a fork alert is verified before anything is written — a
// checkpoint not signed by the ledger key, two checkpoints the log proves
// consistent, evidence of another device and oversized reports are
// refused —, that a real fork (the ledger key over a rewritten tree) is
// kept once however often it is reported and listed by the public GET
// /v1/ledger/alerts, and that one device's reports are rate-limited.
func TestAlert_VerifiedDedupedRateLimited(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	a := ts.enroll(t, "cafe-1")
	dev := a.enr.Device
	ts.clock.Advance(ledger.Every)
	c1, ok, err := ts.CheckpointLedger(ctx, ts.clock.Now())
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	nc, _ := a.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	data, id := a.batches(ts.keys).next(t, 2)
	if _, err := js.Publish(ctx, a.enr.Subject, data, jetstream.WithMsgID(id)); err != nil {
		t.Fatal(err)
	}
	ts.waitStored(t, dev, 2)
	ts.clock.Advance(ledger.Every)
	c2, ok, err := ts.CheckpointLedger(ctx, ts.clock.Now())
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}

	signer, _ := ts.keys.LedgerSigner()
	forkedNote := func(size int64, tag byte) string {
		var tr ledger.Tree
		for i := range size {
			l, _ := (&ledger.Batch{Device: "k-evil", First: uint64(i) + 1, Last: uint64(i) + 1, Head: [32]byte{tag}}).MarshalText()
			tr.Append(l)
		}
		root, _ := tr.Root(size)
		msg, err := ledger.Sign(ledger.Checkpoint{Size: size, Hash: root}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	// The same checkpoint text signed by a key of the same name that is
	// not the ledger key.
	other, err := province.Generate(nil, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, _ := other.LedgerSigner()
	badSig, err := ledger.Sign(ledger.Checkpoint{Size: c2.Size, Hash: tlog.Hash{1}}, otherSigner)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(old, new string) wire.Evidence {
		return wire.Evidence{Kind: wire.KindFork, Device: dev, Detected: ts.clock.Now(), Reason: "test", Old: old, New: new}
	}
	report := func(e any) wire.LedgerReply {
		t.Helper()
		data, _ := json.Marshal(e)
		m, err := nc.Request(wire.AlertSubject(dev), data, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var rep wire.LedgerReply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	alerts := func() []LedgerAlert {
		t.Helper()
		var list []LedgerAlert
		if code := ts.do(t, "GET", "/v1/ledger/alerts", nil, false, &list); code != http.StatusOK {
			t.Fatalf("GET /v1/ledger/alerts: %d", code)
		}
		return list
	}
	genuine := ev(string(c2.Note), forkedNote(c2.Size, 7))
	otherDev := genuine
	otherDev.Device = "k-someone-else"
	for _, tc := range []struct {
		name    string
		ev      any
		wantErr string
	}{
		{"not signed by the ledger key", ev(string(c1.Note), string(badSig)), "not signed by the ledger key"},
		{"consistent checkpoints", ev(string(c1.Note), string(c2.Note)), "not a fork"},
		{"another device's evidence", otherDev, "reported by"},
		{"too large", map[string]string{"old": strings.Repeat("x", wire.MaxEvidenceBytes)}, "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := report(tc.ev)
			if rep.OK || !strings.Contains(rep.Error, tc.wantErr) || rep.Retry {
				t.Errorf("reply %+v, want error %q", rep, tc.wantErr)
			}
		})
		ts.clock.Advance(alertRefill) // keep the rate limit out of these cases
	}
	if n := len(alerts()); n != 0 || ts.metrics.ledgerForkAlerts.Load() != 0 {
		t.Fatalf("%d alerts kept from refused reports", n)
	}

	// A real fork, reported three times: one alert.
	for range 3 {
		if rep := report(genuine); !rep.OK {
			t.Fatalf("genuine fork refused: %+v", rep)
		}
	}
	list := alerts()
	if len(list) != 1 || list[0].Device != dev || list[0].Evidence.New != genuine.New || !strings.Contains(list[0].Finding, "not the log's") {
		t.Fatalf("alerts: %+v", list)
	}
	if n := ts.metrics.ledgerForkAlerts.Load(); n != 1 {
		t.Errorf("fork alerts counted %d, want 1", n)
	}

	// The rate limit: the bucket (5) was spent by the 3 reports above
	// and 2 more; the next is refused with "retry", and allowed again
	// once a token came back.
	for range 2 {
		report(genuine)
	}
	if rep := report(genuine); rep.OK || !rep.Retry || !strings.Contains(rep.Error, "too many") {
		t.Fatalf("report beyond the burst: %+v", rep)
	}
	ts.clock.Advance(alertRefill)
	if rep := report(ev(string(c2.Note), forkedNote(c2.Size, 9))); !rep.OK {
		t.Fatalf("report after the refill: %+v", rep)
	}
	if n := len(alerts()); n != 2 {
		t.Errorf("%d alerts, want 2", n)
	}
}

// Ensure that a device may write its own key of the witness gossip bucket
// and watch the whole bucket, but not write another device's key.
func TestWitnessBucket_Permissions(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	a := ts.enroll(t, "cafe-1")
	b := ts.enroll(t, "cafe-2")
	nc, errs := a.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(ctx, wire.BucketWitness)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, a.enr.Device, []byte(`{"checkpoint":"x"}`)); err != nil {
		t.Fatalf("put own key: %v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := kv.Put(pctx, b.enr.Device, []byte(`{"checkpoint":"forged"}`)); err == nil {
		t.Fatal("put another device's key: accepted")
	}
	errs.waitFor(t, fmt.Sprintf("Permissions Violation for Publish to %q", WitnessKeySubject(b.enr.Device)))
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	e := nextUpdate(t, w)
	if e == nil || e.Key() != a.enr.Device {
		t.Fatalf("watch: %v", e)
	}
	cjs, _ := jetstream.New(ts.centralConn(t))
	ckv, err := cjs.KeyValue(ctx, wire.BucketWitness)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ckv.Get(ctx, b.enr.Device); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("another device's key: %v, want not found", err)
	}
}

package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/sync/uplink"
)

// Cache buckets of the witness, in the outbox file's cache (docs/sync.md,
// "Ledger receipts and witnesses").
const (
	// BucketReceipts holds the receipts of the kiosk's batches: key the
	// batch's last sequence (20 decimal digits), value a JSON
	// ledger.Receipt.
	BucketReceipts = "receipts"
	// BucketLedger holds the latest signed checkpoint seen, under "latest".
	BucketLedger = "ledger"
	// BucketEvidence holds the evidence of each fork detected (JSON
	// evidenceRecord), by detection time.
	BucketEvidence = "evidence"
)

// evidenceRecord is a kept uplink.Evidence and whether the central
// confirmed receiving it.
type evidenceRecord struct {
	uplink.Evidence
	Reported bool `json:"reported"`
}

// Witness makes the kiosk one of the ledger's witnesses: it verifies each
// receipt of its batches offline (the checkpoint's signature with the
// bundle's ledger verifier key, the leaf's inclusion with tlog), keeps it,
// keeps the latest checkpoint and checks every other one it sees for
// consistency with it. A checkpoint that cannot be consistent (a different
// root at the same size, a consistency proof that fails) is a fork: the
// witness keeps both signed checkpoints and the proof as evidence, logs an
// error and stays in alert, and the uplink reports the evidence to the
// central. Receipts never touch the outbox's records or acks.
//
// It implements uplink.Witness.
type Witness struct {
	ob     *Outbox
	v      note.Verifier
	device string
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex // serialises checks; guards the fields below
	latest []byte     // the latest signed checkpoint, nil: none
	cp     ledger.Checkpoint
	alert  bool
}

var _ uplink.Witness = (*Witness)(nil)

// NewWitness returns the witness of the outbox's device, with the latest
// checkpoint and the alert state loaded from the cache. now dates the
// evidence (nil: time.Now).
func NewWitness(ob *Outbox, v note.Verifier, now func() time.Time, log *slog.Logger) (*Witness, error) {
	if now == nil {
		now = time.Now
	}
	w := &Witness{ob: ob, v: v, device: ob.Device(), log: log, now: now}
	msg, err := ob.GetCache(BucketLedger, "latest")
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	if msg != nil {
		c, err := ledger.Open(msg, v)
		if err != nil {
			return nil, fmt.Errorf("witness: saved checkpoint: %w", err)
		}
		w.latest, w.cp = msg, c
	}
	err = ob.ForEachCache(BucketEvidence, func(string, []byte) error {
		w.alert = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	if w.alert {
		log.Error("ledger fork detected", "state", "alert kept from an earlier run", "evidence_bucket", BucketEvidence)
	}
	return w, nil
}

// receiptKey is the cache key of the receipt of a batch ending at last.
func receiptKey(last uint64) string { return fmt.Sprintf("%020d", last) }

// Receipt implements uplink.Witness: it verifies r, which must be the
// receipt of one of this device's batches, keeps it, and checks its
// checkpoint (Observe).
func (w *Witness) Receipt(ctx context.Context, r ledger.Receipt, l uplink.LedgerClient) error {
	_, leaf, err := r.Verify(w.v)
	if err != nil {
		return fmt.Errorf("receipt of leaf %d: %w", r.Index, err)
	}
	b, ok := leaf.(*ledger.Batch)
	if !ok || b.Device != w.device {
		return fmt.Errorf("receipt of leaf %d: not a batch of device %s", r.Index, w.device)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := w.ob.PutCache(BucketReceipts, receiptKey(b.Last), data); err != nil {
		return err
	}
	return w.Observe(ctx, []byte(r.Checkpoint), l)
}

// Observe checks a signed checkpoint against the latest one kept: a newer
// one must extend it (a consistency proof from l, checked here), an older
// one must be a prefix of it, one of the same size must be the same. A
// consistent newer checkpoint becomes the latest. An inconsistent one puts
// the witness in alert and keeps the evidence; the error then wraps
// ledger.ErrFork. A proof that cannot be had now is an error too, and the
// check is made again with the next checkpoint.
func (w *Witness) Observe(ctx context.Context, msg []byte, l uplink.LedgerClient) error {
	c, err := ledger.Open(msg, w.v)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.latest == nil {
		return w.keepLatest(msg, c)
	}
	if c.Size == w.cp.Size {
		if c.Hash != w.cp.Hash {
			return w.fork(w.latest, msg, nil, "two roots for one tree size")
		}
		return nil
	}
	oldMsg, old, newMsg, nw := w.latest, w.cp, msg, c
	if c.Size < w.cp.Size {
		oldMsg, old, newMsg, nw = msg, c, w.latest, w.cp
	}
	if old.Size > 0 { // every tree extends the empty one
		p, err := l.Consistency(ctx, old.Size, nw.Size)
		if err != nil {
			return fmt.Errorf("ledger consistency %d→%d not checked: %w", old.Size, nw.Size, err)
		}
		if err := tlog.CheckTree(p, nw.Size, nw.Hash, old.Size, old.Hash); err != nil {
			return w.fork(oldMsg, newMsg, p, fmt.Sprintf("consistency proof %d→%d fails: %v", old.Size, nw.Size, err))
		}
	}
	if c.Size > w.cp.Size {
		return w.keepLatest(msg, c)
	}
	return nil
}

// keepLatest makes msg the latest checkpoint. w.mu is held.
func (w *Witness) keepLatest(msg []byte, c ledger.Checkpoint) error {
	if err := w.ob.PutCache(BucketLedger, "latest", msg); err != nil {
		return err
	}
	w.latest, w.cp = msg, c
	return nil
}

// fork keeps the evidence, raises the alert and returns an error wrapping
// ledger.ErrFork. w.mu is held.
func (w *Witness) fork(oldMsg, newMsg []byte, proof tlog.TreeProof, reason string) error {
	now := w.now().UTC()
	ev := evidenceRecord{Evidence: uplink.Evidence{
		Device: w.device, Detected: now, Reason: reason,
		Old: string(oldMsg), New: string(newMsg), Proof: proof,
	}}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	key := now.Format("20060102T150405.000000000Z")
	w.alert = true
	perr := w.ob.PutCache(BucketEvidence, key, data)
	old, _ := ledger.Open(oldMsg, w.v)
	nw, _ := ledger.Open(newMsg, w.v)
	w.log.Error("ledger fork detected", "reason", reason,
		"old_size", old.Size, "old_root", old.Hash.String(), "new_size", nw.Size, "new_root", nw.Hash.String(),
		"evidence", key, "evidence_kept", perr == nil)
	return errors.Join(fmt.Errorf("ledger: %w: %s", ledger.ErrFork, reason), perr)
}

// Highest implements uplink.Witness.
func (w *Witness) Highest() (uint64, error) {
	var last uint64
	err := w.ob.ForEachCache(BucketReceipts, func(key string, _ []byte) error {
		_, err := fmt.Sscan(key, &last)
		return err
	})
	return last, err
}

// Unreported implements uplink.Witness.
func (w *Witness) Unreported() (map[string]uplink.Evidence, error) {
	out := map[string]uplink.Evidence{}
	err := w.ob.ForEachCache(BucketEvidence, func(key string, v []byte) error {
		var ev evidenceRecord
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("evidence %s: %w", key, err)
		}
		if !ev.Reported {
			out[key] = ev.Evidence
		}
		return nil
	})
	return out, err
}

// Reported implements uplink.Witness.
func (w *Witness) Reported(key string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.ob.GetCache(BucketEvidence, key)
	if err != nil || v == nil {
		return err
	}
	var ev evidenceRecord
	if err := json.Unmarshal(v, &ev); err != nil {
		return err
	}
	ev.Reported = true
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return w.ob.PutCache(BucketEvidence, key, data)
}

// Alert implements uplink.Witness.
func (w *Witness) Alert() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.alert
}

// Latest returns the latest signed checkpoint kept (nil: none).
func (w *Witness) Latest() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.latest
}

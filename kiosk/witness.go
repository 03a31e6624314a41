package kiosk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// Cache buckets of the witness, in the outbox file's cache (docs/sync.md,
// "Ledger receipts and witnesses"; docs/ledger.md).
const (
	// BucketReceipts holds the receipts of the kiosk's batches: key the
	// batch's last sequence (20 decimal digits), value a JSON
	// ledger.Receipt.
	BucketReceipts = "receipts"
	// BucketSent holds what the kiosk sent of each batch not yet receipted:
	// key the batch's last sequence (20 decimal digits), value a JSON list
	// of uplink.SentBatch (one per send whose message differed: a resend
	// carries a new Sent stamp).
	BucketSent = "sent"
	// BucketLedger holds the latest signed checkpoint seen, under
	// "latest", and the newest checkpoint of a fork caught, under "fork".
	BucketLedger = "ledger"
	// BucketEvidence holds the evidence of each fork detected (JSON
	// evidenceRecord), one record per pair of checkpoints (key "fork-"
	// and the hashes of both) or disowned receipt (key "receipt-" and its
	// hash).
	BucketEvidence = "evidence"
)

// Witness limits.
const (
	// MaxEvidence bounds the evidence records kept; more forks still
	// raise the alert and are logged, but are not stored.
	MaxEvidence = 64
	// maxSends bounds the sends remembered per batch.
	maxSends = 64
	// maxSent bounds the batches remembered without a receipt.
	maxSent = 4096
	// maxSeen bounds the checkpoints remembered as already checked.
	maxSeen = 4096
	// gossipForks is how many fork evidences the kiosk gossips.
	gossipForks = 4
)

// ErrUnknownBatch: a receipt for a batch of this device that the witness
// has no record of sending, within the records the kiosk wrote (sent by an
// earlier version, or the kiosk stopped between sending and recording).
// It is not kept, and not an alert.
var ErrUnknownBatch = errors.New("no record of sending this batch")

// evidenceRecord is a kept wire.Evidence and whether the central
// confirmed receiving it.
type evidenceRecord struct {
	wire.Evidence
	Reported bool `json:"reported"`
}

// Witness makes the kiosk one of the ledger's witnesses (docs/ledger.md).
// It remembers each batch it sends (seq range, chain head, SHA-256 of the
// message) and keeps a receipt only when its leaf is one of them: a
// receipt, correctly signed, for a batch the kiosk did not send is an
// alert. It verifies each receipt offline (the checkpoint's signature with
// the bundle's ledger verifier key, the leaf's inclusion with tlog), keeps
// the latest checkpoint and checks every other one it sees — with
// receipts, polled from the central, gossiped by other kiosks — for
// consistency with it. A checkpoint that cannot be consistent (a different
// root at the same size, a consistency proof that fails or that the
// central refuses) is a fork: the witness keeps both signed checkpoints and
// the proof as evidence, once per pair, logs an error and stays in alert,
// and the uplink reports the evidence to the central and gossips it to the
// other kiosks. Receipts never touch the outbox's records or acks.
//
// It implements uplink.Witness.
type Witness struct {
	// Poll is how often the uplink fetches the latest checkpoint and
	// rewrites the gossip value (0: uplink.DefaultCheckpointPoll). Set it
	// before the uplink starts.
	Poll time.Duration

	ob     *Outbox
	v      note.Verifier
	device string
	log    *slog.Logger
	now    func() time.Time

	mu        sync.Mutex // serialises checks; guards the fields below
	latest    []byte     // the latest signed checkpoint, nil: none
	cp        ledger.Checkpoint
	forkMsg   []byte // the newest checkpoint of a fork caught, nil: none
	forkCp    ledger.Checkpoint
	alert     bool
	evidence  int                   // records in BucketEvidence
	full      bool                  // MaxEvidence reached and logged
	seen      map[[32]byte]struct{} // checkpoints already checked
	forked    map[[32]byte]struct{} // checkpoints already attributed to a fork
	sentCalls int
}

var _ uplink.Witness = (*Witness)(nil)

// NewWitness returns the witness of the outbox's device, with the latest
// checkpoint, the fork caught and the alert state loaded from the cache.
// now dates the evidence (nil: time.Now).
func NewWitness(ob *Outbox, v note.Verifier, now func() time.Time, log *slog.Logger) (*Witness, error) {
	if now == nil {
		now = time.Now
	}
	w := &Witness{ob: ob, v: v, device: ob.Device(), log: log, now: now,
		seen: map[[32]byte]struct{}{}, forked: map[[32]byte]struct{}{}}
	for _, k := range []struct {
		key string
		msg *[]byte
		cp  *ledger.Checkpoint
	}{{"latest", &w.latest, &w.cp}, {"fork", &w.forkMsg, &w.forkCp}} {
		msg, err := ob.GetCache(BucketLedger, k.key)
		if err != nil {
			return nil, fmt.Errorf("witness: %w", err)
		}
		if msg == nil {
			continue
		}
		c, err := ledger.Open(msg, v)
		if err != nil {
			return nil, fmt.Errorf("witness: saved checkpoint %s: %w", k.key, err)
		}
		*k.msg, *k.cp = msg, c
	}
	err := ob.ForEachCache(BucketEvidence, func(string, []byte) error {
		w.evidence++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	w.alert = w.evidence > 0
	if w.alert {
		log.Error("ledger fork detected", "state", "alert kept from an earlier run", "evidence_bucket", BucketEvidence, "evidence", w.evidence)
	}
	return w, nil
}

// receiptKey is the cache key of the receipt of a batch ending at last.
func receiptKey(last uint64) string { return fmt.Sprintf("%020d", last) }

// parseReceiptKey parses a receiptKey: decimal, leading zeros and all.
func parseReceiptKey(key string) (uint64, error) {
	n, err := strconv.ParseUint(key, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("witness: key %q: %w", key, err)
	}
	return n, nil
}

// CheckpointPoll implements uplink.Witness.
func (w *Witness) CheckpointPoll() time.Duration { return w.Poll }

// Sent implements uplink.Witness: it remembers a batch sent, under its
// last sequence.
func (w *Witness) Sent(b uplink.SentBatch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := receiptKey(b.Last)
	sends, err := w.sends(key)
	if err != nil {
		return err
	}
	if slices.Contains(sends, b) {
		return nil
	}
	if len(sends) >= maxSends {
		// Keep the first sends (the stream keeps the first it received)
		// and the newest.
		sends = slices.Delete(sends, 8, 9)
	}
	data, err := json.Marshal(append(sends, b))
	if err != nil {
		return err
	}
	if err := w.ob.PutCache(BucketSent, key, data); err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	if w.sentCalls++; w.sentCalls%256 == 0 {
		return w.pruneSent(0, maxSent)
	}
	return nil
}

// sends returns the sends remembered under key. w.mu is held.
func (w *Witness) sends(key string) ([]uplink.SentBatch, error) {
	v, err := w.ob.GetCache(BucketSent, key)
	if err != nil || v == nil {
		return nil, err
	}
	var sends []uplink.SentBatch
	if err := json.Unmarshal(v, &sends); err != nil {
		return nil, fmt.Errorf("witness: sent %s: %w", key, err)
	}
	return sends, nil
}

// pruneSent forgets the batches ending at or before upTo, and the oldest
// beyond keep. w.mu is held.
func (w *Witness) pruneSent(upTo uint64, keep int) error {
	var keys []string
	err := w.ob.ForEachCache(BucketSent, func(key string, _ []byte) error {
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return err
	}
	for i, key := range keys {
		last, err := parseReceiptKey(key)
		if err == nil && last > upTo && len(keys)-i <= keep {
			break
		}
		if err := w.ob.PutCache(BucketSent, key, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkSent tells whether b is one of the batches sent. known is false
// when the witness cannot tell (no record, within the records written).
// w.mu is held.
func (w *Witness) checkSent(b *ledger.Batch) (match, known bool, reason string, err error) {
	sends, err := w.sends(receiptKey(b.Last))
	if err != nil {
		return false, false, "", err
	}
	for _, s := range sends {
		if s.First == b.First && s.Last == b.Last && s.Head == b.Head && s.Sealed == b.Sealed {
			return true, true, "", nil
		}
	}
	if len(sends) == 0 {
		// Receipted already: its sends were forgotten, the kept leaf is
		// the batch sent.
		v, err := w.ob.GetCache(BucketReceipts, receiptKey(b.Last))
		if err != nil {
			return false, false, "", err
		}
		var r ledger.Receipt
		if v != nil && json.Unmarshal(v, &r) == nil {
			if kept, ok := leafBatch(r); ok {
				if *kept == *b {
					return true, true, "", nil
				}
				return false, true, fmt.Sprintf("the leaf of records %d-%d is not the batch receipted before", b.First, b.Last), nil
			}
		}
	}
	if len(sends) > 0 {
		return false, true, fmt.Sprintf("the leaf of records %d-%d is not the batch sent (%d sends: other range, chain head or batch hash)", b.First, b.Last, len(sends)), nil
	}
	base, _, err := w.ob.Base()
	if err != nil {
		return false, false, "", err
	}
	pending, err := w.ob.Pending()
	if err != nil {
		return false, false, "", err
	}
	if written := base + uint64(pending); b.Last > written {
		return false, true, fmt.Sprintf("the leaf claims records %d-%d, the kiosk wrote only up to %d", b.First, b.Last, written), nil
	}
	return false, false, "", nil
}

// leafBatch returns the batch leaf of a receipt.
func leafBatch(r ledger.Receipt) (*ledger.Batch, bool) {
	l, err := ledger.ParseLeaf([]byte(r.Leaf))
	if err != nil {
		return nil, false
	}
	b, ok := l.(*ledger.Batch)
	return b, ok
}

// Receipt implements uplink.Witness: it verifies r, which must be the
// receipt of a batch this device sent and whose checkpoint is consistent
// with the latest kept (Observe), and keeps it. A receipt, correctly
// signed and included, for a batch of this device that it did not send
// is an alert (evidence kept, error wrapping ledger.ErrFork).
func (w *Witness) Receipt(ctx context.Context, r ledger.Receipt, l uplink.LedgerClient) error {
	c, leaf, err := r.Verify(w.v)
	if err != nil {
		return fmt.Errorf("receipt of leaf %d: %w", r.Index, err)
	}
	b, ok := leaf.(*ledger.Batch)
	if !ok || b.Device != w.device {
		return fmt.Errorf("receipt of leaf %d: not a batch of device %s", r.Index, w.device)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	match, known, reason, err := w.checkSent(b)
	if err != nil {
		return fmt.Errorf("receipt of leaf %d: %w", r.Index, err)
	}
	if !match && !known {
		return fmt.Errorf("receipt of leaf %d (records %d-%d): %w", r.Index, b.First, b.Last, ErrUnknownBatch)
	}
	if !match {
		return w.record(wire.Evidence{Kind: wire.KindReceipt, Reason: "receipt for a batch this kiosk did not send: " + reason, Receipt: &r},
			"receipt-"+shortHash(64, []byte(r.Leaf), []byte(r.Checkpoint)))
	}
	if err := w.observe(ctx, []byte(r.Checkpoint), c, l, "", false); err != nil {
		return fmt.Errorf("receipt of leaf %d not kept: %w", r.Index, err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := w.ob.PutCache(BucketReceipts, receiptKey(b.Last), data); err != nil {
		return err
	}
	return w.pruneSent(b.Last, maxSent)
}

// Observe implements uplink.Witness: it checks a signed checkpoint against
// the latest one kept: a newer one must extend it (a consistency proof
// from l, checked here), an older one must be a prefix of it, one of the
// same size must be the same. A consistent newer checkpoint becomes the
// latest. An inconsistent one — or one the central refuses to prove
// consistent (uplink.ErrRefused) — puts the witness in alert and keeps the
// evidence, once per pair of checkpoints; the error then wraps
// ledger.ErrFork. A checkpoint consistent with a fork already caught adds
// no evidence. A proof that cannot be had now is an error too, and the
// check is made again with the next checkpoint.
func (w *Witness) Observe(ctx context.Context, msg []byte, l uplink.LedgerClient) error {
	c, err := ledger.Open(msg, w.v)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.observe(ctx, msg, c, l, "", true)
}

// Peer implements uplink.Witness: it checks another kiosk's gossiped
// checkpoint, and the checkpoints of the forks it reports, as Observe
// does. A fork caught this way is this kiosk's own evidence.
func (w *Witness) Peer(ctx context.Context, device string, value []byte, l uplink.LedgerClient) error {
	var g wire.Gossip
	if len(value) > wire.MaxGossipBytes {
		return fmt.Errorf("gossip of %s: %d bytes", device, len(value))
	}
	if err := json.Unmarshal(value, &g); err != nil {
		return fmt.Errorf("gossip of %s: %w", device, err)
	}
	msgs := [][]byte{[]byte(g.Checkpoint)}
	for _, f := range g.Forks[:min(len(g.Forks), gossipForks)] {
		msgs = append(msgs, []byte(f.Old), []byte(f.New))
	}
	var errs []error
	via := "seen through kiosk " + device + ": "
	for _, msg := range msgs {
		c, err := ledger.Open(msg, w.v)
		if err != nil {
			errs = append(errs, fmt.Errorf("gossip of %s: %w", device, err))
			continue
		}
		w.mu.Lock()
		err = w.observe(ctx, msg, c, l, via, false)
		w.mu.Unlock()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// inconsistency is why two checkpoints cannot both be true.
type inconsistency struct {
	oldMsg, newMsg []byte
	proof          tlog.TreeProof
	reason         string
}

// consistent checks two signed checkpoints against each other: nil when
// they are consistent, an inconsistency, or an error when the proof could
// not be had.
func consistent(ctx context.Context, aMsg []byte, a ledger.Checkpoint, bMsg []byte, b ledger.Checkpoint, l uplink.LedgerClient) (*inconsistency, error) {
	if a.Size == b.Size {
		if a.Hash != b.Hash {
			return &inconsistency{oldMsg: aMsg, newMsg: bMsg, reason: "two roots for one tree size"}, nil
		}
		return nil, nil
	}
	oldMsg, old, newMsg, nw := aMsg, a, bMsg, b
	if b.Size < a.Size {
		oldMsg, old, newMsg, nw = bMsg, b, aMsg, a
	}
	if old.Size == 0 { // every tree extends the empty one
		return nil, nil
	}
	p, err := l.Consistency(ctx, old.Size, nw.Size)
	if errors.Is(err, uplink.ErrRefused) {
		return &inconsistency{oldMsg: oldMsg, newMsg: newMsg,
			reason: fmt.Sprintf("the central refuses to prove consistency %d→%d: %v", old.Size, nw.Size, err)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger consistency %d→%d not checked: %w", old.Size, nw.Size, err)
	}
	if err := tlog.CheckTree(p, nw.Size, nw.Hash, old.Size, old.Hash); err != nil {
		return &inconsistency{oldMsg: oldMsg, newMsg: newMsg, proof: p,
			reason: fmt.Sprintf("consistency proof %d→%d fails: %v", old.Size, nw.Size, err)}, nil
	}
	return nil, nil
}

// observe is Observe with w.mu held; via prefixes the reason of a fork.
// With latest set, c is what the central shows as its latest checkpoint:
// smaller than the witness's latest, it is checked even if seen before,
// since the central then claims a log that lost its tail (it must still
// prove the witness's latest consistent with it).
func (w *Witness) observe(ctx context.Context, msg []byte, c ledger.Checkpoint, l uplink.LedgerClient, via string, latest bool) error {
	key := sha256.Sum256(msg)
	if _, ok := w.forked[key]; ok {
		w.alert = true
		return fmt.Errorf("ledger: %w: checkpoint of %d already recorded on a fork", ledger.ErrFork, c.Size)
	}
	if _, ok := w.seen[key]; ok && !(latest && c.Size < w.cp.Size) {
		return nil
	}
	if w.latest == nil {
		if err := w.keep("latest", msg); err != nil {
			return err
		}
		w.latest, w.cp = msg, c
		w.markSeen(key)
		return nil
	}
	inc, err := consistent(ctx, w.latest, w.cp, msg, c, l)
	if err != nil {
		return err
	}
	if inc == nil {
		if c.Size > w.cp.Size {
			if err := w.keep("latest", msg); err != nil {
				return err
			}
			w.latest, w.cp = msg, c
		}
		w.markSeen(key)
		return nil
	}
	// The same fork as one caught before: no new evidence.
	if w.forkMsg != nil {
		if same, err := consistent(ctx, w.forkMsg, w.forkCp, msg, c, l); err == nil && same == nil {
			if c.Size > w.forkCp.Size {
				if err := w.keep("fork", msg); err != nil {
					return err
				}
				w.forkMsg, w.forkCp = msg, c
			}
			w.markForked(key)
			w.alert = true
			return fmt.Errorf("ledger: %w: checkpoint of %d on the fork already recorded", ledger.ErrFork, c.Size)
		}
	}
	if err := w.keep("fork", msg); err != nil {
		return err
	}
	w.forkMsg, w.forkCp = msg, c
	w.markForked(key)
	oldMsg, newMsg := inc.oldMsg, inc.newMsg
	if bytes.Compare(oldMsg, newMsg) > 0 && c.Size == w.cp.Size {
		oldMsg, newMsg = newMsg, oldMsg // one key per pair, whichever came first
	}
	return w.record(wire.Evidence{Kind: wire.KindFork, Reason: via + inc.reason,
		Old: string(oldMsg), New: string(newMsg), Proof: inc.proof},
		"fork-"+shortHash(32, oldMsg)+"-"+shortHash(32, newMsg))
}

// markSeen remembers a checkpoint as checked. w.mu is held.
func (w *Witness) markSeen(key [32]byte) {
	if len(w.seen) >= maxSeen {
		clear(w.seen)
	}
	w.seen[key] = struct{}{}
}

// markForked remembers a checkpoint as one of a fork recorded. w.mu is
// held.
func (w *Witness) markForked(key [32]byte) {
	if len(w.forked) >= maxSeen {
		clear(w.forked)
	}
	w.forked[key] = struct{}{}
}

// keep saves a checkpoint under key in BucketLedger. w.mu is held.
func (w *Witness) keep(key string, msg []byte) error {
	if err := w.ob.PutCache(BucketLedger, key, msg); err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	return nil
}

// shortHash returns the first n hex digits of the SHA-256 of the parts.
func shortHash(n int, parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:n]
}

// record keeps the evidence under key (once: a key already kept is not
// written or logged as new again), raises the alert and returns an error
// wrapping ledger.ErrFork. w.mu is held.
func (w *Witness) record(ev wire.Evidence, key string) error {
	w.alert = true
	ev.Device, ev.Detected = w.device, w.now().UTC()
	ferr := fmt.Errorf("ledger: %w: %s", ledger.ErrFork, ev.Reason)
	old, err := w.ob.GetCache(BucketEvidence, key)
	if err != nil {
		return errors.Join(ferr, err)
	}
	if old != nil {
		return fmt.Errorf("%w (evidence %s already kept)", ferr, key)
	}
	var perr error
	kept := false
	if w.evidence < MaxEvidence {
		data, err := json.Marshal(evidenceRecord{Evidence: ev})
		if err == nil {
			err = w.ob.PutCache(BucketEvidence, key, data)
		}
		if perr = err; perr == nil {
			w.evidence++
			kept = true
		}
	} else if !w.full {
		w.full = true
		w.log.Error("ledger fork evidence not kept: the evidence bucket is full", "max", MaxEvidence)
	}
	attrs := []any{"kind", ev.Kind, "reason", ev.Reason, "evidence", key, "evidence_kept", kept}
	if ev.Kind == wire.KindFork {
		old, _ := ledger.Open([]byte(ev.Old), w.v)
		nw, _ := ledger.Open([]byte(ev.New), w.v)
		attrs = append(attrs, "old_size", old.Size, "old_root", old.Hash.String(), "new_size", nw.Size, "new_root", nw.Hash.String())
	} else if ev.Receipt != nil {
		attrs = append(attrs, "index", ev.Receipt.Index)
	}
	w.log.Error("ledger fork detected", attrs...)
	return errors.Join(ferr, perr)
}

// Highest implements uplink.Witness.
func (w *Witness) Highest() (uint64, error) {
	var last uint64
	err := w.ob.ForEachCache(BucketReceipts, func(key string, _ []byte) error {
		n, err := parseReceiptKey(key)
		last = max(last, n)
		return err
	})
	return last, err
}

// evidences returns the evidence records by key.
func (w *Witness) evidences() (map[string]evidenceRecord, error) {
	out := map[string]evidenceRecord{}
	err := w.ob.ForEachCache(BucketEvidence, func(key string, v []byte) error {
		var ev evidenceRecord
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("evidence %s: %w", key, err)
		}
		out[key] = ev
		return nil
	})
	return out, err
}

// Unreported implements uplink.Witness.
func (w *Witness) Unreported() (map[string]wire.Evidence, error) {
	all, err := w.evidences()
	out := map[string]wire.Evidence{}
	for k, ev := range all {
		if !ev.Reported {
			out[k] = ev.Evidence
		}
	}
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

// Gossip implements uplink.Witness: the latest checkpoint and the newest
// fork evidences, nil before the first checkpoint.
func (w *Witness) Gossip() ([]byte, error) {
	latest := w.Latest()
	if latest == nil {
		return nil, nil
	}
	all, err := w.evidences()
	if err != nil {
		return nil, err
	}
	var forks []wire.Evidence
	for _, ev := range all {
		if ev.Kind == wire.KindFork || ev.Kind == "" {
			forks = append(forks, ev.Evidence)
		}
	}
	slices.SortFunc(forks, func(a, b wire.Evidence) int {
		if c := b.Detected.Compare(a.Detected); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.New), []byte(b.New))
	})
	g := wire.Gossip{Checkpoint: string(latest), Forks: forks[:min(len(forks), gossipForks)]}
	return json.Marshal(g)
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

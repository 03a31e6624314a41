package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
)

// Ledger subjects (docs/sync.md, "Ledger receipts and witnesses").
const (
	// ReceiptsPrefix starts the subject anshim.receipts.<device> on which
	// the central publishes (core NATS) the receipt of each batch of the
	// device that a new checkpoint covers: a JSON ledger.Receipt.
	ReceiptsPrefix = "anshim.receipts."
	// SubjectReceiptRequest is served by the central (request-reply): a
	// ReceiptRequest in, a LedgerReply with Receipt out.
	SubjectReceiptRequest = "anshim.ledger.receipt"
	// SubjectConsistencyRequest is served by the central (request-reply): a
	// ConsistencyRequest in, a LedgerReply with Proof out.
	SubjectConsistencyRequest = "anshim.ledger.consistency"
	// AlertsPrefix starts anshim.alerts.<device>, where a kiosk reports
	// the evidence of a ledger fork (request-reply: Evidence in,
	// LedgerReply out).
	AlertsPrefix = "anshim.alerts."
)

// ReceiptSubject returns the subject of a device's receipts.
func ReceiptSubject(device string) string { return ReceiptsPrefix + device }

// AlertSubject returns the subject a device reports ledger forks on.
func AlertSubject(device string) string { return AlertsPrefix + device }

// ReceiptRequest asks for the receipt of the batch that stored a
// device's record seq.
type ReceiptRequest struct {
	Device string `json:"device"`
	Seq    uint64 `json:"seq"`
}

// ConsistencyRequest asks for the proof that the tree of size Old is a
// prefix of the tree of size New (1 ≤ Old ≤ New).
type ConsistencyRequest struct {
	Old int64 `json:"old"`
	New int64 `json:"new"`
}

// LedgerReply is the central's answer to a ledger request or an alert.
type LedgerReply struct {
	// Error is set when the request failed; Retry then says it may
	// succeed later (the batch is not in a signed checkpoint yet).
	Error   string          `json:"error,omitempty"`
	Retry   bool            `json:"retry,omitempty"`
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
	Proof   *ledger.Proof   `json:"proof,omitempty"`
	OK      bool            `json:"ok,omitempty"` // an alert was received
}

// Evidence is what a kiosk keeps, and reports, of a ledger fork: two
// checkpoints signed by the ledger key that cannot both be true.
type Evidence struct {
	Device   string    `json:"device"`
	Detected time.Time `json:"detected"`
	Reason   string    `json:"reason"`
	// Old and New are the signed checkpoints (notes), Old the smaller (or
	// the one seen first at the same size).
	Old string `json:"old"`
	New string `json:"new"`
	// Proof is the consistency proof Old → New the central gave, which
	// does not verify (none for two roots of one size).
	Proof []tlog.Hash `json:"proof,omitempty"`
}

// ErrRetry: the central does not have the answer yet (the batch is not in a
// signed checkpoint); ask again later.
var ErrRetry = errors.New("not yet in a signed checkpoint")

// LedgerClient asks the central about its ledger.
type LedgerClient interface {
	// Consistency returns the proof that the tree of size old is a
	// prefix of the tree of size new.
	Consistency(ctx context.Context, old, new int64) (tlog.TreeProof, error)
	// Receipt returns the receipt of the batch that stored record seq.
	Receipt(ctx context.Context, seq uint64) (ledger.Receipt, error)
}

// Witness keeps the receipts of a kiosk's batches and checks that every
// checkpoint it sees is consistent with those seen before; *kiosk.Witness
// implements it.
type Witness interface {
	// Receipt verifies and keeps a receipt the central sent, checking its
	// checkpoint against the latest one kept (with consistency proofs
	// from l).
	Receipt(ctx context.Context, r ledger.Receipt, l LedgerClient) error
	// Highest returns the last sequence of the newest batch whose receipt
	// is kept (0: none).
	Highest() (uint64, error)
	// Unreported returns the fork evidence not yet reported to the
	// central, by key; Reported marks one reported.
	Unreported() (map[string]Evidence, error)
	Reported(key string) error
	// Alert tells whether a fork was detected.
	Alert() bool
}

// natsLedger is a LedgerClient over the device's NATS connection: replies
// come to its own inbox.
type natsLedger struct {
	nc     *nats.Conn
	device string
}

func (l natsLedger) request(ctx context.Context, subject string, req any) (LedgerReply, error) {
	var rep LedgerReply
	data, err := json.Marshal(req)
	if err != nil {
		return rep, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	msg, err := l.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", subject, err)
	}
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return rep, fmt.Errorf("%s: reply: %w", subject, err)
	}
	if rep.Error != "" {
		err := errors.New(rep.Error)
		if rep.Retry {
			err = fmt.Errorf("%w: %s", ErrRetry, rep.Error)
		}
		return rep, fmt.Errorf("%s: %w", subject, err)
	}
	return rep, nil
}

// Consistency implements LedgerClient.
func (l natsLedger) Consistency(ctx context.Context, old, new int64) (tlog.TreeProof, error) {
	rep, err := l.request(ctx, SubjectConsistencyRequest, ConsistencyRequest{Old: old, New: new})
	if err != nil {
		return nil, err
	}
	if rep.Proof == nil || rep.Proof.Old != old || rep.Proof.Size != new {
		return nil, fmt.Errorf("%s: no proof %d→%d in the reply", SubjectConsistencyRequest, old, new)
	}
	return rep.Proof.Proof, nil
}

// Receipt implements LedgerClient.
func (l natsLedger) Receipt(ctx context.Context, seq uint64) (ledger.Receipt, error) {
	rep, err := l.request(ctx, SubjectReceiptRequest, ReceiptRequest{Device: l.device, Seq: seq})
	if err != nil {
		return ledger.Receipt{}, err
	}
	if rep.Receipt == nil {
		return ledger.Receipt{}, fmt.Errorf("%s: no receipt in the reply", SubjectReceiptRequest)
	}
	return *rep.Receipt, nil
}

// receiptCatchUp is how long the newest acknowledged batch may go without
// its receipt before the uplink asks for it: two checkpoint intervals.
var receiptCatchUp = 2*ledger.Every + 5*time.Second

// witnessEvery is how often the uplink reports fork evidence and looks for
// missing receipts.
var witnessEvery = 5 * time.Second

// witness receives the device's receipts and hands them to the Witness,
// asks again for those it missed (the newest acknowledged batch without a
// receipt after receiptCatchUp), and reports fork evidence to the central
// until it confirms, until ctx is done.
func (u *Uplink) witness(ctx context.Context, nc *nats.Conn) {
	w := u.cfg.Witness
	l := natsLedger{nc: nc, device: u.cfg.Device}
	ch := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(ReceiptSubject(u.cfg.Device), ch)
	if err != nil {
		u.setErr("ledger receipts: subscribe", err)
		return
	}
	defer sub.Unsubscribe()
	t := time.NewTicker(witnessEvery)
	defer t.Stop()
	var (
		lastAcked uint64
		ackedAt   time.Duration // monotonic time lastAcked was first seen
		askedFor  uint64        // the seq asked for last without success
	)
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-ch:
			var r ledger.Receipt
			if err := json.Unmarshal(m.Data, &r); err != nil {
				u.setErr("ledger receipt malformed", err)
				continue
			}
			u.handleReceipt(ctx, r, l)
		case <-t.C:
			if !nc.IsConnected() {
				continue
			}
			u.reportAlerts(ctx, l)
			u.mu.Lock()
			acked := u.st.Acked
			u.mu.Unlock()
			now := u.cfg.Clock().Mono
			if acked != lastAcked {
				lastAcked, ackedAt = acked, now
			}
			h, err := w.Highest()
			if err != nil || acked == 0 || h >= acked || now-ackedAt < receiptCatchUp {
				continue
			}
			// Ask for the batches after the newest receipt kept, up to the
			// newest acknowledged one; a seq the central cannot place
			// (stored before the ledger, or an older outbox) is skipped.
			seq := h + 1
			if askedFor != 0 && seq <= askedFor {
				seq = acked
			}
			for i := 0; i < 32 && seq <= acked && ctx.Err() == nil; i++ {
				r, err := l.Receipt(ctx, seq)
				if err != nil {
					if !errors.Is(err, ErrRetry) {
						u.log.Debug("ledger receipt request failed", "seq", seq, "err", err)
						askedFor = seq
					}
					break
				}
				askedFor = 0
				if !u.handleReceipt(ctx, r, l) {
					break
				}
				b, ok := leafBatch(r)
				if !ok || b.Last < seq {
					break
				}
				seq = b.Last + 1
			}
		}
	}
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

// handleReceipt gives a receipt to the Witness; false when it failed.
func (u *Uplink) handleReceipt(ctx context.Context, r ledger.Receipt, l LedgerClient) bool {
	if err := u.cfg.Witness.Receipt(ctx, r, l); err != nil {
		u.setErr("ledger receipt not kept", err, "index", r.Index)
		return false
	}
	u.mu.Lock()
	u.st.Receipts++
	u.mu.Unlock()
	return true
}

// reportAlerts sends the fork evidence not yet reported to the central.
func (u *Uplink) reportAlerts(ctx context.Context, l natsLedger) {
	ev, err := u.cfg.Witness.Unreported()
	if err != nil {
		u.setErr("ledger alerts unreadable", err)
		return
	}
	for key, e := range ev {
		if _, err := l.request(ctx, AlertSubject(u.cfg.Device), e); err != nil {
			u.setErr("ledger fork: report to the central failed, will retry", err)
			return
		}
		if err := u.cfg.Witness.Reported(key); err != nil {
			u.setErr("ledger fork: cannot mark the evidence reported", err)
			return
		}
		u.log.Warn("ledger fork reported to the central", "evidence", key)
	}
}

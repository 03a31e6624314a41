package uplink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/sync/wire"
)

// DefaultCheckpointPoll is how often, by default, a kiosk fetches the
// central's latest checkpoint besides its receipts (plus up to a fifth of
// it of jitter) and rewrites its gossip value.
const DefaultCheckpointPoll = 3 * time.Minute

// SentBatch is what a witness remembers of a batch it sent, to check
// the receipt's leaf against: its sequence range, its chain head (the
// device-signed head's hash) and the SHA-256 of the message as sent.
type SentBatch struct {
	First, Last uint64
	Head        [32]byte
	Sealed      [32]byte
}

// ErrRefused: the central answered a ledger request with a definitive
// error (not "retry"): for a consistency proof between two checkpoints it
// signed, a sign of a rewritten log.
var ErrRefused = errors.New("refused by the central")

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
	// Checkpoint returns the latest signed checkpoint.
	Checkpoint(ctx context.Context) ([]byte, error)
}

// Witness keeps the receipts of a kiosk's batches and checks that every
// checkpoint it sees is consistent with those seen before; *kiosk.Witness
// implements it.
type Witness interface {
	// Sent remembers a batch sent (the uplink calls it once per send,
	// before the batch's PubAck is handled).
	Sent(b SentBatch) error
	// Receipt verifies and keeps a receipt the central sent, checking its
	// leaf against the batches sent and its checkpoint against the latest
	// one kept (with consistency proofs from l).
	Receipt(ctx context.Context, r ledger.Receipt, l LedgerClient) error
	// Observe checks a signed checkpoint against the latest one kept.
	Observe(ctx context.Context, checkpoint []byte, l LedgerClient) error
	// Peer checks another kiosk's wire.Gossip value against the checkpoints
	// kept; Gossip returns this kiosk's (nil: nothing to tell yet).
	Peer(ctx context.Context, device string, value []byte, l LedgerClient) error
	Gossip() ([]byte, error)
	// CheckpointPoll is how often to fetch the latest checkpoint (0:
	// DefaultCheckpointPoll).
	CheckpointPoll() time.Duration
	// Highest returns the last sequence of the newest batch whose receipt
	// is kept (0: none).
	Highest() (uint64, error)
	// Unreported returns the fork evidence not yet reported to the
	// central, by key; Reported marks one reported.
	Unreported() (map[string]wire.Evidence, error)
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

func (l natsLedger) request(ctx context.Context, subject string, req any) (wire.LedgerReply, error) {
	var rep wire.LedgerReply
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
		err := fmt.Errorf("%w: %s", ErrRefused, rep.Error)
		if rep.Retry {
			err = fmt.Errorf("%w: %s", ErrRetry, rep.Error)
		}
		return rep, fmt.Errorf("%s: %w", subject, err)
	}
	return rep, nil
}

// Consistency implements LedgerClient.
func (l natsLedger) Consistency(ctx context.Context, old, new int64) (tlog.TreeProof, error) {
	rep, err := l.request(ctx, wire.SubjectConsistencyRequest, wire.ConsistencyRequest{Old: old, New: new})
	if err != nil {
		return nil, err
	}
	if rep.Proof == nil || rep.Proof.Old != old || rep.Proof.Size != new {
		return nil, fmt.Errorf("%s: no proof %d→%d in the reply", wire.SubjectConsistencyRequest, old, new)
	}
	return rep.Proof.Proof, nil
}

// Checkpoint implements LedgerClient.
func (l natsLedger) Checkpoint(ctx context.Context) ([]byte, error) {
	rep, err := l.request(ctx, wire.SubjectCheckpointRequest, struct{}{})
	if err != nil {
		return nil, err
	}
	if rep.Checkpoint == "" {
		return nil, fmt.Errorf("%s: no checkpoint in the reply", wire.SubjectCheckpointRequest)
	}
	return []byte(rep.Checkpoint), nil
}

// Receipt implements LedgerClient.
func (l natsLedger) Receipt(ctx context.Context, seq uint64) (ledger.Receipt, error) {
	rep, err := l.request(ctx, wire.SubjectReceiptRequest, wire.ReceiptRequest{Device: l.device, Seq: seq})
	if err != nil {
		return ledger.Receipt{}, err
	}
	if rep.Receipt == nil {
		return ledger.Receipt{}, fmt.Errorf("%s: no receipt in the reply", wire.SubjectReceiptRequest)
	}
	return *rep.Receipt, nil
}

// receiptCatchUp is how long the newest acknowledged batch may go without
// its receipt before the uplink asks for it: two checkpoint intervals.
var receiptCatchUp = 2*ledger.Every + 5*time.Second

// witnessEvery is how often the uplink reports fork evidence and looks for
// missing receipts.
var witnessEvery = 5 * time.Second

// receiptRetryMax bounds the wait before asking again for a receipt the
// central did not give or the witness did not keep: failures double the
// wait from witnessEvery up to it, so a fork never turns into a request
// storm.
const receiptRetryMax = 10 * time.Minute

// checkpointPoll returns the witness's poll period with up to a fifth of
// jitter added, so that kiosks do not ask in lock-step.
func (u *Uplink) checkpointPoll() time.Duration {
	p := u.cfg.Witness.CheckpointPoll()
	if p <= 0 {
		p = DefaultCheckpointPoll
	}
	return p + time.Duration(mrand.Int64N(int64(p/5)+1))
}

// receiptAsker decides which receipts to ask for: those after the newest
// kept (or refused) up to the newest acknowledged batch, with a doubling
// wait after each failure.
type receiptAsker struct {
	lastAcked uint64
	ackedAt   time.Duration // monotonic time lastAcked was first seen
	skipTo    uint64        // batches up to here were answered with a receipt not kept
	fails     int
	next      time.Duration // monotonic time of the next attempt
}

// failed records a failure at now.
func (a *receiptAsker) failed(now time.Duration) {
	a.fails++
	d := witnessEvery
	for i := 1; i < a.fails && d < receiptRetryMax; i++ {
		d *= 2
	}
	a.next = now + min(d, receiptRetryMax)
}

// witness receives the device's receipts and hands them to the Witness,
// asks again for those it missed (the newest acknowledged batch without a
// receipt after receiptCatchUp), fetches the latest checkpoint every
// CheckpointPoll (so a log cut short is caught without any batch being
// sent), gossips with the other kiosks (gossip) and reports fork evidence
// to the central until it confirms, until ctx is done.
func (u *Uplink) witness(ctx context.Context, nc *nats.Conn) {
	l := natsLedger{nc: nc, device: u.cfg.Device}
	ch := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(wire.ReceiptSubject(u.cfg.Device), ch)
	if err != nil {
		u.setErr("ledger receipts: subscribe", err)
		return
	}
	defer sub.Unsubscribe()
	gctx, stop := context.WithCancel(ctx)
	defer stop()
	go u.gossip(gctx, nc, l)
	t := time.NewTicker(witnessEvery)
	defer t.Stop()
	poll := time.NewTimer(u.checkpointPoll())
	defer poll.Stop()
	var ask receiptAsker
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-ch:
			if wire.IsStreamDelivery(m.Reply) {
				continue // a rogue consumer's delivery, not the central's receipt
			}
			var r ledger.Receipt
			if len(m.Data) > wire.MaxEvidenceBytes || json.Unmarshal(m.Data, &r) != nil {
				u.setErr("ledger receipt malformed", fmt.Errorf("%d bytes", len(m.Data)))
				continue
			}
			u.handleReceipt(ctx, r, l)
		case <-poll.C:
			poll.Reset(u.checkpointPoll())
			if nc.IsConnected() {
				u.pollCheckpoint(ctx, l)
			}
		case <-t.C:
			if !nc.IsConnected() {
				continue
			}
			u.reportAlerts(ctx, l)
			u.askReceipts(ctx, l, &ask)
		}
	}
}

// pollCheckpoint fetches the latest checkpoint and has the witness check
// it.
func (u *Uplink) pollCheckpoint(ctx context.Context, l LedgerClient) {
	msg, err := l.Checkpoint(ctx)
	if err != nil {
		u.log.Debug("ledger checkpoint request failed", "err", err)
		return
	}
	if err := u.cfg.Witness.Observe(ctx, msg, l); err != nil {
		u.setErr("ledger checkpoint not consistent with the latest kept", err)
	}
}

// askReceipts asks for the receipts missing after the newest kept one, up
// to the newest acknowledged batch.
func (u *Uplink) askReceipts(ctx context.Context, l LedgerClient, a *receiptAsker) {
	u.mu.Lock()
	acked := u.st.Acked
	u.mu.Unlock()
	now := u.cfg.Clock().Mono
	if acked != a.lastAcked {
		a.lastAcked, a.ackedAt = acked, now
	}
	h, err := u.cfg.Witness.Highest()
	if err != nil {
		u.setErr("ledger receipts unreadable", err)
		return
	}
	h = max(h, a.skipTo)
	if acked == 0 || h >= acked || now-a.ackedAt < receiptCatchUp || now < a.next {
		return
	}
	seq := h + 1
	for i := 0; i < 32 && seq <= acked && ctx.Err() == nil; i++ {
		r, err := l.Receipt(ctx, seq)
		if err != nil {
			u.log.Debug("ledger receipt request failed", "seq", seq, "err", err)
			a.failed(now)
			return
		}
		b, ok := leafBatch(r)
		if !u.handleReceipt(ctx, r, l) {
			// Not kept (a fork, a batch not sent, a proof not had): asking
			// for the same one again would give the same answer.
			if ok && b.Last >= seq {
				a.skipTo = max(a.skipTo, b.Last)
			}
			a.failed(now)
			return
		}
		a.fails, a.next = 0, 0
		if !ok || b.Last < seq {
			return
		}
		seq = b.Last + 1
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

// reportAlerts sends the fork evidence not yet reported to the central. A
// report the central refuses for good (ErrRefused) is marked reported
// too: it stays in the kiosk's evidence and its gossip.
func (u *Uplink) reportAlerts(ctx context.Context, l natsLedger) {
	ev, err := u.cfg.Witness.Unreported()
	if err != nil {
		u.setErr("ledger alerts unreadable", err)
		return
	}
	for key, e := range ev {
		if _, err := l.request(ctx, wire.AlertSubject(u.cfg.Device), e); err != nil {
			if !errors.Is(err, ErrRefused) {
				u.setErr("ledger fork: report to the central failed, will retry", err)
				return
			}
			u.setErr("ledger fork: the central refuses the evidence (kept and gossiped)", err, "evidence", key)
		} else {
			u.log.Warn("ledger fork reported to the central", "evidence", key)
		}
		if err := u.cfg.Witness.Reported(key); err != nil {
			u.setErr("ledger fork: cannot mark the evidence reported", err)
			return
		}
	}
}

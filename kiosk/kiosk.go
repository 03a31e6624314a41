// Package kiosk is the venue appliance: it verifies visitors' passes offline,
// seals and chains each check-in into a bbolt outbox before giving any
// feedback, and tells the visitor what happened.
//
// # Durability
//
// A scan is answered "accepted" only after its record is committed to the
// outbox file (fsync). The debounce state that makes a second scan of the same
// pass "already checked in" commits in the same transaction, so a crash never
// leaves a record without its debounce entry or the other way round.
//
// # Privacy
//
// Nothing personal is kept readable on the device: the pseudonym and card
// serial are sealed to the province's key, and debouncing uses a keyed hash
// whose key never leaves the device. Logs carry results, reasons and
// sequence numbers only.
package kiosk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/pass"
)

// Outcome is what became of one scan.
type Outcome struct {
	Result feedback.Result
	Reason string // reason code for rejections and out-of-order
	Seq    uint64 // sequence of the record (accepted scans)
	Kind   checkin.Kind
}

// Kiosk handles scans. It is safe for concurrent use by several scanners.
type Kiosk struct {
	outbox    *Outbox
	verifier  atomic.Pointer[pass.Verifier]
	sealer    sealer // swapped when a new sealing key arrives
	clock     Clock
	indicator feedback.Indicator
	log       *slog.Logger
	debKey    []byte
	window    atomic.Int64 // debounce window (a time.Duration); 0 disables
	exitMode  bool
	committed chan struct{} // a new record was committed (uplink wake-up)
	sealMu    sync.Mutex    // serialises SetSealTo and Close
	closed    bool

	macs       sync.Pool
	outOfOrder atomic.Bool
}

// Options wires a Kiosk. Outbox, Verifier and SealTo are required.
type Options struct {
	Outbox   *Outbox
	Verifier *pass.Verifier
	// SealTo is the province's public record-sealing key.
	SealTo *[32]byte
	// DebounceKey keys the hash that identifies a pass for debouncing.
	DebounceKey []byte
	// Debounce is the window in which the same pass is "already checked
	// in" (default 10 minutes; negative disables).
	Debounce time.Duration
	// ExitMode makes every scan an exit scan (a kiosk at the way out).
	ExitMode  bool
	Clock     Clock              // default NewSystemClock()
	Indicator feedback.Indicator // default none
	Logger    *slog.Logger       // default slog.Default()
}

// New returns a Kiosk. Close it to stop its background key precomputation.
func New(o Options) (*Kiosk, error) {
	if o.Outbox == nil || o.Verifier == nil || o.SealTo == nil {
		return nil, errors.New("kiosk: outbox, verifier and sealing key are required")
	}
	if len(o.DebounceKey) < 16 {
		return nil, errors.New("kiosk: debounce key too short")
	}
	k := &Kiosk{
		outbox: o.Outbox, clock: o.Clock, indicator: o.Indicator, log: o.Logger,
		debKey: o.DebounceKey, exitMode: o.ExitMode, committed: make(chan struct{}, 1),
	}
	if k.clock == nil {
		k.clock = NewSystemClock()
	}
	if k.log == nil {
		k.log = slog.Default()
	}
	k.SetDebounce(o.Debounce)
	k.sealer.p.Store(checkin.NewSealer(o.SealTo, sealAhead, nil))
	k.verifier.Store(o.Verifier)
	k.macs.New = func() any { return hmac.New(sha256.New, k.debKey) }
	return k, nil
}

// sealAhead is how many ephemeral sealing keys are kept ready.
const sealAhead = 256

// Close releases the Kiosk's background work. It does not close the outbox.
func (k *Kiosk) Close() {
	k.sealMu.Lock()
	defer k.sealMu.Unlock()
	k.closed = true
	k.sealer.p.Load().Close()
}

// SetVerifier replaces the pass verifier (new pass keys arrived by
// down-sync). Scans in progress finish with the old one.
func (k *Kiosk) SetVerifier(v *pass.Verifier) { k.verifier.Store(v) }

// SetSealTo replaces the province's record-sealing key (a new key arrived
// by down-sync): records committed from now on are sealed to it. A scan
// already sealing finishes with the old key, which the province keeps
// until every record sealed to it has arrived. A nil key is ignored.
func (k *Kiosk) SetSealTo(pub *[32]byte) {
	if pub == nil {
		return
	}
	key := *pub
	k.sealMu.Lock()
	defer k.sealMu.Unlock()
	if k.closed {
		return
	}
	// Closing the old sealer only stops its precomputation: a Seal in
	// progress on it still completes, to the old key.
	k.sealer.p.Swap(checkin.NewSealer(&key, sealAhead, nil)).Close()
}

// SetDebounce sets the window in which the same pass is "already checked
// in": zero means the default 10 minutes, negative disables debouncing.
func (k *Kiosk) SetDebounce(d time.Duration) {
	switch {
	case d == 0:
		d = 10 * time.Minute
	case d < 0:
		d = 0
	}
	k.window.Store(int64(d))
}

// sealer is the current checkin.Sealer, replaced by SetSealTo.
type sealer struct {
	p atomic.Pointer[checkin.Sealer]
}

// Seal seals with the current sealer.
func (s *sealer) Seal(p checkin.Personal) ([]byte, error) { return s.p.Load().Seal(p) }

// Committed returns a channel that receives a value after a new record was
// committed (values coalesce: one may stand for several records). The
// uplink waits on it to send promptly.
func (k *Kiosk) Committed() <-chan struct{} { return k.committed }

// Outbox returns the kiosk's outbox.
func (k *Kiosk) Outbox() *Outbox { return k.outbox }

// OutOfOrder reports whether the last commit failed (full disk, broken
// storage): the kiosk shows red until a commit succeeds again.
func (k *Kiosk) OutOfOrder() bool { return k.outOfOrder.Load() }

// Reason codes of the kiosk itself (pass rejections use pass.Reason codes).
const (
	ReasonDuplicate  = "already-checked-in"
	ReasonDiskFull   = "disk-full"
	ReasonStorage    = "storage-error"
	ReasonShutdown   = "shutting-down"
	ReasonNotAllowed = "not-a-pass"
)

// HandleScan verifies a scanned code, records an accepted check-in durably,
// logs the outcome (never the code itself) and shows it to the visitor.
func (k *Kiosk) HandleScan(ctx context.Context, s scanner.Scan) Outcome {
	out := k.handle(ctx, s)
	attrs := []slog.Attr{slog.String("result", resultName(out.Result)), slog.String("kind", out.Kind.String())}
	if out.Seq != 0 {
		attrs = append(attrs, slog.Uint64("seq", out.Seq))
	}
	if out.Reason != "" {
		attrs = append(attrs, slog.String("reason", out.Reason))
	}
	if s.Source != "" {
		attrs = append(attrs, slog.String("source", s.Source))
	}
	k.log.LogAttrs(ctx, slog.LevelInfo, "scan", attrs...)
	if k.indicator != nil {
		ev := feedback.Event{Result: out.Result, Reason: out.Reason, Exit: out.Kind == checkin.Exit}
		if err := k.indicator.Indicate(ctx, ev); err != nil {
			k.log.Warn("feedback failed", "err", err)
		}
	}
	return out
}

func (k *Kiosk) handle(ctx context.Context, s scanner.Scan) Outcome {
	kind := checkin.Entry
	if s.Exit || k.exitMode {
		kind = checkin.Exit
	}
	now := k.clock.Now()
	p, err := k.verify(s.Text, now)
	if err != nil {
		reason := pass.Reason(err)
		if reason == "" {
			reason = pass.ReasonMalformed
		}
		return Outcome{Result: feedback.Rejected, Reason: reason, Kind: kind}
	}
	sealed, err := k.sealer.Seal(personalOf(&p))
	if err != nil {
		k.log.Error("seal failed", "err", err)
		return Outcome{Result: feedback.OutOfOrder, Reason: ReasonStorage, Kind: kind}
	}
	res, err := k.outbox.Append(ctx, Entry{At: now, Kind: kind, Sealed: sealed, Tag: k.tag(&p), Window: time.Duration(k.window.Load())})
	if err != nil {
		reason := ReasonStorage
		switch {
		case errors.Is(err, ErrDiskFull):
			reason = ReasonDiskFull
		case errors.Is(err, context.Canceled):
			return Outcome{Result: feedback.Rejected, Reason: ReasonShutdown, Kind: kind}
		}
		if !k.outOfOrder.Swap(true) {
			k.log.Error("outbox commit failed: out of order until storage recovers", "err", err)
		}
		return Outcome{Result: feedback.OutOfOrder, Reason: reason, Kind: kind}
	}
	if k.outOfOrder.Swap(false) {
		k.log.Info("outbox commits again: back in order")
	}
	if res.Duplicate {
		return Outcome{Result: feedback.Duplicate, Reason: ReasonDuplicate, Kind: kind}
	}
	select {
	case k.committed <- struct{}{}:
	default: // a wake-up is already pending
	}
	return Outcome{Result: feedback.Accepted, Seq: res.Seq, Kind: kind}
}

// verify checks the pass. When the kiosk's clock cannot be trusted (booted
// without NTP or RTC), validity dates are checked against the pass's own
// issue time instead: signature and revocation still apply, and the central
// re-checks dates with the corrected time.
func (k *Kiosk) verify(text string, now Stamp) (pass.Pass, error) {
	v := k.verifier.Load()
	if now.Trusted() {
		return v.Verify(text, now.Wall)
	}
	p, _, _, err := pass.Parse(text)
	if err != nil {
		return pass.Pass{}, err
	}
	return v.Verify(text, p.Issued)
}

// tag is the debounce identity of a pass: HMAC(device key, pseudonym ||
// kind || serial), truncated. Without the device's key it links nothing.
func (k *Kiosk) tag(p *pass.Pass) [16]byte {
	m := k.macs.Get().(interface {
		Reset()
		Write([]byte) (int, error)
		Sum([]byte) []byte
	})
	defer k.macs.Put(m)
	m.Reset()
	var b [16 + 1 + 4]byte
	copy(b[:], p.Pseudonym[:])
	b[16] = byte(p.Kind)
	binary.BigEndian.PutUint32(b[17:], p.Serial)
	m.Write(b[:])
	var sum [32]byte
	var out [16]byte
	copy(out[:], m.Sum(sum[:0]))
	return out
}

func resultName(r feedback.Result) string {
	switch r {
	case feedback.Accepted:
		return "accepted"
	case feedback.Duplicate:
		return "duplicate"
	case feedback.Rejected:
		return "rejected"
	case feedback.OutOfOrder:
		return "rejected" // the reason says why: disk-full, storage-error
	}
	return "unknown"
}

func personalOf(p *pass.Pass) checkin.Personal {
	return checkin.Personal{Pseudonym: p.Pseudonym, PassKind: uint8(p.Kind), Serial: p.Serial}
}

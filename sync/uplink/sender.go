package uplink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/sync/wire"
)

// headerRoom is kept free of the server's max payload for the headers.
const headerRoom = 1024

// flight is a batch published and not yet acknowledged.
type flight struct {
	span
	id  string
	ok  <-chan *jetstream.PubAck
	err <-chan error
}

// span is a batch's place in the outbox: its sequence range and the size of
// its records, enough to read the very same batch again.
type span struct {
	first, last uint64
	bytes       int
}

// sender drains the outbox: one goroutine, oldest records first.
type sender struct {
	u  *Uplink
	nc *nats.Conn
	js jetstream.JetStream
	ob Outbox

	acked  uint64    // last sequence acknowledged (or the outbox's base)
	next   uint64    // last sequence read into a flight
	q      []*flight // in flight, oldest first
	resend []span    // abandoned flights, to send again with the same boundaries
	window int       // current window: Window, halved after ack timeouts
	fails  int       // consecutive failures, for the backoff

	cu catchUp
}

// catchUp follows the sending of a backlog for the progress log lines.
type catchUp struct {
	active   bool
	start    time.Duration // monotonic
	pending  int           // backlog at the start
	sent     int
	lastLog  time.Duration
	nextMark int
}

func newSender(u *Uplink, nc *nats.Conn) (*sender, error) {
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncTimeout(u.cfg.AckTimeout),
		jetstream.WithPublishAsyncMaxPending(2*u.cfg.Window))
	if err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	return &sender{u: u, nc: nc, js: js, ob: u.cfg.Outbox, window: u.cfg.Window}, nil
}

func (s *sender) run(ctx context.Context) {
	if base, _, err := s.ob.Base(); err != nil {
		s.u.setErr("sync: read outbox", err)
	} else {
		s.acked, s.next = base, base
	}
	poll := time.NewTicker(s.u.cfg.Poll)
	defer poll.Stop()
	for {
		if ctx.Err() != nil {
			s.shutdown()
			return
		}
		if !s.nc.IsConnected() {
			s.abandon()
			s.u.waitConnected(ctx, s.nc)
			continue
		}
		if err := s.fill(); err != nil {
			s.fail(ctx, err)
			continue
		}
		if len(s.q) == 0 {
			s.idle()
			select {
			case <-ctx.Done():
			case <-s.u.cfg.Wake:
			case <-poll.C:
			}
			continue
		}
		head := s.q[0]
		select {
		case <-ctx.Done():
		case pa := <-head.ok:
			s.acknowledged(ctx, pa)
		case err := <-head.err:
			s.fail(ctx, err)
		}
	}
}

// fill publishes batches until the window is full or the outbox has no
// more records.
func (s *sender) fill() error {
	for len(s.q) < s.window {
		b, sp, err := s.read()
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		if len(s.q) == 0 && !s.cu.active {
			s.maybeCatchUp()
		}
		f, err := s.publish(b, sp)
		if err != nil {
			return err
		}
		s.q = append(s.q, f)
		s.next = f.last
		s.setInFlight()
	}
	return nil
}

// read returns the next batch after s.next: an abandoned one again with the
// same boundaries, or a new one as large as the limit allows.
func (s *sender) read() (*wire.Batch, span, error) {
	if len(s.resend) > 0 {
		sp := s.resend[0]
		if sp.first == s.next+1 {
			// Exactly sp.bytes of records end at sp.last, whose signed head
			// is kept until acknowledged: the same batch, the same MsgID.
			b, err := s.ob.ReadWireBatch(s.next, sp.bytes)
			if err != nil {
				return nil, span{}, fmt.Errorf("read outbox: %w", err)
			}
			if b != nil && b.FirstSeq() == sp.first && b.Head.Seq == sp.last {
				s.resend = s.resend[1:]
				return b, sp, nil
			}
		}
		// The records moved (destroyed past retention): new boundaries.
		s.resend = nil
	}
	limit, hard := s.limits()
	fixed := (&wire.Batch{Device: s.u.cfg.Device, Venue: s.u.cfg.Venue}).Size()
	budget := (limit - fixed) * 98 / 100 // records carry 2 length bytes each
	var smallest *wire.Batch
	for range 8 {
		b, err := s.ob.ReadWireBatch(s.next, max(budget, 1))
		if err != nil {
			return nil, span{}, fmt.Errorf("read outbox: %w", err)
		}
		if b == nil {
			return nil, span{}, nil
		}
		if fits(b, limit) {
			return b, spanOf(b), nil
		}
		if smallest != nil && b.Head.Seq >= smallest.Head.Seq {
			break // one commit: it cannot be cut
		}
		smallest = b
		rb, size, n := recordBytes(b), b.Size(), len(b.Records)
		budget = rb - (size - limit)
		if n > wire.MaxRecords {
			budget = min(budget, rb/n*wire.MaxRecords*9/10)
		}
	}
	// A single commit larger than MaxBatchBytes goes alone if the server
	// takes it.
	if smallest != nil && fits(smallest, hard) {
		return smallest, spanOf(smallest), nil
	}
	return nil, span{}, fmt.Errorf("the commit after sequence %d does not fit in a message of %d bytes (raise the server's max_payload)", s.next, hard)
}

// fits reports whether b can be sent as a message of at most limit bytes.
func fits(b *wire.Batch, limit int) bool {
	return b.Size() <= limit && len(b.Records) <= wire.MaxRecords
}

func spanOf(b *wire.Batch) span {
	return span{first: b.FirstSeq(), last: b.Head.Seq, bytes: recordBytes(b)}
}

func recordBytes(b *wire.Batch) int {
	n := 0
	for _, r := range b.Records {
		n += len(r)
	}
	return n
}

// limits returns the largest encoded batch to aim for (MaxBatchBytes,
// within the server's max payload) and the largest the server takes.
func (s *sender) limits() (limit, hard int) {
	hard = wire.MaxRecords * 0xffff // no server limit known yet
	if mp := int(s.nc.MaxPayload()); mp > headerRoom {
		hard = mp - headerRoom
	}
	return min(s.u.cfg.MaxBatchBytes, hard), hard
}

func (s *sender) publish(b *wire.Batch, sp span) (*flight, error) {
	b.Sent = s.u.cfg.Clock()
	data, err := b.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode batch %s: %w", b.MsgID(), err)
	}
	id := b.MsgID()
	// No client-side retry on "no responders": a retry timer would send
	// this batch after the ones behind it, and the stream must receive a
	// device's batches in order.
	paf, err := s.js.PublishMsgAsync(&nats.Msg{Subject: s.u.cfg.Subject, Data: data},
		jetstream.WithMsgID(id), jetstream.WithExpectStream(s.u.cfg.Stream), jetstream.WithRetryAttempts(0))
	if err != nil {
		return nil, fmt.Errorf("publish batch %s: %w", id, err)
	}
	return &flight{span: sp, id: id, ok: paf.Ok(), err: paf.Err()}, nil
}

// acknowledged handles the head's PubAck and those of the flights right
// behind it that already arrived, then removes their records from the
// outbox in one commit.
func (s *sender) acknowledged(ctx context.Context, pa *jetstream.PubAck) {
	if err := s.checkAck(s.q[0], pa); err != nil {
		s.fail(ctx, err)
		return
	}
	var bad error
	done, records := 1, int(s.q[0].last-s.q[0].first+1)
collect:
	for done < len(s.q) {
		select {
		case pa := <-s.q[done].ok:
			if bad = s.checkAck(s.q[done], pa); bad != nil {
				break collect
			}
			records += int(s.q[done].last - s.q[done].first + 1)
			done++
		default:
			break collect
		}
	}
	last := s.q[done-1].last
	s.q = s.q[done:]
	s.commitAck(last, records)
	s.window = min(s.window+done, s.u.cfg.Window)
	s.fails = 0
	if bad != nil {
		s.fail(ctx, bad) // resends the bad one and what follows, in order
	}
}

// checkAck accepts a PubAck from the expected stream, duplicates included
// (the stream already holds the batch).
func (s *sender) checkAck(f *flight, pa *jetstream.PubAck) error {
	if pa == nil || pa.Stream != s.u.cfg.Stream {
		stream := ""
		if pa != nil {
			stream = pa.Stream
		}
		return fmt.Errorf("batch %s acknowledged by stream %q, not %s: check the central's stream configuration", f.id, stream, s.u.cfg.Stream)
	}
	if pa.Duplicate {
		s.u.mu.Lock()
		s.u.st.Resent++
		s.u.mu.Unlock()
	}
	return nil
}

// commitAck removes acknowledged records up to last from the outbox.
func (s *sender) commitAck(last uint64, records int) {
	if _, err := s.ob.Ack(last); err != nil {
		// The records stay and go again after a restart; the central
		// ignores what it already has.
		s.u.setErr("sync: remove acknowledged records", err, "seq", last)
	}
	s.acked = max(s.acked, last)
	now := s.u.cfg.Clock()
	s.u.mu.Lock()
	s.u.st.Acked, s.u.st.LastAck, s.u.st.InFlight = s.acked, now.Wall, len(s.q)
	s.u.mu.Unlock()
	s.progress(records, now.Mono)
}

// fail abandons everything in flight after an error: it is read again
// from the outbox and resent, after a jittered backoff, once the client has
// settled the publishes it still tracks.
func (s *sender) fail(ctx context.Context, err error) {
	s.fails++
	inFlight := len(s.q)
	s.abandon()
	disconnected := errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrReconnectBufExceeded) ||
		errors.Is(err, nats.ErrConnectionClosed) || !s.nc.IsConnected()
	// Start again with one batch in flight: while the central recovers, a
	// batch must not be stored before the one ahead of it that failed.
	// The window grows back by one per acknowledged batch.
	s.window = 1
	s.u.setErr("sync: batches not acknowledged, kept in the outbox to resend", sendHint(err, s.u.cfg), "in_flight", inFlight, "window", s.window)
	if disconnected {
		return // the run loop waits for the (jittered) reconnect
	}
	if !sleep(ctx, s.u.backoff(s.fails)) {
		return
	}
	t := time.NewTimer(s.u.cfg.AckTimeout)
	defer t.Stop()
	select {
	case <-s.js.PublishAsyncComplete():
	case <-t.C:
	case <-ctx.Done():
	}
}

// abandon gives up on the flights: their records are read again.
func (s *sender) abandon() {
	if len(s.q) > 0 {
		sp := make([]span, 0, len(s.q)+len(s.resend))
		for _, f := range s.q {
			sp = append(sp, f.span)
		}
		s.resend = append(sp, s.resend...)
		s.q = nil
	}
	s.next = s.acked
	s.setInFlight()
}

func (s *sender) setInFlight() {
	s.u.mu.Lock()
	s.u.st.InFlight = len(s.q)
	s.u.mu.Unlock()
}

// shutdown waits up to ShutdownGrace for the PubAcks in flight and removes
// what they acknowledge; the rest stays in the outbox.
func (s *sender) shutdown() {
	if len(s.q) == 0 || s.u.cfg.ShutdownGrace < 0 {
		return
	}
	t := time.NewTimer(s.u.cfg.ShutdownGrace)
	defer t.Stop()
	var last uint64
	records := 0
wait:
	for len(s.q) > 0 {
		select {
		case pa := <-s.q[0].ok:
			if s.checkAck(s.q[0], pa) != nil {
				break wait
			}
			last, records = s.q[0].last, records+int(s.q[0].last-s.q[0].first+1)
			s.q = s.q[1:]
		case <-s.q[0].err:
			break wait
		case <-t.C:
			break wait
		}
	}
	if last > 0 {
		s.commitAck(last, records)
	}
	s.q = nil
	s.setInFlight()
}

// maybeCatchUp starts a catch-up when the sender leaves idle with a backlog.
func (s *sender) maybeCatchUp() {
	n, err := s.ob.Pending()
	if err != nil || n < s.u.cfg.CatchUp {
		return
	}
	now := s.u.cfg.Clock().Mono
	s.cu = catchUp{active: true, start: now, pending: n, lastLog: now, nextMark: max(n/10, 1)}
	s.u.mu.Lock()
	s.u.st.CatchingUp = true
	s.u.mu.Unlock()
	s.u.log.Info("sync catch-up", "pending", n, "server", s.nc.ConnectedUrlRedacted())
}

// progress logs a catch-up's progress every ProgressEvery or tenth.
func (s *sender) progress(records int, now time.Duration) {
	if !s.cu.active {
		return
	}
	s.cu.sent += records
	if now-s.cu.lastLog < s.u.cfg.ProgressEvery && s.cu.sent < s.cu.nextMark {
		return
	}
	for s.cu.nextMark <= s.cu.sent {
		s.cu.nextMark += max(s.cu.pending/10, 1)
	}
	s.cu.lastLog = now
	pending, _ := s.ob.Pending()
	s.u.log.Info("sync progress", "sent", s.cu.sent, "pending", pending,
		"rate", rate(s.cu.sent, now-s.cu.start), "elapsed", (now - s.cu.start).Round(time.Millisecond).String())
}

// idle ends a catch-up when nothing is left to send.
func (s *sender) idle() {
	if !s.cu.active {
		return
	}
	d := s.u.cfg.Clock().Mono - s.cu.start
	s.u.log.Info("sync caught up", "sent", s.cu.sent, "elapsed", d.Round(time.Millisecond).String(), "rate", rate(s.cu.sent, d))
	s.cu = catchUp{}
	s.u.mu.Lock()
	s.u.st.CatchingUp = false
	s.u.mu.Unlock()
}

// rate is records per second, rounded.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(int(float64(n)/d.Seconds()*10+0.5)) / 10
}

// sendHint says what a failed send means for the operator.
func sendHint(err error, cfg Config) error {
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w (no stream listens on %s: is the central's stream %s up?)", err, cfg.Subject, cfg.Stream)
	case errors.Is(err, jetstream.ErrAsyncPublishTimeout):
		return fmt.Errorf("%w (no PubAck within %s: slow link or busy central; resending one batch at a time)", err, cfg.AckTimeout)
	}
	return withHint(err)
}

package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/sync/wire"
)

// The stream of kiosk batches (docs/sync.md): wire.Stream on
// wire.CheckInsWildcard.
const (
	// MaxMsgSize is the stream's bound on one message.
	MaxMsgSize = 1 << 20
	// DuplicateWindow is the stream's de-duplication window on
	// Nats-Msg-Id. The store's idempotence does the rest.
	DuplicateWindow = 2 * time.Minute
	// DefaultAckWait is the consumer's default ack wait: how long the
	// batches fetched by a central that crashed stall before JetStream
	// hands them to the next one. Run reports progress on slow work, so
	// it need not cover the longest handling.
	DefaultAckWait = 5 * time.Second
	// DefaultPinnedTTL is the consumer's default pinned TTL: how soon
	// after the ingesting central died (sent no pull request) another
	// central takes over — the ack wait, after which the dead central's
	// batches come back anyway. Run sends a pull request at least every
	// fetchWait while it is not busy with a fetched batch.
	DefaultPinnedTTL = DefaultAckWait
	// IngestGroup is the priority group of the central's consumer: the
	// server pins it to one central at a time (single active consumer
	// with takeover), so a device's batches go to one central.
	IngestGroup = "ingest"
)

// StreamConfig is what the central may tune of the batch stream. The zero
// value is the single-server default.
type StreamConfig struct {
	// Replicas of the stream and its consumer: 1 (default) on one server,
	// 3 on a production cluster.
	Replicas int
	// MaxAge drops messages never consumed after this long; default 28
	// days, the retention period of check-ins.
	MaxAge time.Duration
	// MaxBytes bounds the stream; at the bound new publishes are refused
	// (the kiosks keep their records and retry), never old ones dropped.
	// Default unlimited.
	MaxBytes int64
}

func (c StreamConfig) jetstream() jetstream.StreamConfig {
	replicas := max(c.Replicas, 1)
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = 28 * 24 * time.Hour
	}
	maxBytes := c.MaxBytes
	if maxBytes <= 0 {
		maxBytes = -1
	}
	return jetstream.StreamConfig{
		Name:        wire.Stream,
		Description: "Anshim kiosk check-in batches (sync/wire), consumed by the central",
		Subjects:    []string{wire.CheckInsWildcard},
		Storage:     jetstream.FileStorage,
		// A work queue: a batch leaves the stream once the central has
		// stored it and acked, so sealed check-ins do not linger here.
		Retention:  jetstream.WorkQueuePolicy,
		Discard:    jetstream.DiscardNew,
		MaxAge:     maxAge,
		MaxBytes:   maxBytes,
		MaxMsgSize: MaxMsgSize,
		Duplicates: DuplicateWindow,
		Replicas:   replicas,
	}
}

// EnsureStream creates the stream ANSHIM_CHECKINS, or updates it to cfg.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	if _, err := js.CreateOrUpdateStream(ctx, cfg.jetstream()); err != nil {
		return fmt.Errorf("ensure stream %s: %w", wire.Stream, err)
	}
	return nil
}

// consumerConfig is the durable pull consumer of the central.
func (cfg *Config) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "Anshim central ingest",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: cfg.MaxAckPending,
		FilterSubject: wire.CheckInsWildcard,
		Replicas:      max(cfg.Stream.Replicas, 1),
		// One central at a time receives batches: the pinned one.
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PinnedTTL:      cfg.PinnedTTL,
		PriorityGroups: []string{IngestGroup},
	}
}

// fetchWait bounds one pull request; takeWait bounds the request that
// takes the messages waiting (a pinned consumer takes no "no wait"
// request: it needs the priority group).
const (
	fetchWait = 2 * time.Second
	takeWait  = 100 * time.Millisecond
)

// MinRetryDelay is the shortest Config.RetryDelay: longer than a pull
// request for the messages waiting (takeWait) with a margin, so that a
// batch NAKed after a store error comes back only after every request
// under way at the time has ended.
const MinRetryDelay = 3 * takeWait

// Run ensures the stream and the durable consumer exist, then consumes
// batches until ctx is done, when it returns nil. See the package doc for
// acks, retries and ordering.
func Run(ctx context.Context, cfg Config) error {
	in, err := New(cfg)
	if err != nil {
		return err
	}
	return in.Run(ctx)
}

// Run is like the package's Run, with the Ingester's config.
func (in *Ingester) Run(ctx context.Context) error {
	cfg := &in.cfg
	if cfg.JS == nil {
		return errors.New("ingest: no JetStream")
	}
	if err := EnsureStream(ctx, cfg.JS, cfg.Stream); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: not a failure
		}
		return err
	}
	cons, err := cfg.JS.CreateOrUpdateConsumer(ctx, wire.Stream, cfg.consumerConfig())
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("ensure consumer %s: %w", cfg.Durable, err)
	}
	cfg.Log.Info("ingest: consuming", "stream", wire.Stream, "consumer", cfg.Durable)
	p := newPipeline(in)
	defer p.stop()
	for ctx.Err() == nil {
		failed, err := p.fetchOnce(ctx, cons)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			cfg.Log.Warn("ingest: fetch failed", "err", err)
			failed = true
		}
		if failed {
			// Let what was fetched finish (a device's messages behind the
			// failed one are NAKed with its delay), then wait out the NAK
			// delay with a margin: once the NAKed message is due again the
			// server hands it out before newer ones, so the device's
			// batches stay in order. Waiting exactly the delay races it
			// and can let a later batch through first (a false
			// sequence-gap alert).
			p.drain()
			sleep(ctx, cfg.RetryDelay+cfg.RetryDelay/4+50*time.Millisecond)
			p.resume()
		}
	}
	return nil
}

// fetchOnce takes the messages waiting, up to FetchBatch and what the
// pipeline has room for, or, with nothing in flight, waits up to
// fetchWait for one, and hands them to the pipeline without waiting for
// their handling: while some batches wait for their commit, the next ones
// are opened. It reports whether a store error happened (the pipeline
// then NAKs the failed device's later messages without handling them, so
// that they are redelivered behind the failed one). After ctx is done the
// pipeline NAKs what it has not handled, for another worker.
//
// Only a request that returns within takeWait or ends with its first
// message (a wait for one) is used: a NAKed message must not come back
// within the same pull request, ahead of the pause. Both ask in the
// priority group: only the central the consumer is pinned to gets
// messages.
func (p *pipeline) fetchOnce(ctx context.Context, cons jetstream.Consumer) (failed bool, err error) {
	room := p.room(ctx)
	if room == 0 || p.failed() {
		return p.failed(), nil
	}
	group := jetstream.FetchPriorityGroup(IngestGroup)
	batch, err := cons.Fetch(min(p.in.cfg.FetchBatch, room), group, jetstream.FetchMaxWait(takeWait))
	if err != nil {
		return p.failed(), err
	}
	n := p.dispatch(ctx, batch)
	if err := fetchError(batch); err != nil || n > 0 || p.failed() {
		return p.failed(), err
	}
	if p.busy() {
		// Nothing waiting but batches in flight: look again when one is
		// done, or after takeWait.
		p.waitDone(ctx, takeWait)
		return p.failed(), nil
	}
	fctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	if batch, err = cons.Fetch(1, group, jetstream.FetchContext(fctx)); err != nil {
		return p.failed(), err
	}
	p.dispatch(ctx, batch)
	return p.failed(), fetchError(batch)
}

// fetchError returns the error that ended a fetch, if it was not just the
// end of the wait or of the messages waiting.
func fetchError(batch jetstream.MessageBatch) error {
	err := batch.Error()
	// A pin ID mismatch: another central was pinned meanwhile (this one
	// sent no request for the pinned TTL); nats.go forgets the pin and
	// this central stands by.
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, jetstream.ErrPinIDMismatch) {
		return nil
	}
	return err
}

// pipelineDepth is how many fetch batches may be in flight at once: one
// being committed while the next is opened.
const pipelineDepth = 2

// pipeline handles fetched messages as they arrive, several devices' at
// the same time and each device's in fetch order (a lane per subject),
// and reports progress (InProgress) on every message until it is acked or
// NAKed, so that a short AckWait redelivers only the messages of a
// central that died, not those of a busy one.
type pipeline struct {
	in *Ingester

	mu      sync.Mutex
	lanes   map[string]*lane // the last message of each subject in flight (or failed, until resume)
	flight  map[*lane]jetstream.Msg
	hasFail bool
	done    chan struct{} // signalled (non-blocking) when a message is finished
	wg      sync.WaitGroup

	sem      chan struct{} // bounds the messages handled at once
	stopTick chan struct{}
	tickWG   sync.WaitGroup
}

// lane is one message in flight; the next message of its subject waits
// for done.
type lane struct {
	done   chan struct{}
	failed bool // a store error: the subject's later messages are NAKed behind it
}

func newPipeline(in *Ingester) *pipeline {
	p := &pipeline{in: in, lanes: make(map[string]*lane), flight: make(map[*lane]jetstream.Msg),
		done: make(chan struct{}, 1), stopTick: make(chan struct{}),
		// More than the cores: while some wait for a commit, others open.
		sem: make(chan struct{}, max(64, in.cfg.OpenWorkers))}
	p.tickWG.Go(func() { p.progress(in.cfg.AckWait / 3) })
	return p
}

// limit is how many messages may be in flight.
func (p *pipeline) limit() int {
	return min(pipelineDepth*p.in.cfg.FetchBatch, p.in.cfg.MaxAckPending)
}

// room waits until at least half a fetch batch fits in the pipeline (or
// ctx is done) and returns how many messages fit.
func (p *pipeline) room(ctx context.Context) int {
	for {
		p.mu.Lock()
		room := p.limit() - len(p.flight)
		p.mu.Unlock()
		if room >= min(p.in.cfg.FetchBatch, p.limit())/2 || ctx.Err() != nil {
			return max(room, 0)
		}
		p.waitDone(ctx, fetchWait)
	}
}

// busy reports whether messages are in flight.
func (p *pipeline) busy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.flight) > 0
}

func (p *pipeline) failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hasFail
}

// waitDone waits until a message is finished, ctx is done or d passed.
func (p *pipeline) waitDone(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
	case <-ctx.Done():
	case <-t.C:
	}
}

// dispatch starts the handling of every message of batch, each behind the
// message of its subject before it, and returns how many there were. Once
// ctx is done it stops waiting for the batch (a request on a connection
// that died ends only after its expiry and a second more): what still
// arrives is NAKed for another worker.
func (p *pipeline) dispatch(ctx context.Context, batch jetstream.MessageBatch) (n int) {
	msgs := batch.Messages()
	for {
		var msg jetstream.Msg
		var ok bool
		select {
		case msg, ok = <-msgs:
		case <-ctx.Done():
			go func() {
				for msg := range msgs {
					p.in.nak(msg, 0)
				}
			}()
			return n
		}
		if !ok {
			return n
		}
		n++
		cur := &lane{done: make(chan struct{})}
		p.mu.Lock()
		prev := p.lanes[msg.Subject()]
		p.lanes[msg.Subject()] = cur
		p.flight[cur] = msg
		p.mu.Unlock()
		p.wg.Go(func() { p.handle(ctx, msg, prev, cur) })
	}
}

// handle handles msg once the message before it on its subject (prev, if
// any) is finished, unless that one failed or ctx is done: then it NAKs it.
func (p *pipeline) handle(ctx context.Context, msg jetstream.Msg, prev, cur *lane) {
	in := p.in
	if prev != nil {
		<-prev.done
	}
	switch {
	case ctx.Err() != nil:
		p.finish(msg, cur, false, func() { in.nak(msg, 0) })
	case prev != nil && prev.failed:
		p.finish(msg, cur, true, func() { in.nak(msg, in.cfg.RetryDelay) }) // behind the failed one
	default:
		p.sem <- struct{}{}
		in.handleMsg(ctx, msg, func(reply func(), failed bool) { p.finish(msg, cur, failed, reply) })
		<-p.sem
	}
	close(cur.done)
	p.mu.Lock()
	if p.lanes[msg.Subject()] == cur && !cur.failed {
		delete(p.lanes, msg.Subject())
	}
	p.mu.Unlock()
	select {
	case p.done <- struct{}{}:
	default:
	}
}

// finish runs reply (the ack or NAK of msg) and stops the progress
// reports on it. A report is never sent after the reply: it would reset a
// NAK's delay to the ack wait. failed marks the lane failed first.
func (p *pipeline) finish(msg jetstream.Msg, cur *lane, failed bool, reply func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.flight, cur)
	if failed {
		cur.failed, p.hasFail = true, true
	}
	reply()
}

// drain waits until every message in flight is finished.
func (p *pipeline) drain() { p.wg.Wait() }

// resume forgets the failures after the pause that follows them.
func (p *pipeline) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, l := range p.lanes {
		if l.failed {
			delete(p.lanes, s)
		}
	}
	p.hasFail = false
}

// stop waits for the messages in flight and stops the progress reports.
func (p *pipeline) stop() {
	p.wg.Wait()
	close(p.stopTick)
	p.tickWG.Wait()
}

// progress reports progress on every message in flight each period until
// stop.
func (p *pipeline) progress(period time.Duration) {
	t := time.NewTicker(max(period, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-p.stopTick:
			return
		case <-t.C:
		}
		p.mu.Lock()
		var failed error
		for _, msg := range p.flight {
			if err := msg.InProgress(); err != nil && failed == nil {
				failed = err
			}
		}
		p.mu.Unlock()
		if failed != nil {
			// Not fatal: at worst the message is redelivered, a duplicate.
			p.in.cfg.Log.Warn("ingest: progress report failed", "err", failed)
		}
	}
}

// handleMsg handles one message and acks it, or NAKs it after a store
// error, through reply (which runs the ack or NAK it is given, told
// whether it follows a store error). A message
// that failed PoisonAfter times goes to quarantine.
func (in *Ingester) handleMsg(ctx context.Context, msg jetstream.Msg, reply func(ack func(), failed bool)) error {
	cfg := &in.cfg
	t := cfg.Now()
	var delivered uint64 = 1
	if meta, err := msg.Metadata(); err == nil {
		t, delivered = meta.Timestamp, meta.NumDelivered
	}
	res, err := in.Handle(ctx, msg.Subject(), msg.Data(), t)
	if held := (*heldError)(nil); errors.As(err, &held) {
		// Logged once per gap, when it ends (Handle); counted in Held.
		reply(func() { in.nak(msg, held.retry) }, false)
		return nil
	}
	if err != nil && cfg.PoisonAfter > 0 && delivered >= uint64(cfg.PoisonAfter) {
		var qerr error
		res, qerr = in.quarantine(ctx, res, nil, nil, msg.Subject(), msg.Data(), t, ReasonStoreError,
			fmt.Sprintf("failed on %d deliveries, last: %v", delivered, err))
		if qerr == nil {
			cfg.Metrics.Batches.Add(1)
			err = nil
		}
	}
	if err != nil {
		cfg.Metrics.Retries.Add(1)
		cfg.Log.Error("ingest: store error; the batch will be redelivered",
			"device", res.Device, "first", res.FirstSeq, "last", res.LastSeq, "subject", msg.Subject(),
			"delivered", delivered, "retry_in", cfg.RetryDelay, "err", err)
		reply(func() { in.nak(msg, cfg.RetryDelay) }, true)
		return err
	}
	reply(func() {
		if err := msg.Ack(); err != nil {
			// Not fatal: the message comes back after AckWait and is then a
			// duplicate, which the store skips.
			cfg.Log.Warn("ingest: ack failed", "device", res.Device, "first", res.FirstSeq, "last", res.LastSeq, "err", err)
		}
	}, false)
	return nil
}

func (in *Ingester) nak(msg jetstream.Msg, delay time.Duration) {
	var err error
	if delay > 0 {
		err = msg.NakWithDelay(delay)
	} else {
		err = msg.Nak()
	}
	if err != nil {
		in.cfg.Log.Warn("ingest: nak failed; the message comes back after the ack wait", "subject", msg.Subject(), "err", err)
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

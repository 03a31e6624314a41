package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	for ctx.Err() == nil {
		failed, err := in.fetchOnce(ctx, cons)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			cfg.Log.Warn("ingest: fetch failed", "err", err)
			failed = true
		}
		if failed {
			// Wait out the NAK delay with a margin: once the NAKed message
			// is due again the server hands it out before newer ones, so
			// the device's batches stay in order. Waiting exactly the delay
			// races it and can let a later batch through first (a false
			// sequence-gap alert).
			sleep(ctx, cfg.RetryDelay+cfg.RetryDelay/4+50*time.Millisecond)
		}
	}
	return nil
}

// fetchOnce takes the messages waiting, up to FetchBatch, or waits up to
// fetchWait for one, and handles them in order. After the first store
// error it NAKs the rest without handling them, so that they are
// redelivered behind the failed one; after ctx is done it NAKs them for
// another worker. It reports whether a store error happened.
//
// Only a request that returns within takeWait or ends with its first
// message (a wait for one) is used: a NAKed message must not come back
// within the same pull request, ahead of the pause. Both ask in the
// priority group: only the central the consumer is pinned to gets
// messages.
func (in *Ingester) fetchOnce(ctx context.Context, cons jetstream.Consumer) (failed bool, err error) {
	group := jetstream.FetchPriorityGroup(IngestGroup)
	batch, err := cons.Fetch(in.cfg.FetchBatch, group, jetstream.FetchMaxWait(takeWait))
	if err != nil {
		return false, err
	}
	var n int
	failed, n = in.handleAll(ctx, batch)
	if err := fetchError(batch); err != nil || n > 0 || failed {
		return failed, err
	}
	fctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	if batch, err = cons.Fetch(1, group, jetstream.FetchContext(fctx)); err != nil {
		return false, err
	}
	failed, _ = in.handleAll(ctx, batch)
	return failed, fetchError(batch)
}

// handleAll handles a fetched batch of messages in order, as fetchOnce
// says, and returns whether a store error happened and how many
// messages there were.
func (in *Ingester) handleAll(ctx context.Context, batch jetstream.MessageBatch) (failed bool, n int) {
	// One group per subject (per device), in fetch order: a device's
	// batches are handled one after the other, different devices' at the
	// same time (the sealed parts' opening is the bulk of the work).
	var groups [][]jetstream.Msg
	bySubject := make(map[string]int)
	for msg := range batch.Messages() {
		n++
		i, ok := bySubject[msg.Subject()]
		if !ok {
			i = len(groups)
			bySubject[msg.Subject()] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], msg)
	}
	if n == 0 {
		return false, 0
	}
	// Until each message is acked or NAKed, tell the server it is being
	// worked on, so that a short AckWait redelivers only the messages of
	// a central that died, not those of a busy one.
	kp := newKeeper(groups)
	stop := make(chan struct{})
	var kwg sync.WaitGroup
	kwg.Go(func() { kp.run(stop, in.cfg.AckWait/3, in.cfg.Log) })
	defer func() {
		close(stop)
		kwg.Wait()
	}()

	var mu sync.Mutex
	var wg sync.WaitGroup
	// More than the cores: while some wait for a commit, others open.
	sem := make(chan struct{}, max(8, in.cfg.OpenWorkers))
	for gi, g := range groups {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			gfailed := false
			for mi, msg := range g {
				switch {
				case ctx.Err() != nil:
					kp.finish(gi, mi, func() { in.nak(msg, 0) })
				case gfailed:
					kp.finish(gi, mi, func() { in.nak(msg, in.cfg.RetryDelay) }) // behind the failed one
				default:
					gfailed = in.handleMsg(ctx, msg, func(reply func()) { kp.finish(gi, mi, reply) }) != nil
				}
			}
			if gfailed {
				mu.Lock()
				failed = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failed, n
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

// keeper reports progress (InProgress) on fetched messages until they are
// acked or NAKed.
type keeper struct {
	mu     sync.Mutex
	groups [][]jetstream.Msg
	done   [][]bool // done[gi][mi]: message mi of group gi was acked or NAKed
}

func newKeeper(groups [][]jetstream.Msg) *keeper {
	k := &keeper{groups: groups, done: make([][]bool, len(groups))}
	for i, g := range groups {
		k.done[i] = make([]bool, len(g))
	}
	return k
}

// finish runs reply (the ack or NAK of message mi of group gi) and stops
// the progress reports on it. A report is never sent after the reply: it
// would reset a NAK's delay to the ack wait.
func (k *keeper) finish(gi, mi int, reply func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.done[gi][mi] = true
	reply()
}

// run reports progress on every unfinished message each period until stop.
func (k *keeper) run(stop <-chan struct{}, period time.Duration, log *slog.Logger) {
	t := time.NewTicker(max(period, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		k.mu.Lock()
		var failed error
		for gi, g := range k.groups {
			for mi, msg := range g {
				if k.done[gi][mi] {
					continue
				}
				if err := msg.InProgress(); err != nil && failed == nil {
					failed = err
				}
			}
		}
		k.mu.Unlock()
		if failed != nil {
			// Not fatal: at worst the message is redelivered, a duplicate.
			log.Warn("ingest: progress report failed", "err", failed)
		}
	}
}

// handleMsg handles one message and acks it, or NAKs it after a store
// error, through reply (which runs the ack or NAK it is given). A message
// that failed PoisonAfter times goes to quarantine.
func (in *Ingester) handleMsg(ctx context.Context, msg jetstream.Msg, reply func(func())) error {
	cfg := &in.cfg
	t := cfg.Now()
	var delivered uint64 = 1
	if meta, err := msg.Metadata(); err == nil {
		t, delivered = meta.Timestamp, meta.NumDelivered
	}
	res, err := in.Handle(ctx, msg.Subject(), msg.Data(), t)
	if held := (*heldError)(nil); errors.As(err, &held) {
		// Logged once per gap, when it ends (Handle); counted in Held.
		reply(func() { in.nak(msg, held.retry) })
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
		reply(func() { in.nak(msg, cfg.RetryDelay) })
		return err
	}
	reply(func() {
		if err := msg.Ack(); err != nil {
			// Not fatal: the message comes back after AckWait and is then a
			// duplicate, which the store skips.
			cfg.Log.Warn("ingest: ack failed", "device", res.Device, "first", res.FirstSeq, "last", res.LastSeq, "err", err)
		}
	})
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

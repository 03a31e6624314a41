// Package uplink is the kiosk's side of the sync protocol (docs/sync.md): it
// drains the outbox to the central over NATS JetStream and keeps the
// down-sync buckets (revoked passes, pass keys, sealing key, venue settings)
// flowing back into the kiosk.
//
// # Durability
//
// The outbox is the only buffer. Batches are published asynchronously with a
// bounded window, and records leave the outbox only when the PubAck of the
// batch that carried them arrived (a duplicate PubAck counts), and only for a
// contiguous acknowledged prefix. On an ack timeout, a disconnect or "no
// responders", everything in flight is resent later from the outbox with the
// same boundaries and so the same Nats-Msg-Id; the central's store is
// idempotent on (device, seq) for whatever the stream's duplicate window
// misses. The NATS client's own reconnect buffer is off: a batch that cannot
// be written to the socket stays in the outbox.
//
// # Connection
//
// The client never gives up (unlimited reconnects, retry on a failed first
// connect), waits a jittered delay between attempts, growing from 250ms to
// at most 2s, so that a kiosk is back within 2s of the central's return
// and thousands of kiosks do not reconnect in lock-step after an outage
// ([ReconnectDelay]),
// authenticates with the device's NATS user nkey, and takes its reply
// subjects under the device's own inbox prefix (the only one its permissions
// allow it to subscribe to).
//
// # Progress
//
// A backlog (after an outage, at start) is announced with a "sync catch-up"
// log line, followed by "sync progress" lines every few seconds or every
// tenth of the backlog, and a "sync caught up" line; [Uplink.Status] tells
// the kiosk where the sync stands at any time.
package uplink

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// Outbox is the durable queue the uplink drains; *kiosk.Outbox implements it.
type Outbox interface {
	// ReadWireBatch returns the oldest records after sequence after: at most
	// maxBytes of canonical record bytes (but at least one commit's worth),
	// ending at a commit whose device-signed head the batch carries; nil
	// when no record waits. Sent is left zero for the uplink to stamp.
	ReadWireBatch(after uint64, maxBytes int) (*wire.Batch, error)
	// Ack removes the records up to and including seq.
	Ack(seq uint64) (int, error)
	// Base returns the sequence (and chain hash) of the last record removed.
	Base() (uint64, checkin.Hash, error)
	// Pending returns the number of records waiting.
	Pending() (int, error)
}

// Sink receives what the central publishes in the down-sync buckets.
type Sink interface {
	// Apply applies changes to a bucket. With snapshot true the changes are
	// the bucket's whole current contents (as far as the watch covers it):
	// every key not among them is gone. Otherwise they are updates in
	// order, a nil Value meaning the key was deleted or purged. It is called
	// from one goroutine per bucket.
	Apply(bucket string, changes []Change, snapshot bool) error
}

// Change is one key of a down-sync bucket.
type Change struct {
	Key      string
	Value    []byte // nil: deleted
	Revision uint64
}

// Watch names a down-sync bucket to follow and, optionally, the keys.
type Watch struct {
	Bucket string
	// Keys is a key or a key pattern (KV wildcards); empty means all keys.
	Keys string
}

// DefaultWatches are the four down-sync buckets of docs/sync.md; of the
// venue settings only the kiosk's own venue.
func DefaultWatches(venue string) []Watch {
	return []Watch{{Bucket: wire.BucketRevoked}, {Bucket: wire.BucketPassKeys}, {Bucket: wire.BucketSealing}, {Bucket: wire.BucketVenues, Keys: venue}}
}

// Config configures an Uplink. Zero values mean the defaults documented per
// field.
type Config struct {
	// Outbox is drained (required).
	Outbox Outbox
	// Device and Venue identify the kiosk (required).
	Device, Venue string
	// URLs are the central's NATS servers (required).
	URLs []string
	// Seed is the device's NATS user nkey seed ("SU..."); nil connects
	// without authentication (development servers, tests).
	Seed []byte
	// Subject is where batches go (default wire.CheckInSubject(Venue, Device)).
	Subject string
	// InboxPrefix is the prefix of reply subjects (default
	// wire.InboxPrefix(Device)).
	InboxPrefix string
	// Stream is the stream the subject must be bound to (default wire.Stream):
	// a PubAck from any other stream is an error.
	Stream string
	// Clock is the kiosk's clock: it stamps each batch at sending (Sent),
	// dates the status (wall time) and measures catch-up rates and log
	// throttling (monotonic time). Default: the process's clocks, quality
	// unsynced.
	Clock func() wire.Stamp
	// Log receives connection events, errors and catch-up progress
	// (default slog.Default()).
	Log *slog.Logger
	// MaxBatchBytes bounds an encoded batch (default wire.DefaultMaxBytes);
	// never more than the connection's max payload less room for headers.
	MaxBatchBytes int
	// Window is the number of batches in flight (default 8). After a
	// failure the uplink resends one batch at a time and grows the window
	// back by one per acknowledged batch: a slow link is not flooded with
	// resends, and a recovering central receives the batches in order.
	Window int
	// AckTimeout is how long a batch waits for its PubAck (default 10s).
	AckTimeout time.Duration
	// BackoffMin and BackoffMax bound the jittered, doubling wait before
	// resending after a failure and before watching a down-sync bucket
	// again (defaults 1s and 30s). Reconnects have their own delay
	// (ReconnectBase, ReconnectMax).
	BackoffMin, BackoffMax time.Duration
	// ReconnectBase and ReconnectMax shape the wait before each reconnect
	// attempt: drawn uniformly from [0, min(ReconnectMax,
	// ReconnectBase·2^(n-1))] before attempt n ("full jitter"; defaults
	// 250ms and 2s). A kiosk thus reconnects within ReconnectMax of the
	// central's return (ReconnectMax/3 on average), and thousands of
	// kiosks come back spread over that time, not in the same
	// millisecond. See [ReconnectDelay].
	ReconnectBase, ReconnectMax time.Duration
	// Wake tells the uplink that new records were committed (optional; a
	// value is a hint, the outbox is the truth).
	Wake <-chan struct{}
	// Poll is how often the outbox is looked at without a wake-up (default
	// 1s with Wake, 200ms without).
	Poll time.Duration
	// CatchUp is the backlog, in records, that is logged as a catch-up with
	// progress lines (default 1000).
	CatchUp int
	// ProgressEvery is the longest time between progress lines during a
	// catch-up (default 5s); a line is also logged every tenth of it.
	ProgressEvery time.Duration
	// ShutdownGrace is how long, once ctx is done, the uplink still waits
	// for the PubAcks of batches in flight (default 1s; negative: none).
	ShutdownGrace time.Duration
	// Sink receives the down-sync buckets (nil: no down-sync).
	Sink Sink
	// Watches are the buckets followed for Sink (default DefaultWatches).
	Watches []Watch
	// Witness receives the ledger receipts of the device's batches and
	// checks the central's checkpoints (nil: receipts are not followed).
	Witness Witness
	// Options are added to the NATS connection options (tests, TLS).
	Options []nats.Option
}

// Status is a snapshot of the uplink for the kiosk's status display.
type Status struct {
	Connected bool   `json:"connected"`
	Server    string `json:"server,omitempty"`
	// Pending is the number of records in the outbox (-1 if unknown).
	Pending int `json:"pending"`
	// InFlight is the number of batches sent and not yet acknowledged.
	InFlight int `json:"in_flight"`
	// Acked is the last sequence acknowledged by the central this run.
	Acked uint64 `json:"acked"`
	// LastAck is the kiosk's wall time of the last PubAck.
	LastAck time.Time `json:"last_ack,omitzero"`
	// CatchingUp is true while a backlog is being sent.
	CatchingUp bool `json:"catching_up"`
	// Resent counts batches acknowledged as duplicates: resends of batches
	// the stream already held (their first PubAck was lost).
	Resent uint64 `json:"resent"`
	// LastError is the last error seen, if any, and when (wall time).
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Receipts counts the ledger receipts verified and kept this run.
	Receipts uint64 `json:"receipts"`
	// LedgerAlert is true once the kiosk caught the central's ledger in a
	// fork (two signed checkpoints that cannot both be true).
	LedgerAlert bool `json:"ledger_alert"`
}

// Uplink sends a kiosk's outbox to the central and follows the down-sync
// buckets. Run it once.
type Uplink struct {
	cfg Config
	log *slog.Logger

	nc  atomic.Pointer[nats.Conn]
	rng *lockedRand

	mu      sync.Mutex
	st      Status
	connCh  chan struct{}            // closed and replaced at each (re)connect
	reconCh chan struct{}            // closed and replaced at each reconnect
	errLogs map[string]time.Duration // message → monotonic time last logged
	started bool
}

// New checks cfg and returns an Uplink.
func New(cfg Config) (*Uplink, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("uplink: no outbox")
	}
	if cfg.Device == "" || cfg.Venue == "" {
		return nil, errors.New("uplink: device and venue are required")
	}
	if len(cfg.URLs) == 0 {
		return nil, errors.New("uplink: no NATS server URL (is the kiosk enrolled? see `kiosk enroll`)")
	}
	if cfg.Seed != nil {
		if err := CheckSeed(cfg.Seed); err != nil {
			return nil, fmt.Errorf("uplink: NATS key: %w", err)
		}
	}
	c := cfg
	if c.Subject == "" {
		c.Subject = wire.CheckInSubject(c.Venue, c.Device)
	}
	if c.InboxPrefix == "" {
		c.InboxPrefix = wire.InboxPrefix(c.Device)
	}
	if !wire.ValidSubject(c.Subject) || !wire.ValidSubject(c.InboxPrefix) {
		return nil, fmt.Errorf("uplink: subject %q or inbox prefix %q is not a literal NATS subject", c.Subject, c.InboxPrefix)
	}
	if c.Stream == "" {
		c.Stream = wire.Stream
	}
	if c.Clock == nil {
		start := time.Now()
		c.Clock = func() wire.Stamp {
			now := time.Now()
			return wire.Stamp{Wall: now.UTC(), Quality: checkin.Unsynced, Mono: now.Sub(start)}
		}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = wire.DefaultMaxBytes
	}
	if c.Window <= 0 {
		c.Window = 8
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 30 * time.Second
	}
	c.BackoffMax = max(c.BackoffMax, c.BackoffMin)
	if c.ReconnectBase <= 0 {
		c.ReconnectBase = DefaultReconnectBase
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	c.ReconnectMax = max(c.ReconnectMax, c.ReconnectBase)
	if c.Poll <= 0 {
		c.Poll = time.Second
		if c.Wake == nil {
			c.Poll = 200 * time.Millisecond
		}
	}
	if c.CatchUp <= 0 {
		c.CatchUp = 1000
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 5 * time.Second
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = time.Second
	}
	if c.Watches == nil {
		c.Watches = DefaultWatches(c.Venue)
	}
	var seed [8]byte
	rand.Read(seed[:])
	u := &Uplink{
		cfg: c, log: c.Log.With("component", "sync"),
		rng:    &lockedRand{r: mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:]), uint64(time.Now().UnixNano())))},
		connCh: make(chan struct{}), reconCh: make(chan struct{}), errLogs: map[string]time.Duration{},
	}
	if c.Witness != nil {
		// The witness must know each batch sent to check its receipt.
		u.cfg.Outbox = &sentOutbox{Outbox: c.Outbox, u: u}
	}
	u.st.Pending = -1
	return u, nil
}

// Run connects and syncs until ctx is done. It is Run of a new Uplink.
func Run(ctx context.Context, cfg Config) error {
	u, err := New(cfg)
	if err != nil {
		return err
	}
	return u.Run(ctx)
}

// Run connects to the central and syncs until ctx is done; it returns nil
// then. Batches whose PubAck has not arrived by then (after ShutdownGrace)
// stay in the outbox. It returns an error only when it cannot start (bad
// URLs or key).
func (u *Uplink) Run(ctx context.Context) error {
	u.mu.Lock()
	if u.started {
		u.mu.Unlock()
		return errors.New("uplink: Run called twice")
	}
	u.started = true
	u.mu.Unlock()

	nc, err := u.connect()
	if err != nil {
		return err
	}
	u.nc.Store(nc)
	defer nc.Close()

	var wg sync.WaitGroup
	s, err := newSender(u, nc)
	if err != nil {
		return err
	}
	wg.Go(func() { s.run(ctx) })
	if u.cfg.Sink != nil {
		for _, w := range u.cfg.Watches {
			wg.Go(func() { u.follow(ctx, nc, w) })
		}
	}
	if u.cfg.Witness != nil {
		wg.Go(func() { u.witness(ctx, nc) })
	}
	wg.Go(func() { u.reportStatus(ctx, nc) }) // status.go
	wg.Wait()
	return nil
}

// Status returns where the sync stands.
func (u *Uplink) Status() Status {
	u.mu.Lock()
	st := u.st
	u.mu.Unlock()
	if nc := u.nc.Load(); nc != nil {
		st.Connected = nc.IsConnected()
		if st.Connected {
			st.Server = nc.ConnectedUrlRedacted()
		}
	}
	if n, err := u.cfg.Outbox.Pending(); err == nil {
		st.Pending = n
	}
	if u.cfg.Witness != nil {
		st.LedgerAlert = u.cfg.Witness.Alert()
	}
	return st
}

// setErr records err as the last error and logs it, once per distinct
// message a minute so that a central that stays away does not flood the
// log.
func (u *Uplink) setErr(msg string, err error, attrs ...any) {
	now := u.cfg.Clock()
	text := err.Error()
	u.mu.Lock()
	u.st.LastError, u.st.LastErrorAt = msg+": "+text, now.Wall
	key := msg + text
	last, seen := u.errLogs[key]
	quiet := seen && now.Mono-last < time.Minute
	if !quiet {
		if len(u.errLogs) > 64 {
			clear(u.errLogs)
		}
		u.errLogs[key] = now.Mono
	}
	u.mu.Unlock()
	if !quiet {
		u.log.Warn(msg, append([]any{"err", text}, attrs...)...)
	}
}

// connected returns a channel closed at the next (re)connect. Take it
// before checking nc.IsConnected to not miss a connect in between.
func (u *Uplink) connected() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.connCh
}

// reconnected returns a channel closed at the next reconnect (not the
// first connect).
func (u *Uplink) reconnected() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reconCh
}

func (u *Uplink) signalConnected(reconnect bool) {
	u.mu.Lock()
	close(u.connCh)
	u.connCh = make(chan struct{})
	if reconnect {
		close(u.reconCh)
		u.reconCh = make(chan struct{})
	}
	u.mu.Unlock()
}

// waitConnected waits until nc is connected; false when ctx is done.
func (u *Uplink) waitConnected(ctx context.Context, nc *nats.Conn) bool {
	for {
		ch := u.connected()
		if nc.IsConnected() {
			return true
		}
		t := time.NewTimer(time.Second) // belt and braces: a missed event costs a second
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// sleep waits d or until ctx is done; false when ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// backoff returns the jittered delay before attempt n (1, 2, ...): the
// doubling delay capped at BackoffMax, drawn uniformly from its upper half.
func (u *Uplink) backoff(n int) time.Duration {
	d := u.cfg.BackoffMin
	for i := 1; i < n && d < u.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, u.cfg.BackoffMax)
	return d/2 + time.Duration(u.rng.float64()*float64(d/2))
}

// Defaults of Config.ReconnectBase and Config.ReconnectMax.
const (
	DefaultReconnectBase = 250 * time.Millisecond
	DefaultReconnectMax  = 2 * time.Second
)

// ReconnectDelay returns the wait before reconnect attempt n (1, 2, ...):
// the doubling step base·2^(n-1), capped at max, scaled by rnd, a number
// drawn uniformly from [0, 1). With full jitter (the whole step, not its
// upper half) kiosks that lost the central at the same moment spread their
// attempts over the step from the first one on, and once the steps reach
// max a kiosk tries every max/2 on average: it is back within max of the
// central's return, max/3 on average.
func ReconnectDelay(n int, base, max time.Duration, rnd float64) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(rnd * float64(d))
}

// reconnectDelay is the nats.CustomReconnectDelay of the uplink's
// connection: attempts counts the passes over the server list of this
// outage.
func (u *Uplink) reconnectDelay(attempts int) time.Duration {
	return ReconnectDelay(attempts, u.cfg.ReconnectBase, u.cfg.ReconnectMax, u.rng.float64())
}

// lockedRand is a random source for jitter, safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *mrand.Rand
}

func (l *lockedRand) float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// redact keeps user information out of logged URLs.
func redact(urls []string) string {
	out := make([]string, len(urls))
	for i, s := range urls {
		if at := strings.LastIndex(s, "@"); at >= 0 {
			if p := strings.Index(s, "://"); p >= 0 && p < at {
				s = s[:p+3] + "***" + s[at:]
			}
		}
		out[i] = s
	}
	return strings.Join(out, ",")
}

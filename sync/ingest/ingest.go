// Package ingest is the central's consumer of kiosk batches: it takes each
// batch from the JetStream stream, checks it as docs/sync.md lists, corrects
// the clocks of records taken while the kiosk's clock was unsynced, stores
// it, and only then acknowledges the message.
//
// # Checks, in order
//
//  1. wire.Decode; malformed → quarantine "malformed".
//  2. The subject anshim.checkins.<venue>.<device> and the batch agree
//     ("wrong-subject"), the device is enrolled ("unknown-device"), and its
//     enrolled venue and every record agree ("wrong-subject"). Every
//     quarantine entry is the subject's device's, the only device NATS
//     lets publish there, never the device a payload names.
//  3. Batch.Verify with the device's key: "bad-signature" or
//     "broken-chain".
//  4. Continuity with what is stored: records already stored are skipped
//     (and must equal the stored ones, else "seq-conflict"); a batch whose
//     preceding record is missing ("sequence-gap") or whose Prev differs
//     from it ("chain-break") is ingested with FlagAfterBreak, and an entry
//     of that reason records the event in the same transaction.
//  5. Every new record's sealed part opens with the province key, else
//     "cannot-open". Nothing of a quarantined batch is stored but the
//     quarantine entry, which keeps the message sealed under the key of
//     its day (quarantine.go), or only its hash.
//  6. Clock correction (docs/sync.md; see clock.go), then store.Ingest in
//     one transaction, then the ack. A new record of a day past retention
//     (key destroyed, or day dropped from the store) is refused, never
//     taken for a duplicate: a "day-destroyed" entry keeps the batch's
//     hash, the rest is stored, and the batch is acked.
//
// A store error is never acked: the message is NAKed with a delay and
// redelivered. Every quarantine entry and break makes one error log line
// (device ids and sequence numbers, never personal data) and counts in
// Metrics.
//
// # Ordering
//
// Run handles messages one at a time in stream order and, after a store
// error, NAKs the rest of the fetched messages too and pauses before
// fetching again, so that redelivered batches mostly come back in order.
// Should a device's batches still arrive out of order (a central that died
// holding the earlier ones, several central workers, a kiosk resending a
// failed publish), the later batch is held back (Config.GapWait, counted
// from when this Ingester first saw the gap) until the earlier ones fill
// the hole; only a gap that outlasts the wait is ingested and flagged, and
// no data is lost either way: the earlier batch, arriving later, still
// fills the hole.
//
// # Acks
//
// Until Run acks or NAKs a fetched message it reports progress on it every
// third of Config.AckWait, so the short default ack wait (DefaultAckWait)
// redelivers only the messages of a central that died.
package ingest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// Config configures an Ingester. Store and the sealing key pair are
// required; JS is required by Run only. Zero values mean the defaults
// documented on each field.
type Config struct {
	// JS is the JetStream context Run consumes from.
	JS jetstream.JetStream
	// Store is where batches go: a store.Store (see Store).
	Store Store
	// SealPub and SealPriv are the province's record-sealing key pair
	// (province.Keys.SealingPublicKey / SealingPrivateKey).
	SealPub, SealPriv *[32]byte
	// DayKeys, if set, re-seals every personal part under the key of its
	// KST day and tags it (crypto-shredding; the central always sets it).
	// Without it the store keeps the parts sealed to the province's key.
	DayKeys *daykeys.Keys
	// GapWait, if set, holds back a batch that starts after a gap in its
	// device's sequence (it is NAKed and redelivered after GapRetry) for up
	// to this long after this Ingester first saw the gap (or last saw some
	// of the missing records arrive), so that batches that merely arrive
	// out of order are ingested cleanly; only then is it ingested and
	// flagged as a sequence gap. The wait is measured with Now from the
	// first sight of the gap, not from the message's stream timestamp:
	// after an outage of the central the whole backlog is old, and the
	// missing batches (delivered to a central that died, or being resent
	// by the kiosk) still come within AckWait, or the kiosks' resend
	// delay, of the moment the gap shows. A restarted central sees
	// the gap anew and waits again: a restart can only lengthen the hold,
	// never turn it into a false alarm. The central sets it well above
	// AckWait and the kiosks' reconnect backoff plus ack timeout.
	GapWait time.Duration
	// GapRetry is how often the batches of a device held back after a gap
	// are tried again, all together (NAKed with a delay up to the same
	// moment, so that the server hands them out again in stream order and
	// a batch that arrives while the others wait queues behind them rather
	// than seeing them missing). Default 1 s.
	GapRetry time.Duration
	// Seen, if set, is told the pseudonyms of the check-ins a batch stored
	// (after the store committed them), so the identity vault can record
	// that those people still use Anshim. It must not block; it owns the
	// slice.
	Seen func(pseudonyms [][16]byte)
	// Log receives one error line per quarantine entry and break, and one
	// info line per device and gap whose held-back batches were ingested
	// cleanly in the end (never a line per hold). Default slog.Default().
	Log *slog.Logger
	// Now is the clock, used where a message carries no JetStream
	// timestamp. Default time.Now.
	Now func() time.Time
	// Metrics receives the counters. Default a new Metrics, see
	// Ingester.Metrics.
	Metrics *Metrics

	// Stream configures the stream Run ensures exists.
	Stream StreamConfig
	// Durable is the name of the durable pull consumer. Default "central".
	// Centrals sharing one name share it: one of them at a time (the
	// pinned client of its priority group IngestGroup) receives batches,
	// the others stand by (docs/sync.md, "Several centrals").
	Durable string
	// PinnedTTL is how long the consumer stays pinned to a central that
	// sends no pull request (it died, or a batch took this long): then
	// another central's request is pinned. Default DefaultPinnedTTL.
	PinnedTTL time.Duration
	// MaxAckPending bounds the messages delivered and not yet acked.
	// Default 256.
	MaxAckPending int
	// AckWait is how long the server waits for an ack (or a progress
	// report) before redelivering: after a crash of the central, the
	// batches it had fetched stall this long (pitfall 16). Run reports
	// progress on every fetched message every AckWait/3 until it acks it,
	// so slow work is not redelivered; Run updates an existing durable
	// consumer to this value. Default DefaultAckWait.
	AckWait time.Duration
	// FetchBatch is how many messages Run asks for at a time. Default 64.
	FetchBatch int
	// RetryDelay is the NAK delay after a store error, and Run's pause
	// before fetching again. Default 5 s; at least MinRetryDelay, so that
	// the NAKed message cannot come back within a pull request that was
	// under way when it failed, ahead of the device's later batches.
	RetryDelay time.Duration
	// PoisonAfter: a message that failed with a store error on this many
	// deliveries is put into quarantine ("store-error") instead, if the
	// quarantine write succeeds, so that one bad message cannot stop the
	// province's ingest. Default 20; negative means never.
	PoisonAfter int
	// OpenWorkers bounds the goroutines opening one batch's sealed parts,
	// and the sealed parts being opened at once by all batches together.
	// Default GOMAXPROCS.
	OpenWorkers int
	// QuarantineMaxBytes and QuarantineMaxEntries are each device's
	// quarantine quota: the payload bytes and the entries it may hold
	// (until they are dropped with their day). Over the bytes, entries
	// keep only the hash of their message; at the entries, one summary
	// entry (ReasonQuotaExceeded) and nothing more. Each hit is an ERROR
	// line and counts in Metrics.QuotaHits. Defaults
	// DefaultQuarantineMaxBytes and DefaultQuarantineMaxEntries.
	QuarantineMaxBytes   int64
	QuarantineMaxEntries int
}

// withDefaults returns cfg with its defaults applied.
func (cfg Config) withDefaults() Config {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = new(Metrics)
	}
	if cfg.Durable == "" {
		cfg.Durable = "central"
	}
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = 256
	}
	if cfg.PinnedTTL <= 0 {
		cfg.PinnedTTL = DefaultPinnedTTL
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.GapRetry <= 0 {
		cfg.GapRetry = time.Second
	}
	if cfg.FetchBatch <= 0 {
		cfg.FetchBatch = 64
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 5 * time.Second
	}
	cfg.RetryDelay = max(cfg.RetryDelay, MinRetryDelay)
	if cfg.PoisonAfter == 0 {
		cfg.PoisonAfter = 20
	}
	if cfg.OpenWorkers <= 0 {
		cfg.OpenWorkers = min(runtime.GOMAXPROCS(0), runtime.NumCPU())
	}
	if cfg.QuarantineMaxBytes <= 0 {
		cfg.QuarantineMaxBytes = DefaultQuarantineMaxBytes
	}
	if cfg.QuarantineMaxEntries <= 0 {
		cfg.QuarantineMaxEntries = DefaultQuarantineMaxEntries
	}
	return cfg
}

func (cfg *Config) validate() error {
	switch {
	case cfg.Store == nil:
		return errors.New("ingest: no store")
	case cfg.SealPub == nil || cfg.SealPriv == nil:
		return errors.New("ingest: no sealing key pair")
	}
	return nil
}

// Ingester checks and stores kiosk batches. It is safe for concurrent use.
type Ingester struct {
	cfg Config

	// opening holds a token per sealed part being opened: the batches
	// handled at once open on at most OpenWorkers cores, so that the
	// goroutines waiting to run stay few and the store's commit, which
	// every batch waits for, is not queued behind dozens of them.
	opening chan struct{}

	qmu sync.Mutex
	// quarantinedTo remembers, per device, the last sequence of a batch
	// quarantined by this process: a gap up to there is explained (the
	// records are in quarantine) and not waited for.
	quarantinedTo map[string]uint64
	// gaps are the devices whose batches are being held back (GapWait).
	gaps map[string]*gap
}

// gap is a device's gap while batches after it are held back.
type gap struct {
	from, to uint64    // the records missing when it was first seen
	lastSeq  uint64    // the device's last stored sequence at the last hold
	first    time.Time // first seen
	since    time.Time // first seen, or the last progress (lastSeq moved)
	held     int       // hold-backs (NAKs) so far
	// retryAt is when the batches held back come back: all of them at
	// once, so that the server hands them out again in stream order and
	// none of them sees the others missing.
	retryAt time.Time
	// heldFirst holds the first sequences of the batches held back and
	// not yet handled to the end.
	heldFirst map[uint64]bool
}

// minRetry is the shortest NAK delay of a held-back batch: a retryAt
// closer than this starts a new round.
const minRetry = 20 * time.Millisecond

// New returns an Ingester for cfg.
func New(cfg Config) (*Ingester, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Ingester{cfg: cfg, opening: make(chan struct{}, cfg.OpenWorkers)}, nil
}

// Metrics returns the Ingester's counters.
func (in *Ingester) Metrics() *Metrics { return in.cfg.Metrics }

// Result says what Handle did with one message.
type Result struct {
	// Device is the device of the subject the batch came on ("" when the
	// subject names none); FirstSeq and LastSeq identify the batch when it
	// decoded and names that device.
	Device            string
	FirstSeq, LastSeq uint64
	// Stored counts the records new to the store; Duplicates those already
	// stored, skipped.
	Stored, Duplicates int
	// Uncorrected counts stored records whose unsynced time could not be
	// corrected.
	Uncorrected int
	// Expired counts records refused because their day is past retention
	// (its key destroyed) or dropped from the store; ExpiredID is the
	// quarantine entry (ReasonDayDestroyed, hashes only) that records it
	// (0 if the device's quarantine quota left none). They are neither
	// stored nor duplicates: an ERROR line and the metrics say so.
	Expired   int
	ExpiredID uint64
	// Quarantined is the reason the message went to quarantine (nothing
	// else stored), or "". QuarantineID is its entry.
	Quarantined  string
	QuarantineID uint64
	// Break is ReasonSequenceGap or ReasonChainBreak when the batch was
	// ingested although it did not continue the device's chain.
	Break string
	// Detail explains Quarantined or Break, without personal data.
	Detail string
}

// Handle checks and stores one message: subject and data as published by
// the kiosk, received the JetStream timestamp of the message (the true
// time of sending for clock correction). A nil error means the message is
// done with — stored, a duplicate, or quarantined — and is to be acked; an
// error means the store failed and the message is to be redelivered.
func (in *Ingester) Handle(ctx context.Context, subject string, data []byte, received time.Time) (Result, error) {
	res, err := in.handle(ctx, subject, data, received)
	if err != nil {
		return res, err
	}
	m := in.cfg.Metrics
	m.Batches.Add(1)
	m.Stored.Add(uint64(res.Stored))
	m.Duplicates.Add(uint64(res.Duplicates))
	m.Uncorrected.Add(uint64(res.Uncorrected))
	m.Expired.Add(uint64(res.Expired)) // logged by refuse
	if res.Quarantined == "" {
		in.cfg.Log.Debug("ingest: batch handled", "device", res.Device, "first", res.FirstSeq, "last", res.LastSeq,
			"stored", res.Stored, "duplicates", res.Duplicates, "uncorrected", res.Uncorrected)
	}
	g := in.endGap(res)
	if res.Break != "" {
		m.Breaks.Add(1)
		m.quarantine(res.Break)
		attrs := []any{"reason", res.Break, "device", res.Device, "first", res.FirstSeq, "last", res.LastSeq,
			"stored", res.Stored, "subject", subject, "detail", res.Detail}
		if g != nil {
			attrs = append(attrs, "held", g.held, "waited", in.cfg.Now().Sub(g.first).Round(time.Millisecond))
		}
		in.cfg.Log.Error("ingest: batch does not continue the device's chain; ingested and flagged", attrs...)
	} else if g != nil {
		// One line per device and gap, however often its batches were
		// held back.
		in.cfg.Log.Info("ingest: batches held back after a gap until the records before them arrived",
			"device", res.Device, "missing_first", g.from, "missing_last", g.to, "held", g.held,
			"waited", in.cfg.Now().Sub(g.first).Round(time.Millisecond))
	}
	return res, nil
}

// holdGap reports whether the batch first..(prev+1) of device after the
// gap from lastSeq+1 to prev is to be held back (GapWait), and for how
// long; it counts the hold.
//
// The batches held back for a real gap are NAKed up to one moment
// (retryAt), a round of GapRetry, so that they come back together, in
// stream order. A batch whose missing records are only a batch held back
// here (it arrived while the others wait, or the server's timer let it
// come first) is not a gap of its own: it is held up to the same moment,
// or briefly once that is past, and never starts a round — else each round
// would leave the batches arriving during it a round behind, for good.
func (in *Ingester) holdGap(device string, lastSeq, prev, first uint64) (time.Duration, bool) {
	now := in.cfg.Now()
	in.qmu.Lock()
	defer in.qmu.Unlock()
	g := in.gaps[device]
	if g == nil {
		if in.gaps == nil {
			in.gaps = make(map[string]*gap)
		}
		g = &gap{from: lastSeq + 1, to: prev, lastSeq: lastSeq, first: now, since: now, heldFirst: map[uint64]bool{}}
		in.gaps[device] = g
	} else if g.lastSeq != lastSeq {
		// Some missing records arrived: the rest are on their way.
		g.lastSeq, g.since = lastSeq, now
	}
	g.to = min(g.to, prev) // an earlier batch held back: fewer records missing
	if now.Sub(g.since) >= in.cfg.GapWait {
		return 0, false
	}
	g.held++
	g.heldFirst[first] = true
	in.cfg.Metrics.Held.Add(1)
	if g.heldFirst[lastSeq+1] { // behind a batch held back here
		return max(g.retryAt.Sub(now), followRetry), true
	}
	if g.retryAt.Sub(now) < minRetry {
		g.retryAt = now.Add(in.cfg.GapRetry)
	}
	return g.retryAt.Sub(now), true
}

// followRetry is the NAK delay of a batch waiting only for a batch held
// back here whose round is due.
const followRetry = 100 * time.Millisecond

// endGap is told of every batch of the device handled to the end
// (stored, flagged, a duplicate or quarantined). Once a break was flagged,
// or a batch after the missing records was handled and none held back is
// left, it forgets the device's gap and returns it.
func (in *Ingester) endGap(res Result) *gap {
	in.qmu.Lock()
	defer in.qmu.Unlock()
	g := in.gaps[res.Device]
	if g == nil {
		return nil
	}
	delete(g.heldFirst, res.FirstSeq)
	if res.Break == "" && (res.FirstSeq <= g.to || len(g.heldFirst) > 0) {
		return nil
	}
	delete(in.gaps, res.Device)
	return g
}

// job is one message being handled: what it came as, what it decoded to,
// and what the steps of handle learnt of it so far.
type job struct {
	subject  string
	data     []byte
	received time.Time
	b        *wire.Batch
	recs     []*checkin.Record
	res      Result

	hashes  []checkin.Hash          // hashes[i]: chain hash after recs[i]
	state   store.DeviceState       // the device's stored chain state
	stored  map[uint64]checkin.Hash // stored chain hashes from the batch's prev to its head
	fresh   []int                   // indexes of records not yet stored
	persons []checkin.Personal      // persons[i]: the opened part of recs[i], for i in fresh
	kept    []int                   // indexes of the records in the store.Batch
	refused []uint64                // records of destroyed or dropped days
	days    []daykeys.Day           // their days
}

// rejection is a check's verdict that a message goes to quarantine.
type rejection struct{ reason, detail string }

func (r *rejection) Error() string { return r.reason + ": " + r.detail }

// reject returns the rejection of reason, its detail formatted.
func reject(reason, format string, args ...any) error {
	return &rejection{reason, fmt.Sprintf(format, args...)}
}

// wrap gives a store error the batch's message id.
func (j *job) wrap(err error) error { return fmt.Errorf("batch %s: %w", j.b.MsgID(), err) }

// handle runs the checks of the package doc on one message, in order:
// decode, authorize, verify, continuity, open; then builds the store batch
// and stores it.
func (in *Ingester) handle(ctx context.Context, subject string, data []byte, received time.Time) (Result, error) {
	j, err := decode(subject, data, received)
	if err != nil {
		return in.quarantine(ctx, j.res, nil, nil, subject, data, received, ReasonMalformed, err.Error())
	}
	if err := in.check(ctx, j); err != nil {
		var rej *rejection
		if errors.As(err, &rej) {
			return in.quarantine(ctx, j.res, j.b, j.recs, subject, data, received, rej.reason, rej.detail)
		}
		return j.res, err
	}
	if len(j.fresh) == 0 {
		return j.res, nil // every record stored already
	}
	sb, err := in.buildBatch(ctx, j)
	if err != nil {
		return j.res, err
	}
	n, err := in.commit(ctx, j, sb)
	if err != nil {
		return j.res, err
	}
	return in.finish(ctx, j, n)
}

// decode is check 1. The device is the subject's: NATS lets only that
// device publish on it, whatever the payload claims. On error the job
// holds only the Result of the subject's device.
func decode(subject string, data []byte, received time.Time) (*job, error) {
	_, device, _ := wire.ParseCheckInSubject(subject)
	j := &job{subject: subject, data: data, received: received, res: Result{Device: device}}
	b, recs, err := wire.Decode(data)
	if err != nil {
		return j, err
	}
	j.b, j.recs = b, recs
	if b.Device == device {
		j.res.FirstSeq, j.res.LastSeq = b.FirstSeq(), b.Head.Seq
	}
	return j, nil
}

// check runs checks 2 to 5: a *rejection, or a store error, or nil with
// j.fresh the records to store (none: all duplicates) and j.persons their
// opened parts.
func (in *Ingester) check(ctx context.Context, j *job) error {
	dev, err := in.authorize(ctx, j)
	if err != nil {
		return err
	}
	if err := verify(j.b, dev); err != nil {
		return err
	}
	if err := in.continuity(ctx, j); err != nil || len(j.fresh) == 0 {
		return err
	}
	return in.open(j)
}

// authorize is check 2: subject, device and venue agree, and the device
// is enrolled. It returns the enrolled device.
func (in *Ingester) authorize(ctx context.Context, j *job) (store.Device, error) {
	b := j.b
	venue, device, subjectOK := wire.ParseCheckInSubject(j.subject)
	switch {
	case !subjectOK:
		return store.Device{}, reject(ReasonWrongSubject, "subject is not %s.<venue>.<device>; the batch names device %s at venue %s", wire.CheckInsPrefix, b.Device, b.Venue)
	case device != b.Device || venue != b.Venue:
		return store.Device{}, reject(ReasonWrongSubject, "batch of %s at venue %s on the subject of %s at venue %s", b.Device, b.Venue, device, venue)
	}
	dev, err := in.cfg.Store.Device(ctx, b.Device)
	if errors.Is(err, store.ErrNotFound) {
		return dev, reject(ReasonUnknownDevice, "device %q is not enrolled", b.Device)
	} else if err != nil {
		return dev, j.wrap(err)
	}
	if dev.Venue != b.Venue {
		return dev, reject(ReasonWrongSubject, "device %s is enrolled at venue %s, not %s", b.Device, dev.Venue, b.Venue)
	}
	for _, r := range j.recs {
		if r.Venue != b.Venue {
			return dev, reject(ReasonWrongSubject, "record %d is for venue %s, not %s", r.Seq, r.Venue, b.Venue)
		}
	}
	return dev, nil
}

// verify is check 3: the signature and the chain up to the signed head.
func verify(b *wire.Batch, dev store.Device) error {
	if err := b.Verify(dev.PublicKey); err != nil {
		if errors.Is(err, checkin.ErrBadHead) {
			return reject(ReasonBadSignature, "%v", err)
		}
		return reject(ReasonBrokenChain, "%v", err)
	}
	return nil
}

// continuity is check 4: it finds the records not yet stored (j.fresh;
// a stored record that differs is a conflict) and, when there are some,
// whether the batch continues the device's chain (j.res.Break) or is to
// be held back after a gap (a *heldError).
func (in *Ingester) continuity(ctx context.Context, j *job) error {
	var err error
	if j.state, err = in.cfg.Store.State(ctx, j.b.Device); err != nil {
		return j.wrap(err)
	}
	j.hashes = make([]checkin.Hash, len(j.recs))
	h := j.b.Prev
	for i, raw := range j.b.Records {
		h = checkin.Next(h, raw)
		j.hashes[i] = h
	}
	if err := in.readStored(ctx, j); err != nil {
		return err
	}
	if err := in.findFresh(ctx, j); err != nil {
		return err
	}
	j.res.Duplicates = len(j.recs) - len(j.fresh)
	if len(j.fresh) == 0 {
		return nil
	}
	return in.findBreak(j)
}

// readStored reads the stored chain hashes from the batch's prev to its
// head, when the device's chain reaches past prev.
func (in *Ingester) readStored(ctx context.Context, j *job) error {
	prev := j.res.FirstSeq - 1
	if prev >= j.state.LastSeq {
		return nil
	}
	j.stored = make(map[uint64]checkin.Hash)
	err := in.cfg.Store.CheckIns(ctx, j.b.Device, max(prev, 1), func(c store.CheckIn) bool {
		if c.Seq > j.b.Head.Seq {
			return false
		}
		j.stored[c.Seq] = c.Hash
		return true
	})
	if err != nil {
		return j.wrap(err)
	}
	return nil
}

// findFresh sets j.fresh to the records not yet stored; a record stored
// with another hash is a conflict.
func (in *Ingester) findFresh(ctx context.Context, j *job) error {
	for i, r := range j.recs {
		sh, ok := j.stored[r.Seq]
		switch {
		case !ok && r.Seq <= j.state.LastSeq:
			// Not stored, below the device's last: a hole being filled, or
			// a record stored under an earlier leaf whose day was dropped
			// since (a duplicate, provably).
			_, err := in.cfg.Store.BatchLeaf(ctx, j.b.Device, r.Seq)
			if errors.Is(err, store.ErrNotFound) {
				j.fresh = append(j.fresh, i)
			} else if err != nil {
				return j.wrap(err)
			}
		case !ok:
			j.fresh = append(j.fresh, i)
		case sh != j.hashes[i]:
			return reject(ReasonConflict, "record %d differs from the stored record %s/%d", r.Seq, j.b.Device, r.Seq)
		}
	}
	return nil
}

// findBreak sets j.res.Break when the batch does not continue the stored
// chain, or returns a *heldError when it is to wait for the records
// before it (Config.GapWait).
func (in *Ingester) findBreak(j *job) error {
	b, state, res := j.b, j.state, &j.res
	first, prev := res.FirstSeq, res.FirstSeq-1
	switch {
	case prev == state.LastSeq:
		if b.Prev != state.LastHash {
			res.Break, res.Detail = ReasonChainBreak, fmt.Sprintf("batch %d-%d: prev hash differs from the stored hash of record %d", first, b.Head.Seq, prev)
		}
	case prev == 0:
		if b.Prev != checkin.Genesis(b.Device) {
			res.Break, res.Detail = ReasonChainBreak, fmt.Sprintf("batch %d-%d: prev hash is not the device's genesis hash", first, b.Head.Seq)
		}
	case prev < state.LastSeq:
		if sh, ok := j.stored[prev]; !ok {
			res.Break, res.Detail = ReasonSequenceGap, fmt.Sprintf("batch %d-%d: record %d is missing (last stored %d)", first, b.Head.Seq, prev, state.LastSeq)
		} else if sh != b.Prev {
			res.Break, res.Detail = ReasonChainBreak, fmt.Sprintf("batch %d-%d: prev hash differs from the stored hash of record %d", first, b.Head.Seq, prev)
		}
	default:
		res.Break, res.Detail = ReasonSequenceGap, fmt.Sprintf("batch %d-%d: records %d-%d are missing", first, b.Head.Seq, state.LastSeq+1, prev)
		in.qmu.Lock()
		explained := in.quarantinedTo[b.Device] >= prev
		in.qmu.Unlock()
		if in.cfg.GapWait > 0 && !explained {
			if d, hold := in.holdGap(b.Device, state.LastSeq, prev, first); hold {
				// The missing records are most likely in the stream
				// already, or being resent (a batch that failed while the
				// next one went through, a redelivery after a central
				// restart): wait for them rather than raise a false alarm.
				return &heldError{batch: b.MsgID(), retry: d}
			}
		}
	}
	return nil
}

// open is check 5: every new sealed part opens.
func (in *Ingester) open(j *job) error {
	j.persons = make([]checkin.Personal, len(j.recs))
	if i, err := in.openAll(j.recs, j.fresh, j.persons); err != nil {
		return reject(ReasonCannotOpen, "record %d: %v", j.recs[i].Seq, err)
	}
	return nil
}

// buildBatch is step 6 up to the store: the clock correction, the break
// entry and the store's records, each re-sealed under its day's key.
// Records of a day destroyed (its key) are refused (j.refused), never
// taken for duplicates: see refuse.
func (in *Ingester) buildBatch(ctx context.Context, j *job) (store.Batch, error) {
	b := j.b
	sb := store.Batch{Device: b.Device, LastSeq: b.Head.Seq, LastHash: b.Head.Hash, Records: make([]store.CheckIn, 0, len(j.fresh))}
	clk, err := in.newClock(ctx, b, j.received)
	if err != nil {
		return sb, j.wrap(err)
	}
	if start, ok := clk.sentStart(); ok {
		sb.Boots = map[[16]byte]time.Time{b.Sent.Boot: start}
	}
	var flags uint32
	if j.res.Break != "" {
		flags = store.FlagAfterBreak
		if sb.Break, err = in.breakEntry(ctx, j); err != nil {
			return sb, j.wrap(err)
		}
	}
	j.kept = make([]int, 0, len(j.fresh))
	for _, i := range j.fresh {
		c, ok, err := in.checkIn(ctx, j, clk, i, flags)
		if err != nil {
			return sb, j.wrap(err)
		}
		if ok {
			j.kept = append(j.kept, i)
			sb.Records = append(sb.Records, c)
		}
	}
	return sb, nil
}

// breakEntry returns the quarantine entry that records the batch's break,
// within the device's quota.
func (in *Ingester) breakEntry(ctx context.Context, j *job) (*store.Quarantine, error) {
	e := store.Quarantine{Device: j.b.Device, Subject: j.subject, Reason: j.res.Break, Detail: j.res.Detail, Received: j.received,
		First: j.res.FirstSeq, Last: j.b.Head.Seq}
	in.sealPayload(&e, j.data, j.recs)
	e, _, err := in.quota(ctx, e, true)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// checkIn returns the stored form of the record j.recs[i], its time
// corrected and its personal part re-sealed under its day's key; ok false
// when its day is destroyed (the record is then in j.refused).
func (in *Ingester) checkIn(ctx context.Context, j *job, clk *batchClock, i int, flags uint32) (_ store.CheckIn, ok bool, _ error) {
	r := j.recs[i]
	t, ok, err := clk.correct(ctx, r)
	if err != nil {
		return store.CheckIn{}, false, err
	}
	if !ok {
		flags |= store.FlagUncorrected
		j.res.Uncorrected++
	}
	sealed, tag := r.Sealed, [16]byte{}
	if in.cfg.DayKeys != nil {
		// Re-seal under the day key: once the day is destroyed no copy
		// of the store can be read, also with the province's key.
		sealed, tag, err = in.daySeal(r, t, &j.persons[i])
		if errors.Is(err, daykeys.ErrDestroyed) {
			j.refused, j.days = append(j.refused, r.Seq), append(j.days, daykeys.DayOf(t))
			return store.CheckIn{}, false, nil // past the 28-day retention on arrival: not kept
		}
		if err != nil {
			return store.CheckIn{}, false, err
		}
	}
	return store.CheckIn{
		Device:   r.Device,
		Seq:      r.Seq,
		Venue:    r.Venue,
		Kind:     r.Kind,
		RawWall:  r.Wall,
		Quality:  r.Quality,
		Boot:     r.Boot,
		Mono:     r.Mono,
		Time:     t,
		Sealed:   sealed,
		Tag:      tag,
		Flags:    flags,
		Received: j.received,
		Hash:     j.hashes[i],
	}, true, nil
}

// commit stores sb in one transaction, with the batch's ledger leaf, and
// returns how many records were new. Records of days the store dropped
// (out of band, or by retention meanwhile) are refused like destroyed
// ones (j.refused) and the rest stored.
func (in *Ingester) commit(ctx context.Context, j *job, sb store.Batch) (int, error) {
	b := j.b
	for {
		// The batch's ledger leaf, appended in Ingest's transaction.
		leaf := ledgerstore.NewBatch(b.Device, j.res.FirstSeq, b.Head.Seq, b.Head.Hash, sha256.Sum256(j.data), sb.Records) // stored lines: the data audit
		var err error
		if sb.Leaf, err = leaf.MarshalText(); err != nil {
			return 0, j.wrap(err)
		}
		n, err := in.cfg.Store.Ingest(ctx, sb)
		seqs, dropped := errDayDropped(err)
		if !dropped {
			if err != nil {
				return 0, j.wrap(err)
			}
			return n, nil
		}
		gone := make(map[uint64]bool, len(seqs))
		for _, seq := range seqs {
			gone[seq] = true
		}
		keep := 0
		for k, c := range sb.Records {
			if gone[c.Seq] {
				j.refused, j.days = append(j.refused, c.Seq), append(j.days, daykeys.DayOf(c.Time))
				continue
			}
			sb.Records[keep], j.kept[keep] = c, j.kept[k]
			keep++
		}
		if keep == len(sb.Records) {
			return 0, j.wrap(err) // names none of the batch's records
		}
		sb.Records, j.kept = sb.Records[:keep], j.kept[:keep]
	}
}

// finish records the refused records, tells Config.Seen who checked in,
// clears the opened parts and completes the Result of a stored batch of
// n new records.
func (in *Ingester) finish(ctx context.Context, j *job, n int) (Result, error) {
	res := &j.res
	if len(j.refused) > 0 {
		slices.Sort(j.refused)
		if err := in.refuse(ctx, res, j.b, j.subject, j.data, j.received, j.refused, j.days); err != nil {
			return *res, err
		}
	}
	if in.cfg.Seen != nil && n > 0 {
		seen := make([][16]byte, 0, len(j.kept))
		for _, i := range j.kept {
			seen = append(seen, j.persons[i].Pseudonym)
		}
		in.cfg.Seen(seen)
	}
	for i := range j.persons {
		clear(j.persons[i].Pseudonym[:])
	}
	res.Stored, res.Duplicates = n, len(j.recs)-n-res.Expired
	if n < len(j.fresh) {
		// Another worker stored some of them meanwhile: count only ours.
		res.Uncorrected = min(res.Uncorrected, n)
	}
	if n == 0 {
		res.Break, res.Detail = "", "" // the store kept no break entry either
	}
	return *res, nil
}

// minPerWorker is the fewest sealed parts worth a goroutine of their own.
const minPerWorker = 16

// openAll opens the sealed parts of recs[i] for i in idx into out[i], on
// up to OpenWorkers goroutines. It returns the index of the first failure:
// the province must be able to read every record before any is stored.
// The personal parts are only ever re-sealed under their day key, never
// stored or logged in clear.
func (in *Ingester) openAll(recs []*checkin.Record, idx []int, out []checkin.Personal) (int, error) {
	open := func(idx []int) (int, error) {
		for _, i := range idx {
			in.opening <- struct{}{}
			p, err := checkin.Open(recs[i].Sealed, in.cfg.SealPub, in.cfg.SealPriv)
			<-in.opening
			// Let a goroutine that became ready meanwhile (the commit back
			// from an fsync) run now rather than after this batch.
			runtime.Gosched()
			if err != nil {
				return i, err
			}
			out[i] = p
		}
		return -1, nil
	}
	workers := min(in.cfg.OpenWorkers, (len(idx)+minPerWorker-1)/minPerWorker)
	if workers <= 1 {
		return open(idx)
	}
	type failure struct {
		i   int
		err error
	}
	fails := make([]failure, workers)
	var wg sync.WaitGroup
	per := (len(idx) + workers - 1) / workers
	for w := range workers {
		chunk := idx[min(w*per, len(idx)):min((w+1)*per, len(idx))]
		wg.Go(func() {
			i, err := open(chunk)
			fails[w] = failure{i, err}
		})
	}
	wg.Wait()
	for _, f := range fails { // chunks are in order: the first failure wins
		if f.err != nil {
			return f.i, f.err
		}
	}
	return -1, nil
}

// daySeal seals a record's personal part under the key of its (corrected)
// KST day and computes its lookup tag, and clears the plaintext.
func (in *Ingester) daySeal(r *checkin.Record, t time.Time, p *checkin.Personal) ([]byte, [16]byte, error) {
	day := daykeys.DayOf(t)
	tag, err := in.cfg.DayKeys.Tag(day, p.Pseudonym)
	if err != nil {
		return nil, tag, err
	}
	var buf [checkin.PersonalLen]byte
	sealed, err := in.cfg.DayKeys.Seal(day, p.AppendBinary(buf[:0]), daykeys.AD(r.Device, r.Seq))
	clear(buf[:])
	return sealed, tag, err
}

// errGapWait marks a batch held back by Config.GapWait.
var errGapWait = errors.New("waiting for the records before it")

// heldError is the error of a batch held back: it is to be tried again
// after retry. It is errGapWait.
type heldError struct {
	batch string
	retry time.Duration
}

func (e *heldError) Error() string        { return "batch " + e.batch + ": " + errGapWait.Error() }
func (e *heldError) Is(target error) bool { return target == errGapWait }

package ingest

import (
	"context"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// Clock correction (docs/sync.md): the JetStream timestamp T of a message
// is taken as the true time the kiosk sent it, so the sending boot started
// at T − Sent.Mono. A record whose wall clock the kiosk did not trust
// (quality unsynced) gets boot start + its monotonic offset when its boot's
// start is known: from this batch, or from the store (an earlier batch of
// that boot). Otherwise it keeps its raw time and is flagged uncorrected.
// Records whose clock was trusted (ntp-synced, rtc) keep their wall time.
//
// Every estimate of a boot's start is late by the transit time of the
// message, so the earliest one is the best: the store keeps the earliest,
// and a batch uses the earlier of its own and the stored one.

var zeroBoot [16]byte

// bootStart returns the start of the sending boot implied by a batch sent
// at stamp and stored in the stream at t.
func bootStart(sent wire.Stamp, t time.Time) (time.Time, bool) {
	if sent.Boot == zeroBoot || sent.Mono < 0 || t.IsZero() {
		return time.Time{}, false
	}
	return t.Add(-sent.Mono), true
}

// correct returns the corrected time of r given the start of its boot, if
// known, and whether it was corrected (or needed none).
func correct(r *checkin.Record, start time.Time, known bool) (time.Time, bool) {
	switch {
	case r.Quality == checkin.NTPSynced || r.Quality == checkin.RTC:
		return r.Wall, true
	case !known || r.Mono < 0:
		return r.Wall, false
	}
	return start.Add(r.Mono).UTC(), true
}

// batchClock corrects the records of one batch, looking boot starts up in
// the store once per boot.
type batchClock struct {
	sent   wire.Stamp
	lookup func(ctx context.Context, boot [16]byte) (time.Time, bool, error)
	starts map[[16]byte]knownStart
}

type knownStart struct {
	t  time.Time
	ok bool
}

func (in *Ingester) newClock(ctx context.Context, b *wire.Batch, t time.Time) (*batchClock, error) {
	c := &batchClock{
		sent: b.Sent,
		lookup: func(ctx context.Context, boot [16]byte) (time.Time, bool, error) {
			return in.cfg.Store.BootStart(ctx, b.Device, boot)
		},
		starts: make(map[[16]byte]knownStart),
	}
	if s, ok := bootStart(b.Sent, t); ok {
		stored, sok, err := c.lookup(ctx, b.Sent.Boot)
		if err != nil {
			return nil, err
		}
		if sok && stored.Before(s) {
			s = stored
		}
		c.starts[b.Sent.Boot] = knownStart{s, true}
	}
	return c, nil
}

// sentStart returns the best start of the sending boot.
func (c *batchClock) sentStart() (time.Time, bool) {
	s, ok := c.starts[c.sent.Boot]
	return s.t, ok && s.ok
}

// correct returns r's corrected time and whether it could be corrected.
func (c *batchClock) correct(ctx context.Context, r *checkin.Record) (time.Time, bool, error) {
	if r.Quality != checkin.Unsynced {
		t, ok := correct(r, time.Time{}, false)
		return t, ok, nil
	}
	if r.Boot == zeroBoot {
		return r.Wall, false, nil
	}
	if r.Boot == c.sent.Boot && r.Mono > c.sent.Mono {
		// Taken after the batch was sent: the stamps are inconsistent.
		return r.Wall, false, nil
	}
	s, seen := c.starts[r.Boot]
	if !seen {
		t, ok, err := c.lookup(ctx, r.Boot)
		if err != nil {
			return time.Time{}, false, err
		}
		s = knownStart{t, ok}
		c.starts[r.Boot] = s
	}
	t, ok := correct(r, s.t, s.ok)
	return t, ok, nil
}

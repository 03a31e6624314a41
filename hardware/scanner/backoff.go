package scanner

import (
	"context"
	"math/rand/v2"
	"time"
)

// Default reconnect backoff bounds for [Serial] and [Evdev].
const (
	DefaultBackoffMin = 200 * time.Millisecond
	DefaultBackoffMax = 5 * time.Second
)

// backoff is a jittered exponential backoff: each wait is drawn uniformly
// from [d/2, d], where d doubles from min up to max. The jitter keeps many
// kiosks on one power circuit from hammering their USB buses in lock-step.
type backoff struct {
	min, max time.Duration
	next     time.Duration
	rand     func() float64 // in [0, 1); nil means math/rand/v2
}

// wait returns the next delay and advances the backoff.
func (b *backoff) wait() time.Duration {
	if b.next < b.min {
		b.next = b.min
	}
	d := b.next
	b.next = min(2*b.next, b.max)
	r := b.rand
	if r == nil {
		r = rand.Float64
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// reset starts the backoff again from min, after a healthy connection.
func (b *backoff) reset() { b.next = b.min }

// sleep waits for d or until ctx is done, whichever comes first, and
// reports ctx.Err() in the latter case.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// supervise runs session again and again until ctx is done, waiting a
// backoff between runs. session calls healthy once the device works (it
// opened and a read succeeded), which restarts the backoff from its minimum;
// a device that opens and fails at once keeps backing off. Every error a
// session returns is passed to report (if not nil) unless ctx is done.
// supervise returns ctx.Err().
func supervise(ctx context.Context, b *backoff, report func(error), session func(ctx context.Context, healthy func()) error) error {
	for {
		err := session(ctx, b.reset)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && report != nil {
			report(err)
		}
		if err := sleep(ctx, b.wait()); err != nil {
			return err
		}
	}
}

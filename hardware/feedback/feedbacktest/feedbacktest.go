// Package feedbacktest provides a fake [feedback.Indicator] for tests of code
// that reports scan outcomes to the visitor.
package feedbacktest

import (
	"context"
	"slices"
	"sync"

	"github.com/anshim/anshim/hardware/feedback"
)

// Recorder is a [feedback.Indicator] that records the events it is shown.
//
// If C is not nil, Indicate also sends each event on it (waiting until it is
// received or ctx is done), so a test can wait for the next event. If Err is
// set, Indicate records the event and then returns Err, to simulate a
// failing LED or buzzer. Set C and Err before use.
type Recorder struct {
	C   chan feedback.Event
	Err error

	mu     sync.Mutex
	events []feedback.Event
}

var _ feedback.Indicator = (*Recorder)(nil)

// Indicate implements [feedback.Indicator].
func (r *Recorder) Indicate(ctx context.Context, ev feedback.Event) error {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.C != nil {
		select {
		case r.C <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return r.Err
}

// Events returns the events shown so far, oldest first.
func (r *Recorder) Events() []feedback.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

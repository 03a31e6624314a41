// Package scannertest provides a fake [scanner.Scanner] for tests of code
// that consumes scans, in the style of periph.io's gpiotest: exported
// channels to inject scans and faults.
package scannertest

import (
	"context"
	"time"

	"github.com/anshim/anshim/hardware/scanner"
)

// Fake is a [scanner.Scanner] whose scans come from a channel.
//
// Send a [scanner.Scan] on Scans and Run hands it to emit; a zero At is
// stamped with Now, and an empty Source or a false Exit take the Fake's
// Source and Exit. Send an error on Errs and Run returns it, as a real
// scanner does for a fault retrying cannot fix. Closing Scans makes the Fake
// a device that never reads anything again.
//
// Make a Fake with [New] (or set the channels yourself); its fields must not
// be changed while Run is running.
type Fake struct {
	// Scans injects scans.
	Scans chan scanner.Scan
	// Errs injects a fatal error: Run returns it.
	Errs chan error
	// Source and Exit fill in injected scans that leave them unset.
	Source string
	Exit   bool
	// Now stamps injected scans that have a zero At; nil means time.Now.
	Now func() time.Time
	// Started, if not nil, receives a value each time Run starts, so a test
	// can wait for the consumer to be running.
	Started chan struct{}
}

var _ scanner.Scanner = (*Fake)(nil)

// New returns a Fake named source, with unbuffered channels, so that Send
// returns only once Run has taken the scan.
func New(source string) *Fake {
	return &Fake{
		Scans:   make(chan scanner.Scan),
		Errs:    make(chan error),
		Source:  source,
		Started: make(chan struct{}, 1),
	}
}

// Run implements [scanner.Scanner]. It returns ctx.Err() when ctx is done,
// or the first error received on Errs.
func (f *Fake) Run(ctx context.Context, emit func(scanner.Scan)) error {
	if f.Started != nil {
		select {
		case f.Started <- struct{}{}:
		default:
		}
	}
	scans := f.Scans
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-f.Errs:
			return err
		case s, ok := <-scans:
			if !ok {
				scans = nil // a closed channel: nothing more to read
				continue
			}
			if s.Source == "" {
				s.Source = f.Source
			}
			s.Exit = s.Exit || f.Exit
			if s.At.IsZero() {
				now := f.Now
				if now == nil {
					now = time.Now
				}
				s.At = now()
			}
			emit(s)
		}
	}
}

// Send injects a scan of text, waiting until Run takes it or ctx is done.
func (f *Fake) Send(ctx context.Context, text string) error {
	select {
	case f.Scans <- scanner.Scan{Text: text}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

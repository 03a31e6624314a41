package feedback

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// Default signal timings for [GPIO].
const (
	DefaultBeepShort  = 100 * time.Millisecond
	DefaultBeepGap    = 100 * time.Millisecond
	DefaultBeepLong   = 600 * time.Millisecond
	DefaultHold       = 2 * time.Second
	DefaultRelayPulse = 3 * time.Second
)

// ErrClosed is returned by [GPIO.Indicate] after [GPIO.Close].
var ErrClosed = errors.New("feedback: indicator closed")

// Clock is the time source of a [GPIO] indicator. Tests use a fake one to
// step through signals without sleeping.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// SleepUntil waits until t, or until ctx is done (then it returns
	// ctx.Err()). It returns at once if t is not in the future.
	SleepUntil(ctx context.Context, t time.Time) error
}

// realClock is the wall clock (with its monotonic reading).
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// GPIOConfig configures a [GPIO] indicator. Zero durations mean their
// defaults.
type GPIOConfig struct {
	// Green, Red, Buzzer and Relay name the output pins for OpenGPIO, as
	// periph.io's gpioreg knows them: "GPIO17", "P1_11" or "17". Green and
	// Red are required; Buzzer and Relay may be empty when not fitted.
	// NewGPIO ignores these names.
	Green, Red, Buzzer, Relay string
	// ActiveLow drives the LEDs and the buzzer Low to turn them on (for
	// example when they hang between 3.3 V and the pin).
	ActiveLow bool
	// RelayActiveLow drives the relay Low to energise it, as most
	// opto-isolated relay boards for the Pi expect.
	RelayActiveLow bool
	// BeepShort is the beep for Accepted, and each of the two beeps for
	// Duplicate; BeepGap is the silence between those two.
	BeepShort, BeepGap time.Duration
	// BeepLong is the beep for Rejected and OutOfOrder.
	BeepLong time.Duration
	// Hold is how long the green or red LED stays lit after an Accepted,
	// Duplicate or Rejected event.
	Hold time.Duration
	// RelayPulse is how long the door relay is energised after Accepted.
	RelayPulse time.Duration
	// Clock times the signals; nil means the real clock.
	Clock Clock
	// OnError, if not nil, receives errors from signals finishing in the
	// background (a pin that fails to switch). It must not block.
	OnError func(error)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// validate reports configuration errors.
func (c GPIOConfig) validate() error {
	for _, d := range []time.Duration{c.BeepShort, c.BeepGap, c.BeepLong, c.Hold, c.RelayPulse} {
		if d < 0 {
			return fmt.Errorf("gpio feedback: negative duration %v", d)
		}
	}
	return nil
}

// output is one fitted output pin.
type output struct {
	pin       gpio.PinOut
	what      string // "green LED", for errors
	activeLow bool
}

func (o *output) set(on bool) error {
	if o == nil {
		return nil // not fitted
	}
	level := gpio.Level(on != o.activeLow)
	if err := o.pin.Out(level); err != nil {
		return fmt.Errorf("gpio feedback: set %s (%s) %s: %w", o.what, o.pin.Name(), level, err)
	}
	return nil
}

// step switches one output at an offset from the start of a signal.
type step struct {
	at  time.Duration
	out *output
	on  bool
}

// track is a signal playing in the background; a newer signal on the same
// track cuts it short.
type track struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// stop cuts the signal short and waits for it to let go of the pins.
func (t *track) stop() {
	if t.cancel != nil {
		t.cancel()
		<-t.done
		t.cancel, t.done = nil, nil
	}
}

// GPIO is an [Indicator] that drives LEDs, a buzzer and a door relay through
// periph.io output pins:
//
//	Accepted     green LED for Hold, one BeepShort beep, relay pulse
//	Duplicate    green LED for Hold, two BeepShort beeps
//	Rejected     red LED for Hold, one BeepLong beep
//	OutOfOrder   red LED until the next event, one BeepLong beep
//
// Indicate switches the outputs for the start of the signal before it
// returns, and lets the rest finish in the background. A newer event cuts
// the LED and buzzer signal of an older one short. The relay pulse runs on
// its own: a later rejection does not relock a door that is being opened,
// and a later acceptance restarts the pulse.
//
// GPIO holds its pins as gpio.PinOut and never reads them: on the Pi's
// GPIO character device, Read on an output line silently turns it into an
// input.
//
// A GPIO is safe for concurrent use.
type GPIO struct {
	cfg                       GPIOConfig
	clock                     Clock
	green, red, buzzer, relay *output

	mu     sync.Mutex
	base   context.Context // cancelled by Close
	cancel context.CancelFunc
	lights track // green, red, buzzer
	door   track // relay
	closed bool
}

var _ Indicator = (*GPIO)(nil)

// OpenGPIO initialises periph.io's host drivers, looks up the pins named in
// cfg and returns a GPIO driving them, with every output off.
func OpenGPIO(cfg GPIOConfig) (*GPIO, error) {
	if cfg.Green == "" || cfg.Red == "" {
		return nil, errors.New("gpio feedback: Green and Red pins are required")
	}
	var seen []string
	for _, n := range []string{cfg.Green, cfg.Red, cfg.Buzzer, cfg.Relay} {
		if n != "" && slices.Contains(seen, n) {
			return nil, fmt.Errorf("gpio feedback: pin %q used twice", n)
		}
		seen = append(seen, n)
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio feedback: init periph.io host drivers: %w", err)
	}
	lookup := func(name, what string) (gpio.PinOut, error) {
		if name == "" {
			return nil, nil
		}
		p := gpioreg.ByName(name)
		if p == nil {
			return nil, fmt.Errorf("gpio feedback: no GPIO pin %q for the %s (this host has %d GPIO pins)", name, what, len(gpioreg.All()))
		}
		return p, nil
	}
	var pins [4]gpio.PinOut
	for i, n := range []struct{ name, what string }{
		{cfg.Green, "green LED"}, {cfg.Red, "red LED"}, {cfg.Buzzer, "buzzer"}, {cfg.Relay, "door relay"},
	} {
		p, err := lookup(n.name, n.what)
		if err != nil {
			return nil, err
		}
		pins[i] = p
	}
	return NewGPIO(pins[0], pins[1], pins[2], pins[3], cfg)
}

// NewGPIO returns a GPIO driving the given pins, with every output off.
// green and red are required; buzzer and relay may be nil when not fitted.
// The pin names in cfg are ignored.
func NewGPIO(green, red, buzzer, relay gpio.PinOut, cfg GPIOConfig) (*GPIO, error) {
	if green == nil || red == nil {
		return nil, errors.New("gpio feedback: green and red LED pins are required")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &GPIO{cfg: cfg, clock: cfg.Clock}
	if g.clock == nil {
		g.clock = realClock{}
	}
	g.cfg.BeepShort = orDefault(cfg.BeepShort, DefaultBeepShort)
	g.cfg.BeepGap = orDefault(cfg.BeepGap, DefaultBeepGap)
	g.cfg.BeepLong = orDefault(cfg.BeepLong, DefaultBeepLong)
	g.cfg.Hold = orDefault(cfg.Hold, DefaultHold)
	g.cfg.RelayPulse = orDefault(cfg.RelayPulse, DefaultRelayPulse)
	g.green = &output{pin: green, what: "green LED", activeLow: cfg.ActiveLow}
	g.red = &output{pin: red, what: "red LED", activeLow: cfg.ActiveLow}
	if buzzer != nil {
		g.buzzer = &output{pin: buzzer, what: "buzzer", activeLow: cfg.ActiveLow}
	}
	if relay != nil {
		g.relay = &output{pin: relay, what: "door relay", activeLow: cfg.RelayActiveLow}
	}
	g.base, g.cancel = context.WithCancel(context.Background())
	if err := g.allOff(); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *GPIO) allOff() error {
	return errors.Join(g.green.set(false), g.red.set(false), g.buzzer.set(false), g.relay.set(false))
}

// signal returns the LED and buzzer steps for ev.
func (g *GPIO) signal(ev Event) []step {
	c := g.cfg
	switch ev.Result {
	case Accepted:
		return []step{
			{0, g.red, false}, {0, g.green, true}, {0, g.buzzer, true},
			{c.BeepShort, g.buzzer, false},
			{c.Hold, g.green, false},
		}
	case Duplicate:
		return []step{
			{0, g.red, false}, {0, g.green, true}, {0, g.buzzer, true},
			{c.BeepShort, g.buzzer, false},
			{c.BeepShort + c.BeepGap, g.buzzer, true},
			{2*c.BeepShort + c.BeepGap, g.buzzer, false},
			{c.Hold, g.green, false},
		}
	case Rejected:
		return []step{
			{0, g.green, false}, {0, g.red, true}, {0, g.buzzer, true},
			{c.BeepLong, g.buzzer, false},
			{c.Hold, g.red, false},
		}
	case OutOfOrder:
		return []step{
			{0, g.green, false}, {0, g.red, true}, {0, g.buzzer, true},
			{c.BeepLong, g.buzzer, false},
		}
	}
	return nil
}

// Indicate implements [Indicator]. It returns after switching the outputs
// for the start of the signal, with an error if a pin failed to switch
// (the rest of the signal still plays).
func (g *GPIO) Indicate(ctx context.Context, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	steps := g.signal(ev)
	if steps == nil {
		return fmt.Errorf("gpio feedback: unknown result %d", int(ev.Result))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	start := g.clock.Now()
	// Every signal sets the LEDs and the buzzer at its start, so nothing
	// of a cut-short signal lingers.
	g.lights.stop()
	err := g.play(&g.lights, start, steps)
	if ev.Result == Accepted && g.relay != nil {
		g.door.stop()
		err = errors.Join(err, g.play(&g.door, start, []step{
			{0, g.relay, true},
			{g.cfg.RelayPulse, g.relay, false},
		}))
	}
	return err
}

// play applies the steps at offset 0 now and the rest in the background on
// track t, timed from start. g.mu must be held.
func (g *GPIO) play(t *track, start time.Time, steps []step) error {
	steps = slices.Clone(steps)
	slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(a.at, b.at) })
	var err error
	for len(steps) > 0 && steps[0].at <= 0 {
		err = errors.Join(err, steps[0].out.set(steps[0].on))
		steps = steps[1:]
	}
	if len(steps) == 0 {
		return err
	}
	ctx, cancel := context.WithCancel(g.base)
	done := make(chan struct{})
	t.cancel, t.done = cancel, done
	go func() {
		defer close(done)
		for _, s := range steps {
			if g.clock.SleepUntil(ctx, start.Add(s.at)) != nil {
				return // cut short
			}
			if err := s.out.set(s.on); err != nil && g.cfg.OnError != nil {
				g.cfg.OnError(err)
			}
		}
	}()
	return err
}

// Close cuts any signal short, turns every output off (the relay too) and
// makes later Indicate calls fail with ErrClosed.
func (g *GPIO) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	g.cancel()
	g.lights.stop()
	g.door.stop()
	return g.allOff()
}

package feedback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// testPin is a fake output pin that records every level written to it, in
// one log shared by all pins so the order across pins is visible, and fails
// the test if anyone reads it (Read would turn a real output line into an
// input). It implements gpio.PinIO so it can be registered with gpioreg.
//
// periph.io's gpiotest.Pin keeps only the latest level; this keeps them all.
type testPin struct {
	name string
	log  *pinLog
	fail error // if set, Out fails with it

	mu    sync.Mutex
	level gpio.Level
	outs  []gpio.Level
	reads int
}

type pinLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *pinLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, s)
}

// take returns the entries since the last take.
func (l *pinLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries
	l.entries = nil
	return e
}

func (p *testPin) String() string                        { return p.name }
func (p *testPin) Halt() error                           { return nil }
func (p *testPin) Name() string                          { return p.name }
func (p *testPin) Number() int                           { return -1 }
func (p *testPin) Function() string                      { return "Out" }
func (p *testPin) Func() pin.Func                        { return gpio.OUT }
func (p *testPin) SupportedFuncs() []pin.Func            { return []pin.Func{gpio.OUT} }
func (p *testPin) SetFunc(pin.Func) error                { return errors.New("not supported") }
func (p *testPin) In(gpio.Pull, gpio.Edge) error         { return errors.New("output only") }
func (p *testPin) WaitForEdge(time.Duration) bool        { return false }
func (p *testPin) Pull() gpio.Pull                       { return gpio.Float }
func (p *testPin) DefaultPull() gpio.Pull                { return gpio.Float }
func (p *testPin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("no PWM") }

// Read counts the read, which the tests then report as a failure.
func (p *testPin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reads++
	return p.level
}

func (p *testPin) get() (gpio.Level, int, []gpio.Level) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level, p.reads, p.outs
}

func (p *testPin) Out(l gpio.Level) error {
	p.mu.Lock()
	if p.fail != nil {
		p.mu.Unlock()
		return p.fail
	}
	p.level = l
	p.outs = append(p.outs, l)
	p.mu.Unlock()
	if p.log != nil {
		p.log.add(fmt.Sprintf("%s=%s", p.name, map[gpio.Level]string{gpio.High: "H", gpio.Low: "L"}[l]))
	}
	return nil
}

var _ gpio.PinIO = (*testPin)(nil)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters map[*fakeWaiter]bool
}

type fakeWaiter struct {
	until time.Time
	ch    chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2021, 1, 4, 9, 0, 0, 0, time.UTC), waiters: map[*fakeWaiter]bool{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if !t.After(c.now) {
		c.mu.Unlock()
		return ctx.Err()
	}
	w := &fakeWaiter{until: t, ch: make(chan struct{})}
	c.waiters[w] = true
	c.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, w)
		c.mu.Unlock()
		return ctx.Err()
	}
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for w := range c.waiters {
		if !w.until.After(c.now) {
			close(w.ch)
			delete(c.waiters, w)
		}
	}
}

func (c *fakeClock) nWaiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// rig is a GPIO on fake pins and a fake clock.
type rig struct {
	g                         *GPIO
	clock                     *fakeClock
	log                       *pinLog
	green, red, buzzer, relay *testPin
	errs                      chan error
}

func newRig(t *testing.T, cfg GPIOConfig, withRelay bool) *rig {
	t.Helper()
	log := &pinLog{}
	r := &rig{
		clock:  newFakeClock(),
		log:    log,
		green:  &testPin{name: "green", log: log},
		red:    &testPin{name: "red", log: log},
		buzzer: &testPin{name: "buzzer", log: log},
		relay:  &testPin{name: "relay", log: log},
		errs:   make(chan error, 10),
	}
	cfg.Clock = r.clock
	cfg.OnError = func(err error) { r.errs <- err }
	var relay gpio.PinOut
	if withRelay {
		relay = r.relay
	}
	g, err := NewGPIO(r.green, r.red, r.buzzer, relay, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.g = g
	t.Cleanup(func() {
		g.Close()
		for _, p := range []*testPin{r.green, r.red, r.buzzer, r.relay} {
			if _, reads, _ := p.get(); reads != 0 {
				t.Errorf("%s was read %d times: Read turns a real output line into an input", p.name, reads)
			}
		}
	})
	return r
}

// settle waits until every running signal is blocked on the clock or done.
func (r *rig) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.g.mu.Lock()
		running := 0
		for _, tr := range []*track{&r.g.lights, &r.g.door} {
			if tr.done != nil {
				select {
				case <-tr.done:
				default:
					running++
				}
			}
		}
		r.g.mu.Unlock()
		if r.clock.nWaiters() == running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("signals did not settle")
		}
		time.Sleep(time.Millisecond)
	}
}

// levels returns the outputs as "G R B D" with 1 for High and 0 for Low.
func (r *rig) levels() string {
	var b strings.Builder
	for i, p := range []*testPin{r.green, r.red, r.buzzer, r.relay} {
		if i > 0 {
			b.WriteByte(' ')
		}
		if l, _, _ := p.get(); l == gpio.High {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

type tick struct {
	after time.Duration // advance the clock by this much, then
	want  string        // expect these levels: green red buzzer relay
}

func (r *rig) play(t *testing.T, ticks []tick) {
	t.Helper()
	for i, tk := range ticks {
		r.clock.advance(tk.after)
		r.settle(t)
		if got := r.levels(); got != tk.want {
			t.Errorf("tick %d (+%v): levels G R B D = %s, want %s", i, tk.after, got, tk.want)
		}
	}
}

var testCfg = GPIOConfig{
	BeepShort:  100 * time.Millisecond,
	BeepGap:    50 * time.Millisecond,
	BeepLong:   600 * time.Millisecond,
	Hold:       2 * time.Second,
	RelayPulse: 3 * time.Second,
}

// Ensure that each event plays its signal: LEDs, beeps and relay switch at
// the right times, in the right order, with no extra toggles.
func TestGPIO_Indicate(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		ev        Event
		relay     bool
		ticks     []tick
		startLog  []string // outputs switched before Indicate returns, in order
		buzzerOut int      // buzzer writes after the initial all-off
	}{
		{
			name: "accepted with relay", ev: Event{Result: Accepted}, relay: true,
			startLog: []string{"red=L", "green=H", "buzzer=H", "relay=H"},
			ticks: []tick{
				{0, "1 0 1 1"}, {99 * ms, "1 0 1 1"}, {1 * ms, "1 0 0 1"},
				{1900 * ms, "0 0 0 1"}, {1000 * ms, "0 0 0 0"}, {time.Hour, "0 0 0 0"},
			},
			buzzerOut: 2,
		},
		{
			name: "accepted exit without relay", ev: Event{Result: Accepted, Exit: true},
			startLog:  []string{"red=L", "green=H", "buzzer=H"},
			ticks:     []tick{{0, "1 0 1 0"}, {100 * ms, "1 0 0 0"}, {1900 * ms, "0 0 0 0"}},
			buzzerOut: 2,
		},
		{
			name: "duplicate beeps twice, no relay", ev: Event{Result: Duplicate}, relay: true,
			startLog: []string{"red=L", "green=H", "buzzer=H"},
			ticks: []tick{
				{0, "1 0 1 0"}, {100 * ms, "1 0 0 0"}, {50 * ms, "1 0 1 0"},
				{100 * ms, "1 0 0 0"}, {1750 * ms, "0 0 0 0"},
			},
			buzzerOut: 4,
		},
		{
			name: "rejected", ev: Event{Result: Rejected, Reason: "expired"}, relay: true,
			startLog:  []string{"green=L", "red=H", "buzzer=H"},
			ticks:     []tick{{0, "0 1 1 0"}, {599 * ms, "0 1 1 0"}, {1 * ms, "0 1 0 0"}, {1400 * ms, "0 0 0 0"}},
			buzzerOut: 2,
		},
		{
			name: "out of order stays red", ev: Event{Result: OutOfOrder, Reason: "disk-full"}, relay: true,
			startLog:  []string{"green=L", "red=H", "buzzer=H"},
			ticks:     []tick{{0, "0 1 1 0"}, {600 * ms, "0 1 0 0"}, {24 * time.Hour, "0 1 0 0"}},
			buzzerOut: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, testCfg, tt.relay)
			if got := r.levels(); got != "0 0 0 0" {
				t.Fatalf("after NewGPIO: levels %s, want all off", got)
			}
			r.log.take()
			if err := r.g.Indicate(context.Background(), tt.ev); err != nil {
				t.Fatal(err)
			}
			if got := r.log.take(); strings.Join(got, " ") != strings.Join(tt.startLog, " ") {
				t.Errorf("switched before Indicate returned: %v, want %v", got, tt.startLog)
			}
			r.play(t, tt.ticks)
			if _, _, outs := r.buzzer.get(); len(outs)-1 != tt.buzzerOut {
				t.Errorf("buzzer written %v, want %d writes after the initial Low", outs, tt.buzzerOut)
			}
		})
	}
}

// Ensure that a newer event cuts the older one's LEDs and beep short, that
// the older signal's pending steps never fire afterwards, that the relay
// pulse is not cut by a rejection, and that an acceptance restarts it.
func TestGPIO_Indicate_CutShort(t *testing.T) {
	ms := time.Millisecond
	ctx := context.Background()
	r := newRig(t, testCfg, true)
	indicate := func(ev Event) {
		t.Helper()
		if err := r.g.Indicate(ctx, ev); err != nil {
			t.Fatal(err)
		}
		r.settle(t)
	}

	indicate(Event{Result: Accepted}) // t=0: green to 2 s, relay to 3 s
	r.play(t, []tick{{50 * ms, "1 0 1 1"}})
	indicate(Event{Result: Rejected, Reason: "revoked"}) // t=50ms: red to 2.05 s, beep to 650 ms
	r.play(t, []tick{
		{0, "0 1 1 1"},
		{100 * ms, "0 1 1 1"},  // t=150ms: the accepted beep's end must not fire
		{500 * ms, "0 1 0 1"},  // t=650ms
		{1400 * ms, "0 0 0 1"}, // t=2.05s
		{949 * ms, "0 0 0 1"},  // t=2.999s: the relay pulse goes on
		{1 * ms, "0 0 0 0"},    // t=3s: and ends on time
	})

	// Accepted twice: the second restarts green and the relay pulse.
	indicate(Event{Result: Accepted}) // T=0
	r.play(t, []tick{{1500 * ms, "1 0 0 1"}})
	indicate(Event{Result: Accepted}) // T=1.5s
	r.play(t, []tick{
		{600 * ms, "1 0 0 1"},  // T=2.1s: first green-off must not fire
		{1000 * ms, "1 0 0 1"}, // T=3.1s: first relay-off must not fire
		{400 * ms, "0 0 0 1"},  // T=3.5s
		{1000 * ms, "0 0 0 0"}, // T=4.5s
	})

	// Out of order holds red until the next event clears it.
	indicate(Event{Result: OutOfOrder})
	r.play(t, []tick{{time.Hour, "0 1 0 0"}})
	indicate(Event{Result: Duplicate})
	r.play(t, []tick{{0, "1 0 1 0"}})
}

// Ensure that ActiveLow and RelayActiveLow invert the levels driven.
func TestGPIO_ActiveLow(t *testing.T) {
	cfg := testCfg
	cfg.ActiveLow = true
	cfg.RelayActiveLow = true
	r := newRig(t, cfg, true)
	r.play(t, []tick{{0, "1 1 1 1"}}) // all off
	if err := r.g.Indicate(context.Background(), Event{Result: Accepted}); err != nil {
		t.Fatal(err)
	}
	r.play(t, []tick{{0, "0 1 0 0"}, {100 * time.Millisecond, "0 1 1 0"}, {3 * time.Second, "1 1 1 1"}})

	cfg.RelayActiveLow = false
	r = newRig(t, cfg, true)
	r.play(t, []tick{{0, "1 1 1 0"}})
}

// Ensure that Indicate returns at once on the real clock even with a long
// relay pulse, that signals finish by themselves, and that Close turns
// everything off without waiting for them.
func TestGPIO_RealClock(t *testing.T) {
	green, red, buzzer, relay := &testPin{name: "green"}, &testPin{name: "red"}, &testPin{name: "buzzer"}, &testPin{name: "relay"}
	g, err := NewGPIO(green, red, buzzer, relay, GPIOConfig{BeepShort: 5 * time.Millisecond, Hold: 20 * time.Millisecond, RelayPulse: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := g.Indicate(context.Background(), Event{Result: Accepted}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("Indicate took %v, want it to return at once", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		gl, _, _ := green.get()
		bl, _, _ := buzzer.get()
		if gl == gpio.Low && bl == gpio.Low {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("green LED and buzzer not off 5 s after a 20 ms signal")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if l, _, _ := relay.get(); l != gpio.High {
		t.Fatal("relay not energised during its pulse")
	}
	start = time.Now()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := relay.get(); l != gpio.Low || time.Since(start) > 100*time.Millisecond {
		t.Errorf("Close: relay %v after %v, want Low at once", l, time.Since(start))
	}
	if err := g.Indicate(context.Background(), Event{Result: Accepted}); !errors.Is(err, ErrClosed) {
		t.Errorf("Indicate after Close = %v, want ErrClosed", err)
	}
}

// Ensure that pin failures are reported with the pin and its role: from
// Indicate for the start of a signal, through OnError for the rest.
func TestGPIO_PinErrors(t *testing.T) {
	r := newRig(t, testCfg, true)
	r.relay.mu.Lock()
	r.relay.fail = errors.New("line busy")
	r.relay.mu.Unlock()
	err := r.g.Indicate(context.Background(), Event{Result: Accepted})
	if err == nil || !strings.Contains(err.Error(), "door relay (relay)") || !strings.Contains(err.Error(), "line busy") {
		t.Errorf("Indicate = %v, want an error naming the door relay pin", err)
	}
	if l, _, _ := r.green.get(); l != gpio.High {
		t.Error("a failing relay kept the green LED off")
	}
	r.clock.advance(3 * time.Second)
	select {
	case err := <-r.errs:
		if !strings.Contains(err.Error(), "door relay") {
			t.Errorf("background error = %v, want it to name the door relay", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("failure to release the relay not reported")
	}
}

// Ensure that bad arguments are refused.
func TestGPIO_Invalid(t *testing.T) {
	p := func(n string) *testPin { return &testPin{name: n} }
	if _, err := NewGPIO(nil, p("r"), nil, nil, GPIOConfig{}); err == nil {
		t.Error("NewGPIO without green succeeded")
	}
	if _, err := NewGPIO(p("g"), p("r"), nil, nil, GPIOConfig{Hold: -time.Second}); err == nil {
		t.Error("NewGPIO with a negative duration succeeded")
	}
	g, err := NewGPIO(p("g"), p("r"), nil, nil, GPIOConfig{}) // no buzzer, no relay
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Indicate(context.Background(), Event{}); err == nil {
		t.Error("Indicate of a zero Event succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Indicate(ctx, Event{Result: Accepted}); !errors.Is(err, context.Canceled) {
		t.Errorf("Indicate with a cancelled context = %v, want context.Canceled", err)
	}
	if err := g.Indicate(context.Background(), Event{Result: Duplicate}); err != nil {
		t.Errorf("Indicate without buzzer and relay = %v", err)
	}
}

// Ensure that OpenGPIO finds pins through periph.io's registry, never reads
// them, and names a missing pin and its role in the error.
func TestOpenGPIO(t *testing.T) {
	pins := map[string]*testPin{}
	for _, n := range []string{"ANSHIM_TEST_G", "ANSHIM_TEST_R", "ANSHIM_TEST_B", "ANSHIM_TEST_D"} {
		p := &testPin{name: n}
		if err := gpioreg.Register(p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gpioreg.Unregister(n) })
		pins[n] = p
	}
	g, err := OpenGPIO(GPIOConfig{Green: "ANSHIM_TEST_G", Red: "ANSHIM_TEST_R", Buzzer: "ANSHIM_TEST_B", Relay: "ANSHIM_TEST_D", RelayActiveLow: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Indicate(context.Background(), Event{Result: Accepted}); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := pins["ANSHIM_TEST_G"].get(); l != gpio.High {
		t.Error("green LED not on")
	}
	if l, _, _ := pins["ANSHIM_TEST_D"].get(); l != gpio.Low {
		t.Error("active-low relay not energised (Low)")
	}
	g.Close()
	for n, p := range pins {
		if _, reads, _ := p.get(); reads != 0 {
			t.Errorf("%s read %d times", n, reads)
		}
	}

	tests := []struct {
		name string
		cfg  GPIOConfig
		want string
	}{
		{"missing pin", GPIOConfig{Green: "ANSHIM_TEST_G", Red: "ANSHIM_NO_SUCH_PIN"}, `"ANSHIM_NO_SUCH_PIN" for the red LED`},
		{"missing relay", GPIOConfig{Green: "ANSHIM_TEST_G", Red: "ANSHIM_TEST_R", Relay: "GPIO99"}, `"GPIO99" for the door relay`},
		{"no green", GPIOConfig{Red: "ANSHIM_TEST_R"}, "required"},
		{"pin twice", GPIOConfig{Green: "ANSHIM_TEST_G", Red: "ANSHIM_TEST_G"}, "used twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OpenGPIO(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OpenGPIO = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

//go:build linux

package scanner

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// fakeDevice is a USB serial scanner simulated with a pseudo-terminal: the
// test writes what the scanner would send to the master, and the Serial
// scanner reads the slave through a /dev/serial/by-id style symlink.
type fakeDevice struct {
	master *os.File
	slave  string // e.g. /dev/pts/3
	link   string
}

// plug makes a new pseudo-terminal and points link at its slave, replacing
// the link atomically as udev would.
func plug(t *testing.T, link string) *fakeDevice {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	name := slave.Name()
	// The Serial scanner opens the slave itself; like a USB device, the
	// pty stays there while the master is open.
	slave.Close()
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(name, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	d := &fakeDevice{master: master, slave: name, link: link}
	t.Cleanup(func() { d.master.Close() })
	return d
}

// unplug closes the master: the slave hangs up and its /dev/pts node goes
// away, as a ttyACM node does when the USB cable is pulled. Like udev, it
// removes the by-id link too (if it still points here): a stale link could
// otherwise lead to whatever device reuses the node number.
func (d *fakeDevice) unplug() {
	if target, err := os.Readlink(d.link); err == nil && target == d.slave {
		os.Remove(d.link)
	}
	d.master.Close()
}

func (d *fakeDevice) send(t *testing.T, s string) {
	t.Helper()
	if _, err := d.master.Write([]byte(s)); err != nil {
		t.Fatalf("write to %s: %v", d.slave, err)
	}
}

// harness runs a Scanner in the background and collects what it reports.
type harness struct {
	scans    chan Scan
	connects chan string
	errs     chan error
	done     chan error
	cancel   context.CancelFunc

	mu       sync.Mutex
	errList  []error
	nConnect int
}

func newHarness() *harness {
	return &harness{
		scans:    make(chan Scan, 100),
		connects: make(chan string, 100),
		errs:     make(chan error, 100),
		done:     make(chan error, 1),
	}
}

func (h *harness) onConnect(dev string) {
	h.mu.Lock()
	h.nConnect++
	h.mu.Unlock()
	h.connects <- dev
}

func (h *harness) onError(err error) {
	h.mu.Lock()
	h.errList = append(h.errList, err)
	h.mu.Unlock()
	select {
	case h.errs <- err:
	default:
	}
}

func (h *harness) start(t *testing.T, s Scanner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- s.Run(ctx, func(sc Scan) { h.scans <- sc }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

// stop cancels Run and reports how long it took to return, and its error.
func (h *harness) stop(t *testing.T) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err // for Cleanup
		return time.Since(start), err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of cancel")
		return 0, nil
	}
}

func (h *harness) connected(t *testing.T) string {
	t.Helper()
	select {
	case dev := <-h.connects:
		return dev
	case <-time.After(5 * time.Second):
		h.mu.Lock()
		defer h.mu.Unlock()
		t.Fatalf("device not opened within 5 s; errors: %v", h.errList)
		return ""
	}
}

func (h *harness) codes(t *testing.T, n int) []Scan {
	t.Helper()
	var got []Scan
	for len(got) < n {
		select {
		case s := <-h.scans:
			got = append(got, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d scans %v within 5 s, want %d", len(got), got, n)
		}
	}
	return got
}

func (h *harness) noMoreScans(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case s := <-h.scans:
		t.Errorf("unexpected scan %+v", s)
	case <-time.After(wait):
	}
}

func texts(scans []Scan) []string {
	var s []string
	for _, sc := range scans {
		s = append(s, sc.Text)
	}
	return s
}

func testLink(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "serial", "by-id")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "usb-Anshim_Test_Scanner_0001-if00")
}

// Ensure that codes arrive with every terminator and framing a scanner can
// be set to, stamped from the injected clock, and that idle read timeouts
// are not mistaken for an unplug.
func TestSerial_Run_Terminators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		writes []string
	}{
		{"CR", []string{"HC1:AB$%*+-./ :1\r", "HC1:X2\r"}},
		{"LF", []string{"HC1:AB$%*+-./ :1\n", "HC1:X2\n"}},
		{"CRLF", []string{"HC1:AB$%*+-./ :1\r\n", "HC1:X2\r\n"}},
		{"CRLF split", []string{"HC1:AB$%*+-./ :1\r", "\nHC1:X", "2\r", "\n"}},
		{"STX ETX", []string{"\x02HC1:AB$%*+-./ :1\x03", "\x02HC1:X2\x03"}},
		{"STX ETX CRLF", []string{"\x02HC1:AB$%*+-./ :1\x03\r\n\x02HC1:X2\x03\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			link := testLink(t)
			dev := plug(t, link)
			at := time.Date(2021, 1, 4, 12, 0, 0, 0, time.UTC)
			h := newHarness()
			s, err := NewSerial(SerialConfig{
				Path:        link,
				Exit:        true,
				Source:      "door-1",
				ReadTimeout: 100 * time.Millisecond,
				Now:         func() time.Time { return at },
				OnConnect:   h.onConnect,
				OnError:     h.onError,
			})
			if err != nil {
				t.Fatal(err)
			}
			h.start(t, s)
			if got := h.connected(t); got != dev.slave {
				t.Errorf("connected to %s, want %s", got, dev.slave)
			}
			for _, w := range tt.writes {
				dev.send(t, w)
				time.Sleep(10 * time.Millisecond)
			}
			got := h.codes(t, 2)
			if want := []string{"HC1:AB$%*+-./ :1", "HC1:X2"}; !slices.Equal(texts(got), want) {
				t.Errorf("codes = %q, want %q", texts(got), want)
			}
			for _, sc := range got {
				if sc.Source != "door-1" || !sc.Exit || !sc.At.Equal(at) {
					t.Errorf("scan %+v: want Source door-1, Exit, At %v", sc, at)
				}
			}
			// Several read timeouts with no data: no reconnect, no error.
			h.noMoreScans(t, 450*time.Millisecond)
			h.mu.Lock()
			if h.nConnect != 1 || len(h.errList) != 0 {
				t.Errorf("idle line: %d connects, errors %v; want 1 connect, no errors", h.nConnect, h.errList)
			}
			h.mu.Unlock()
		})
	}
}

// Ensure that the scanner survives an unplug and a replug onto a different
// device node behind the same by-id link, that a code cut off by the unplug
// is discarded, and that the unplug is reported.
func TestSerial_Run_Replug(t *testing.T) {
	t.Parallel()
	link := testLink(t)
	dev := plug(t, link)
	h := newHarness()
	s, err := NewSerial(SerialConfig{
		Path:        link,
		ReadTimeout: 100 * time.Millisecond,
		BackoffMin:  20 * time.Millisecond,
		BackoffMax:  100 * time.Millisecond,
		OnConnect:   h.onConnect,
		OnError:     h.onError,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.start(t, s)
	h.connected(t)
	dev.send(t, "HC1:BEFORE\r\n")
	if got := texts(h.codes(t, 1)); got[0] != "HC1:BEFORE" {
		t.Fatalf("code = %q, want HC1:BEFORE", got[0])
	}

	dev.send(t, "HC1:CUT-OF")
	time.Sleep(50 * time.Millisecond) // let the scanner read the partial code
	dev.unplug()
	select {
	case err := <-h.errs:
		t.Logf("unplug reported: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("unplug not reported within 5 s")
	}

	// Unplugged for a while: reopening fails and is retried.
	time.Sleep(150 * time.Millisecond)
	// Hold another pty open so the replugged device gets a different node,
	// like ttyACM0 coming back as ttyACM1.
	other, otherSlave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	defer otherSlave.Close()
	dev2 := plug(t, link)
	if got := h.connected(t); got != dev2.slave {
		t.Errorf("reconnected to %s, want %s", got, dev2.slave)
	}
	dev2.send(t, "HC1:AFTER\r\n")
	if got := texts(h.codes(t, 1)); got[0] != "HC1:AFTER" {
		t.Errorf("code after replug = %q, want HC1:AFTER (the cut-off code must be dropped)", got[0])
	}
	h.noMoreScans(t, 100*time.Millisecond)

	// Replug a second time, now by re-pointing the link while the old
	// device is still there: the scanner notices the link moved.
	dev3 := plug(t, link)
	if got := h.connected(t); got != dev3.slave {
		t.Errorf("reconnected to %s, want %s", got, dev3.slave)
	}
	dev3.send(t, "HC1:THIRD\r")
	if got := texts(h.codes(t, 1)); got[0] != "HC1:THIRD" {
		t.Errorf("code after re-pointed link = %q, want HC1:THIRD", got[0])
	}
}

// Ensure that Run returns ctx.Err() promptly after cancellation, both while
// blocked reading an idle device and while waiting out a long backoff for a
// missing one.
func TestSerial_Run_Cancel(t *testing.T) {
	t.Parallel()
	t.Run("reading", func(t *testing.T) {
		t.Parallel()
		link := testLink(t)
		plug(t, link)
		h := newHarness()
		s, err := NewSerial(SerialConfig{Path: link, OnConnect: h.onConnect}) // default read timeout
		if err != nil {
			t.Fatal(err)
		}
		h.start(t, s)
		h.connected(t)
		time.Sleep(50 * time.Millisecond) // inside a read
		took, err := h.stop(t)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if took > time.Second {
			t.Errorf("Run took %v to return after cancel, want under 1 s", took)
		}
	})
	t.Run("backing off", func(t *testing.T) {
		t.Parallel()
		h := newHarness()
		s, err := NewSerial(SerialConfig{
			Path:       filepath.Join(t.TempDir(), "missing"),
			BackoffMin: time.Minute,
			BackoffMax: time.Hour,
			OnError:    h.onError,
		})
		if err != nil {
			t.Fatal(err)
		}
		h.start(t, s)
		select {
		case err := <-h.errs:
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("open error = %v, want os.ErrNotExist", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("missing device not reported")
		}
		took, err := h.stop(t)
		if !errors.Is(err, context.Canceled) || took > time.Second {
			t.Errorf("Run = %v after %v, want context.Canceled within 1 s", err, took)
		}
	})
}

// Ensure that a device missing at start is picked up once it appears.
func TestSerial_Run_LatePlug(t *testing.T) {
	t.Parallel()
	link := testLink(t)
	h := newHarness()
	s, err := NewSerial(SerialConfig{Path: link, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, OnConnect: h.onConnect, OnError: h.onError})
	if err != nil {
		t.Fatal(err)
	}
	h.start(t, s)
	<-h.errs
	dev := plug(t, link)
	h.connected(t)
	dev.send(t, "LATE\r")
	if got := texts(h.codes(t, 1)); got[0] != "LATE" {
		t.Errorf("code = %q, want LATE", got[0])
	}
}

// Ensure that an overlong code is discarded and reported, and the next code
// still arrives.
func TestSerial_Run_TooLong(t *testing.T) {
	t.Parallel()
	link := testLink(t)
	dev := plug(t, link)
	h := newHarness()
	s, err := NewSerial(SerialConfig{Path: link, MaxCodeLen: 16, OnConnect: h.onConnect, OnError: h.onError})
	if err != nil {
		t.Fatal(err)
	}
	h.start(t, s)
	h.connected(t)
	dev.send(t, strings.Repeat("GARBAGE", 100)+"\r\nOK\r\n")
	if got := texts(h.codes(t, 1)); got[0] != "OK" {
		t.Errorf("code = %q, want OK", got[0])
	}
	select {
	case err := <-h.errs:
		if !errors.Is(err, ErrCodeTooLong) {
			t.Errorf("error = %v, want ErrCodeTooLong", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("overlong code not reported")
	}
}

// Ensure that configurations retrying cannot fix are refused up front.
func TestNewSerial_Invalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  SerialConfig
	}{
		{"no path", SerialConfig{}},
		{"bad baud", SerialConfig{Path: "/dev/ttyACM0", Baud: 12345}},
		{"negative timeout", SerialConfig{Path: "/dev/ttyACM0", ReadTimeout: -1}},
		{"backoff inverted", SerialConfig{Path: "/dev/ttyACM0", BackoffMin: time.Second, BackoffMax: time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSerial(tt.cfg); err == nil {
				t.Error("NewSerial succeeded, want an error")
			}
		})
	}
}

// Ensure that the read timeout is rounded the way the terminal driver
// applies it.
func TestSerialConfig_ReadTimeout(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, DefaultReadTimeout},
		{time.Millisecond, 100 * time.Millisecond},
		{250 * time.Millisecond, 200 * time.Millisecond},
		{time.Hour, 25500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := (SerialConfig{ReadTimeout: tt.in}).readTimeoutOrDefault(); got != tt.want {
			t.Errorf("ReadTimeout %v applied as %v, want %v", tt.in, got, tt.want)
		}
	}
}

// scriptedPort is a serial port whose reads return io.EOF, either at once
// (a hung-up line) or after the read timeout (an idle line).
type scriptedPort struct {
	hungUp  bool
	timeout time.Duration
	reads   int
}

func (p *scriptedPort) Read(b []byte) (int, error) {
	p.reads++
	if !p.hungUp {
		time.Sleep(p.timeout)
	}
	return 0, io.EOF
}

func (p *scriptedPort) Close() error { return nil }

// Ensure that tarm/serial's io.EOF is read as a timeout when it took the
// read timeout to arrive, and as a hang-up when it comes back at once, even
// though the device path is still there.
func TestSerial_session_EOF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		hungUp     bool
		wantHangup bool
	}{
		{"idle line times out", false, false},
		{"hung-up line returns at once", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "ttyACM0")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			const timeout = 100 * time.Millisecond
			port := &scriptedPort{hungUp: tt.hungUp, timeout: timeout}
			s, err := NewSerial(SerialConfig{Path: path, ReadTimeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			s.open = func(string, int, time.Duration) (io.ReadCloser, error) { return port, nil }
			ctx, cancel := context.WithTimeout(context.Background(), 4*timeout)
			defer cancel()
			healthy := 0
			err = s.session(ctx, func(Scan) {}, func() { healthy++ })
			if gotHangup := err != nil && strings.Contains(err.Error(), "hung up"); gotHangup != tt.wantHangup {
				t.Errorf("session = %v, want hang-up: %v", err, tt.wantHangup)
			}
			if tt.wantHangup && (port.reads != hangupEOFs || healthy != 0) {
				t.Errorf("hang-up after %d reads, %d healthy; want %d reads, 0 healthy", port.reads, healthy, hangupEOFs)
			}
			if !tt.wantHangup && healthy == 0 {
				t.Error("idle line never reported healthy")
			}
		})
	}
}

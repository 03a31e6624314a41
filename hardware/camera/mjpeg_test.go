package camera

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anshim/anshim/hardware/scanner"
)

// fakeClock is a Clock whose Now advances by step on every call and whose
// After fires at once, advancing the time by the wait.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	step  time.Duration
	waits []time.Duration
}

func newFakeClock(step time.Duration) *fakeClock {
	return &fakeClock{now: time.Date(2020, 12, 21, 9, 0, 0, 0, time.UTC), step: step}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

var _ Clock = (*fakeClock)(nil)

// codeFrame returns a JPEG camera frame showing text (no code if empty).
func codeFrame(t testing.TB, text string) []byte {
	t.Helper()
	if text == "" {
		g := image.NewGray(image.Rect(0, 0, 320, 240))
		for i := range g.Pix {
			g.Pix[i] = byte(150 + i%7)
		}
		return encodeJPEG(t, g)
	}
	return encodeJPEG(t, cleanCode(t, text, 4, 320, 240))
}

// collector gathers emitted scans and signals when it has n.
type collector struct {
	mu    sync.Mutex
	scans []scanner.Scan
	want  int
	done  chan struct{}
}

func newCollector(want int) *collector {
	return &collector{want: want, done: make(chan struct{})}
}

func (c *collector) emit(s scanner.Scan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scans = append(c.scans, s)
	if len(c.scans) == c.want {
		close(c.done)
	}
}

func (c *collector) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.scans {
		out = append(out, s.Text)
	}
	return out
}

// wait waits for the wanted number of scans, then a little longer for any
// extra scan that should not come.
func (c *collector) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out with scans %q", c.texts())
	}
}

// blockingOpen returns an Open function that hands out streams in order
// and then blocks until ctx is done.
func blockingOpen(ctx context.Context, streams ...func() (io.ReadCloser, error)) (open func() (io.ReadCloser, error), calls func() int) {
	var mu sync.Mutex
	n := 0
	calls = func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
	return func() (io.ReadCloser, error) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i < len(streams) {
			return streams[i]()
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}, calls
}

func runScanner(t *testing.T, ctx context.Context, cfg MJPEGConfig, c *collector) chan error {
	t.Helper()
	m, err := NewMJPEG(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, c.emit) }()
	return done
}

// Ensure that codes shown to a live camera (frames through a pipe, at
// camera pace, with frames dropped when decoding lags) are emitted once
// each, in order, with the configured source and exit flag.
func TestMJPEG_Run_Pipe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	open, _ := blockingOpen(ctx, func() (io.ReadCloser, error) { return pr, nil })
	c := newCollector(3)
	clock := newFakeClock(33 * time.Millisecond)
	done := runScanner(t, ctx, MJPEGConfig{Open: open, Source: "cam0", Exit: true, Clock: clock}, c)

	texts := []string{"AN1:ALPHA", "AN1:BRAVO", "AN1:CHARLIE"}
	go func() {
		for _, text := range texts {
			code, none := codeFrame(t, text), codeFrame(t, "")
			for range 8 {
				pw.Write(code)
				time.Sleep(10 * time.Millisecond)
			}
			for range 3 {
				pw.Write(none)
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	c.wait(t)
	time.Sleep(100 * time.Millisecond) // room for a wrong extra scan
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if got := c.texts(); !slices.Equal(got, texts) {
		t.Errorf("scans %q, want %q", got, texts)
	}
	for _, s := range c.scans {
		if s.Source != "cam0" || !s.Exit || s.At.IsZero() {
			t.Errorf("scan %+v: want Source cam0, Exit, a time", s)
		}
	}
}

// Ensure that a stream read from a real fifo (as rpicam-vid -o FIFO
// writes it) gives every code once while in view and again after it was
// out of view for Gone.
func TestMJPEG_Run_Fifo(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "camera.mjpeg")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b, none := codeFrame(t, "AN1:ALPHA"), codeFrame(t, "AN1:BRAVO"), codeFrame(t, "")
	// One decoded frame is 500 ms on the fake clock; Gone is 2 s.
	// A: 0–1 s; B: 2 s; A again at 2.5 s (1.5 s away: no scan); away from
	// 3 s; A at 5.5 s (3 s away: a scan).
	seq := [][]byte{a, a, a, none, b, a, none, none, none, none, none, a, a}
	want := []string{"AN1:ALPHA", "AN1:BRAVO", "AN1:ALPHA"}
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Close()
		for _, f := range seq {
			if _, err := w.Write(f); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	open, _ := blockingOpen(ctx, OpenFile(fifo))
	c := newCollector(len(want))
	clock := newFakeClock(500 * time.Millisecond)
	done := runScanner(t, ctx, MJPEGConfig{Open: open, KeepAll: true, Clock: clock, Gone: 2 * time.Second}, c)
	c.wait(t)
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if got := c.texts(); !slices.Equal(got, want) {
		t.Errorf("scans %q, want %q", got, want)
	}
}

// Ensure that Run reopens the stream after it ends or fails, backing off
// exponentially while streams give no frame, and reports the failures.
func TestMJPEG_Run_Reopen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reader := func(b []byte) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	fail := func() (io.ReadCloser, error) { return nil, errors.New("camera busy") }
	open, calls := blockingOpen(ctx,
		reader(codeFrame(t, "AN1:ONE")),
		fail,
		reader([]byte("garbage\xff\xd8\xff\xdb\x00")), // a truncated frame
		fail,
		reader(codeFrame(t, "AN1:TWO")),
		fail,
	)
	var mu sync.Mutex
	var errs []error
	c := newCollector(2)
	clock := newFakeClock(time.Second)
	done := runScanner(t, ctx, MJPEGConfig{
		Open: open, KeepAll: true, Clock: clock, BackoffMin: time.Second, BackoffMax: 4 * time.Second,
		OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
	}, c)
	c.wait(t)
	for calls() < 7 { // until Run blocks in the seventh Open
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if got, want := c.texts(), []string{"AN1:ONE", "AN1:TWO"}; !slices.Equal(got, want) {
		t.Errorf("scans %q, want %q", got, want)
	}
	clock.mu.Lock()
	waits := clock.waits
	clock.mu.Unlock()
	// A stream with a frame resets the backoff; failures double it.
	wantWaits := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 1 * time.Second, 2 * time.Second}
	if !slices.Equal(waits, wantWaits) {
		t.Errorf("backoff waits %v, want %v", waits, wantWaits)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) < 3 {
		t.Errorf("OnError got %v, want the three failed opens", errs)
	}
}

// Ensure that garbage, truncated and oversized streams neither crash Run
// nor leave goroutines behind after it returns.
func TestMJPEG_Run_GarbageNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	good := codeFrame(t, "AN1:OK")
	big := append([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02}, bytes.Repeat([]byte{0x42}, 3<<20)...)
	streams := [][]byte{
		nil,
		[]byte("\xff\xd8\xff\xd8\xff\xd9\xff\xd8"),
		good[:len(good)/2],
		append(append([]byte(nil), good[:100]...), good...), // cut frame, then a good one
		big,
		bytes.Repeat([]byte{0xFF}, 1<<16),
		append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0xFF, 0xD0}, 1<<15)...),
	}
	ctx, cancel := context.WithCancel(context.Background())
	var i int
	var mu sync.Mutex
	open := func() (io.ReadCloser, error) {
		mu.Lock()
		defer mu.Unlock()
		s := streams[i%len(streams)]
		i++
		return io.NopCloser(bytes.NewReader(s)), nil
	}
	c := newCollector(1)
	done := runScanner(t, ctx, MJPEGConfig{Open: open, Clock: newFakeClock(time.Second), MaxFrameSize: 1 << 20}, c)
	c.wait(t)
	for { // let it go round the streams a few times
		mu.Lock()
		n := i
		mu.Unlock()
		if n > 3*len(streams) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	// The good frame comes round again after more than Gone on the fake
	// clock, so it is scanned again each time.
	for _, got := range c.texts() {
		if got != "AN1:OK" {
			t.Errorf("scan %q, want AN1:OK", got)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Run, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// Ensure that Run returns soon after cancellation even while Open blocks
// (a fifo without a writer) or a read blocks (a pipe without data).
func TestMJPEG_Run_CancelWhileBlocked(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	for name, open := range map[string]func() (io.ReadCloser, error){
		"open": func() (io.ReadCloser, error) { select {} },
		"read": func() (io.ReadCloser, error) { return pr, nil },
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := runScanner(t, ctx, MJPEGConfig{Open: open}, newCollector(1))
			time.Sleep(20 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
	}
}

// Ensure that invalid configurations are refused before any open.
func TestNewMJPEG_Invalid(t *testing.T) {
	open := OpenFile("/dev/null")
	for _, cfg := range []MJPEGConfig{
		{},
		{Open: open, Gone: -1},
		{Open: open, MaxFrameSize: -1},
		{Open: open, BackoffMin: 2 * time.Second, BackoffMax: time.Second},
	} {
		if _, err := NewMJPEG(cfg); err == nil {
			t.Errorf("NewMJPEG(%+v) succeeded", cfg)
		}
	}
	var m MJPEG // a zero MJPEG has no Open
	if err := m.Run(context.Background(), func(scanner.Scan) {}); err == nil {
		t.Error("Run of a zero MJPEG succeeded")
	}
}

// Ensure that a code is emitted when it comes into view, not again while
// it stays, again after Gone out of view, and every Repeat if set.
func TestDedup_Observe(t *testing.T) {
	t0 := time.Date(2020, 12, 21, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type obs struct {
		ms   int
		text string
		emit bool
	}
	tests := []struct {
		name         string
		gone, repeat time.Duration
		seq          []obs
	}{
		{"stays in view", 2 * time.Second, 0, []obs{
			{0, "A", true}, {100, "A", false}, {1900, "A", false}, {3800, "A", false}, {5000, "A", false},
		}},
		{"leaves and returns", 2 * time.Second, 0, []obs{
			{0, "A", true}, {100, "", false}, {1500, "A", false}, {1600, "", false}, {3600, "A", true},
		}},
		{"two codes", 2 * time.Second, 0, []obs{
			{0, "A", true}, {100, "B", true}, {200, "A", false}, {300, "B", false},
		}},
		{"repeat", 2 * time.Second, time.Second, []obs{
			{0, "A", true}, {500, "A", false}, {1000, "A", true}, {1500, "A", false}, {2000, "A", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDedup(tt.gone, tt.repeat)
			for _, o := range tt.seq {
				if got := d.observe(o.text, at(o.ms)); got != o.emit {
					t.Errorf("at %d ms %q: emit %v, want %v", o.ms, o.text, got, o.emit)
				}
			}
		})
	}
}

// Ensure that OpenCommand streams a command's output and that closing the
// stream ends the command.
func TestOpenCommand(t *testing.T) {
	frame := codeFrame(t, "AN1:CMD")
	file := filepath.Join(t.TempDir(), "frame.jpg")
	if err := os.WriteFile(file, frame, 0o644); err != nil {
		t.Fatal(err)
	}
	// cat the frame, then keep the pipe open like a camera would.
	rc, err := OpenCommand("sh", "-c", `cat "$0"; exec sleep 60`, file)()
	if err != nil {
		t.Skipf("no sh: %v", err)
	}
	f, err := NewFrameSplitter(rc, 0).Next()
	if err != nil || !bytes.Equal(f, frame) {
		t.Fatalf("Next = %d bytes, %v", len(f), err)
	}
	start := time.Now()
	if err := rc.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if _, err := OpenCommand("/nonexistent/rpicam-vid")(); err == nil {
		t.Error("OpenCommand of a missing binary succeeded")
	}
}

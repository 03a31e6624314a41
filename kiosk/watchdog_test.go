package kiosk

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
)

// stepClock is an injected clock for Health.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Ensure that Health is healthy while loops are idle or briefly busy, and
// names the loop that is stuck past the limit or stopped.
func TestHealth(t *testing.T) {
	const limit = 10 * time.Second
	type step struct {
		begin   string        // begin work on this loop
		end     string        // end the oldest open work of this loop
		stop    string        // this loop stopped
		advance time.Duration // then move the clock
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  string // "" healthy, else a substring of the error
	}{
		{"idle", []step{{advance: time.Hour}}, ""},
		{"scan in progress below the limit", []step{{begin: "scanner 1", advance: limit - time.Millisecond}}, ""},
		{"scan exactly at the limit", []step{{begin: "scanner 1", advance: limit}}, ""},
		{"scan stuck", []step{{begin: "scanner 1", advance: limit + time.Second}}, "scanner 1 stuck for 11s"},
		{"commit stuck", []step{{begin: "outbox commit", advance: 30 * time.Second}}, "outbox commit stuck for 30s"},
		{"long but finished", []step{{begin: "scanner 1", advance: time.Minute}, {end: "scanner 1"}}, ""},
		{"many short scans", []step{
			{begin: "scanner 1", advance: 5 * time.Second}, {end: "scanner 1"},
			{begin: "scanner 1", advance: 5 * time.Second}, {end: "scanner 1"},
			{begin: "scanner 1", advance: 5 * time.Second}}, ""},
		{"the stuck one of two", []step{
			{begin: "scanner 2", advance: 8 * time.Second},
			{begin: "scanner 1", advance: 3 * time.Second}, {end: "scanner 1"}}, "scanner 2 stuck for 11s"},
		{"the oldest of two stuck", []step{
			{begin: "outbox commit", advance: 5 * time.Second},
			{begin: "scanner 1", advance: 20 * time.Second}}, "outbox commit stuck for 25s"},
		{"scanner stopped", []step{{stop: "scanner 2"}}, "scanner 2 stopped: device gone"},
		{"stopped beats stuck", []step{{begin: "outbox commit", advance: time.Minute}, {stop: "scanner 1"}}, "scanner 1 stopped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &stepClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			h := NewHealth(clk.now, limit)
			open := map[string][]func(){}
			for _, s := range tc.steps {
				if s.begin != "" {
					open[s.begin] = append(open[s.begin], h.Begin(s.begin))
				}
				if s.end != "" {
					open[s.end][0]()
					open[s.end] = open[s.end][1:]
				}
				if s.stop != "" {
					h.Stopped(s.stop, errors.New("device gone"))
				}
				clk.advance(s.advance)
			}
			err := h.Check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check() = %v, want healthy", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Check() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// Ensure that a nil Health takes reports and is healthy (code paths
// without a watchdog).
func TestHealth_Nil(t *testing.T) {
	var h *Health
	h.Begin("scanner 1")()
	h.Stopped("scanner 1", nil)
	if err := h.Check(); err != nil {
		t.Fatal(err)
	}
}

// Ensure that an outbox commit blocked on the file's write lock shows as a
// stuck commit, and as healthy again once it went through.
func TestHealth_OutboxCommitStuck(t *testing.T) {
	e := newEnv(t)
	clk := &stepClock{t: time.Now()}
	h := NewHealth(clk.now, 5*time.Second)
	e.outbox.health.Store(h)
	tx, err := e.outbox.db.Begin(true) // holds bbolt's writer lock: the next commit waits
	if err != nil {
		t.Fatal(err)
	}
	text, _ := e.issue()
	done := make(chan Outcome, 1)
	go func() { done <- e.kiosk.HandleScan(context.Background(), scanner.Scan{Text: text}) }()
	// Wait until the writer has begun the commit (it reports before taking
	// the lock), then let the injected clock pass the limit.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		h.mu.Lock()
		n := len(h.busy)
		h.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the commit never began")
		}
	}
	if err := h.Check(); err != nil {
		t.Fatalf("healthy before the limit: %v", err)
	}
	clk.advance(6 * time.Second)
	if err := h.Check(); err == nil || !strings.Contains(err.Error(), "outbox commit stuck") {
		t.Fatalf("Check() = %v, want the commit stuck", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if out := <-done; out.Result != feedback.Accepted {
		t.Fatalf("scan %+v, want accepted after the lock went", out)
	}
	if err := h.Check(); err != nil {
		t.Fatalf("still unhealthy after the commit: %v", err)
	}
}

// blockingIndicator wedges the scan loop: Indicate waits until release is
// closed.
type blockingIndicator struct {
	release chan struct{}
	entered chan struct{}
}

func (b *blockingIndicator) Indicate(ctx context.Context, _ feedback.Event) error {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}

// notifySocket listens on a unix datagram socket as systemd does for
// Type=notify services and returns its path and the states received.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn") // sun_path is short: not t.TempDir's long path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	states := make(chan string, 1024)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(states)
				return
			}
			for line := range strings.SplitSeq(strings.TrimSpace(string(buf[:n])), "\n") {
				states <- line
			}
		}
	}()
	return path, states
}

// Ensure that a kiosk run by systemd (a real NOTIFY_SOCKET, WATCHDOG_USEC)
// sends READY=1 and then WATCHDOG=1 at half the interval; that the pings
// stop when the scan loop wedges (a scan whose handling never ends) and
// resume when it unwedges; and that it says STOPPING=1 at the end.
func TestRun_SystemdWatchdog(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time watchdog test (about 2 s)")
	}
	e := newEnv(t)
	e.close()
	path, states := notifySocket(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "200000") // WatchdogSec=200ms: a ping every 100 ms
	t.Setenv("WATCHDOG_PID", "")
	notify, interval, err := SystemdNotifier()
	if err != nil || notify == nil || interval != 200*time.Millisecond {
		t.Fatalf("SystemdNotifier() = %v, %v, %v", notify != nil, interval, err)
	}
	ind := &blockingIndicator{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	fake := scannertest.New("test")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Data: e.dir, Feedback: "none", StatusListen: "off"}, Env{
			Scanners: []scanner.Scanner{fake}, Clock: e.clock, Indicator: ind,
			Notify: notify, Watchdog: interval, Health: NewHealth(time.Now, 300*time.Millisecond),
		})
	}()
	next := func(within time.Duration) (string, bool) {
		select {
		case s := <-states:
			return s, true
		case <-time.After(within):
			return "", false
		}
	}
	if s, ok := next(5 * time.Second); s != "READY=1" {
		t.Fatalf("first state %q (%v), want READY=1", s, ok)
	}
	// Four pings, at half the interval: not faster (they can be later
	// on a loaded machine).
	var first time.Time
	for i := range 4 {
		s, ok := next(3 * time.Second)
		if s != "WATCHDOG=1" {
			t.Fatalf("ping %d: got %q (%v), want WATCHDOG=1", i+1, s, ok)
		}
		if i == 0 {
			first = time.Now()
		}
	}
	if d := time.Since(first); d < 250*time.Millisecond {
		t.Fatalf("four pings within %v at a 100 ms interval", d)
	}
	// Wedge the scan loop: the scan's feedback never returns.
	fake.Scans <- scanner.Scan{Text: "not-a-pass", At: e.clock.Now().Wall}
	<-ind.entered
	var unhealthy string
	for deadline := time.Now().Add(5 * time.Second); unhealthy == ""; {
		s, ok := next(time.Until(deadline))
		if !ok {
			t.Fatal("no STATUS=unhealthy within 5 s of the wedge")
		}
		if strings.HasPrefix(s, "STATUS=unhealthy") {
			unhealthy = s
		}
	}
	if !strings.Contains(unhealthy, "scanner 1 stuck") {
		t.Fatalf("status %q does not name the wedged loop", unhealthy)
	}
	if s, ok := next(500 * time.Millisecond); ok {
		t.Fatalf("%q sent while wedged (systemd would not restart)", s)
	}
	close(ind.release)
	if s, _ := next(time.Second); s != "WATCHDOG=1" {
		t.Fatalf("after the unwedge got %q, want WATCHDOG=1", s)
	}
	if s, _ := next(time.Second); s != "STATUS=healthy" {
		t.Fatalf("after the first ping again got %q, want STATUS=healthy", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	stopping := false
	for {
		s, ok := next(100 * time.Millisecond)
		if !ok {
			break
		}
		stopping = stopping || s == "STOPPING=1"
	}
	if !stopping {
		t.Fatal("no STOPPING=1 at the end")
	}
}

// Ensure that a kiosk not run by systemd has no notifier, and that a
// malformed WATCHDOG_USEC is an error.
func TestSystemdNotifier_Env(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if n, iv, err := SystemdNotifier(); n != nil || iv != 0 || err != nil {
		t.Fatalf("outside systemd: %v %v %v", n != nil, iv, err)
	}
	t.Setenv("NOTIFY_SOCKET", "/run/nowhere")
	t.Setenv("WATCHDOG_USEC", "soon")
	if _, _, err := SystemdNotifier(); err == nil {
		t.Fatal("WATCHDOG_USEC=soon accepted")
	}
}

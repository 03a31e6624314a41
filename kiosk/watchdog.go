package kiosk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
)

// DefaultStuckAfter is how long a scan being handled or an outbox commit
// may take before the kiosk counts as wedged and stops pinging the
// service manager's watchdog. A commit on a slow SD card takes tens of
// milliseconds; seconds mean broken storage or a hung driver.
const DefaultStuckAfter = 10 * time.Second

// Health tracks whether the kiosk's loops make progress: each scanner's
// scan handling and the outbox writer's commits report when a unit of
// work begins and ends, and a scanner that stopped for good reports that.
// An idle loop is healthy (nobody scans at night); work in progress for
// longer than the limit, or a stopped scanner, is not. Its clock is
// injected, so the logic is tested without waiting.
//
// The zero Health is not usable; make one with NewHealth. A nil *Health
// accepts every report and is always healthy.
type Health struct {
	now   func() time.Time
	limit time.Duration

	mu      sync.Mutex
	next    uint64
	busy    map[uint64]work // work in progress by token
	stopped map[string]error
}

// work is a unit of work in progress.
type work struct {
	loop  string
	since time.Time
}

// NewHealth returns a Health whose loops are wedged when a unit of work
// takes longer than stuckAfter (zero: DefaultStuckAfter), timed by now
// (nil: time.Now).
func NewHealth(now func() time.Time, stuckAfter time.Duration) *Health {
	if now == nil {
		now = time.Now
	}
	if stuckAfter <= 0 {
		stuckAfter = DefaultStuckAfter
	}
	return &Health{now: now, limit: stuckAfter, busy: map[uint64]work{}, stopped: map[string]error{}}
}

// Begin records that loop started a unit of work (a scan, a commit) and
// returns the function that records its end; call it exactly once.
func (h *Health) Begin(loop string) (end func()) {
	if h == nil {
		return func() {}
	}
	h.mu.Lock()
	h.next++
	tok := h.next
	h.busy[tok] = work{loop: loop, since: h.now()}
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.busy, tok)
		h.mu.Unlock()
	}
}

// Stopped records that loop ended for good with err (a scanner whose
// device failed in a way retrying cannot fix): the kiosk is unhealthy from
// now on, so the service manager restarts it.
func (h *Health) Stopped(loop string, err error) {
	if h == nil {
		return
	}
	if err == nil {
		err = fmt.Errorf("stopped")
	}
	h.mu.Lock()
	h.stopped[loop] = err
	h.mu.Unlock()
}

// Check returns nil while every loop is healthy, or an error naming the
// first loop (by name) that stopped or has been busy longer than the limit,
// and for how long.
func (h *Health) Check() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.stopped) > 0 {
		names := make([]string, 0, len(h.stopped))
		for n := range h.stopped {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("%s stopped: %w", names[0], h.stopped[names[0]])
	}
	now := h.now()
	var worst work
	var age time.Duration
	for _, w := range h.busy {
		if a := now.Sub(w.since); a > h.limit && (a > age || a == age && w.loop < worst.loop) {
			worst, age = w, a
		}
	}
	if age > 0 {
		return fmt.Errorf("%s stuck for %s (limit %s)", worst.loop, age.Round(time.Millisecond), h.limit)
	}
	return nil
}

// Notifier sends a state to the service manager, as sd_notify(3) does
// ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..."). cmd/kiosk passes
// go-systemd's daemon.SdNotify; tests pass their own.
type Notifier func(state string) error

// SystemdNotifier returns the Notifier for the service manager that started
// this process (NOTIFY_SOCKET, a unix datagram socket: unit Type=notify)
// and its watchdog interval (WATCHDOG_USEC, for this process: WatchdogSec=),
// with github.com/coreos/go-systemd/v22/daemon. It returns a nil Notifier
// outside systemd, and a zero interval without a watchdog.
func SystemdNotifier() (Notifier, time.Duration, error) {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return nil, 0, nil
	}
	interval, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil {
		return nil, 0, fmt.Errorf("systemd watchdog: %w", err)
	}
	notify := func(state string) error {
		if _, err := sddaemon.SdNotify(false, state); err != nil {
			return fmt.Errorf("sd_notify %s: %w", strings.SplitN(state, "=", 2)[0], err)
		}
		return nil
	}
	return notify, interval, nil
}

// watchdog pings every interval ("WATCHDOG=1", at half systemd's
// WatchdogSec) while h is healthy, until ctx is done. When h turns
// unhealthy it logs why once and sends no more pings, so systemd kills and
// restarts the kiosk; should h recover first, the pings resume.
func watchdog(ctx context.Context, h *Health, notify Notifier, interval time.Duration, log *slog.Logger) {
	if notify == nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		if err := h.Check(); err != nil {
			if !failing {
				failing = true
				log.Error("watchdog: not healthy, pings stopped: systemd restarts the kiosk", "err", err)
				notify("STATUS=unhealthy: " + err.Error())
			}
		} else {
			if err := notify("WATCHDOG=1"); err != nil {
				log.Warn("watchdog: notify", "err", err)
			}
			if failing {
				failing = false
				log.Warn("watchdog: healthy again, pings resumed")
				notify("STATUS=healthy")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// notifyState sends state if there is a notifier, logging a failure.
func (d *daemon) notifyState(state string) {
	if d.env.Notify == nil {
		return
	}
	if err := d.env.Notify(state); err != nil {
		d.log.Warn("notify service manager", "state", state, "err", err)
	}
}

// startWatchdog sends READY=1 and, when systemd asked for a watchdog,
// starts the pings in d.wg.
func (d *daemon) startWatchdog(ctx context.Context) {
	if d.env.Notify == nil {
		return
	}
	d.notifyState("READY=1")
	d.wg.Go(func() { <-ctx.Done(); d.notifyState("STOPPING=1") })
	if d.env.Watchdog > 0 {
		d.log.Info("watchdog on", "interval", d.env.Watchdog.String(), "stuck_after", d.health.limit.String())
		d.wg.Go(func() { watchdog(ctx, d.health, d.env.Notify, d.env.Watchdog/2, d.log) })
	}
}

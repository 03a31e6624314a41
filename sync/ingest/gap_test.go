package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// fakeClock is an injected clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logLines returns the lines of a text log that contain every sub.
func logLines(log string, subs ...string) []string {
	var out []string
	for line := range strings.Lines(log) {
		ok := true
		for _, sub := range subs {
			ok = ok && strings.Contains(line, sub)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

const heldLine = "msg=\"ingest: batches held back after a gap"

// Ensure that GapWait is measured from when the Ingester first saw the gap,
// not from the messages' stream timestamps (days old after an outage);
// that the missing records arriving bit by bit keep the batch waiting;
// and that a gap never filled is flagged once GapWait has passed, with
// one line per gap whatever the number of hold-backs.
func TestHandle_GapWaitFromFirstSight(t *testing.T) {
	const wait = 2 * time.Minute
	tests := []struct {
		name string
		// steps: "b F-L" handles batch F-L (and wants it held when the
		// step ends in "held"), "+D" moves the clock.
		steps     []string
		wantBreak bool
		wantHeld  int
		wantSeqs  int
	}{
		{
			name:     "filled within the wait",
			steps:    []string{"4-6 held", "+1m59s", "4-6 held", "1-3", "4-6"},
			wantHeld: 2, wantSeqs: 6,
		},
		{
			name:      "never filled: flagged after the wait",
			steps:     []string{"4-6 held", "+1m", "4-6 held", "+59s", "4-6 held", "+1s", "4-6"},
			wantBreak: true, wantHeld: 3, wantSeqs: 3,
		},
		{
			name:     "missing records arrive bit by bit",
			steps:    []string{"4-6 held", "+1m50s", "1-1", "+1m", "4-6 held", "2-2", "+1m", "4-6 held", "3-3", "4-6"},
			wantHeld: 3, wantSeqs: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: truth.Add(30 * 24 * time.Hour)} // every message is a month old
			f := newFixture(t, nil, func(c *Config) { c.GapWait, c.Now = wait, clk.Now })
			k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(6)
			ctx := context.Background()
			for _, step := range tt.steps {
				if d, ok := strings.CutPrefix(step, "+"); ok {
					dd, err := time.ParseDuration(d)
					if err != nil {
						t.Fatal(err)
					}
					clk.Add(dd)
					continue
				}
				rng, held := strings.CutSuffix(step, " held")
				first, last, err := parseRange(rng)
				if err != nil {
					t.Fatal(err)
				}
				subject, data := k.msg(first, last)
				_, err = f.in.Handle(ctx, subject, data, truth.Add(time.Hour))
				if held != errors.Is(err, errGapWait) || err != nil && !held {
					t.Fatalf("step %q: Handle: %v, want held %v\n%s", step, err, held, f.logs)
				}
			}
			st, err := f.store.State(ctx, "k-1")
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Breaks > 0; got != tt.wantBreak || st.Records != uint64(tt.wantSeqs) {
				t.Fatalf("state %+v; want break %v, %d records\n%s", st, tt.wantBreak, tt.wantSeqs, f.logs)
			}
			if got := f.metrics.Held.Load(); got != uint64(tt.wantHeld) {
				t.Errorf("Held %d, want %d", got, tt.wantHeld)
			}
			infos := logLines(f.logs.String(), heldLine)
			breaks := logLines(f.logs.String(), "level=ERROR", "reason=sequence-gap")
			if tt.wantBreak {
				if len(infos) != 0 || len(breaks) != 1 || !strings.Contains(breaks[0], "held=3") {
					t.Errorf("want one ERROR line (held=3), no INFO line; got %q, %q", breaks, infos)
				}
			} else if len(infos) != 1 || len(breaks) != 0 || !strings.Contains(infos[0], "missing_first=1 missing_last=3") {
				t.Errorf("want one INFO line for the gap 1-3, no ERROR line; got %q, %q", infos, breaks)
			}
		})
	}
}

// parseRange parses "F-L".
func parseRange(s string) (first, last uint64, err error) {
	a, b, _ := strings.Cut(s, "-")
	if first, err = strconv.ParseUint(a, 10, 64); err == nil {
		last, err = strconv.ParseUint(b, 10, 64)
	}
	return first, last, err
}

// blockingStore blocks every Ingest until release is closed, then fails
// it without writing: a central stuck in a commit when it is killed.
type blockingStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) Ingest(ctx context.Context, b store.Batch) (int, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return 0, errDisk
}

// Ensure that a central restarted after an outage longer than GapWait,
// on a backlog whose stream timestamps are older than GapWait, raises no
// false sequence gap: the wait starts anew when the restarted central
// first sees the gap, and the missing batch — resent by the kiosk, or
// redelivered after the ack wait of a central killed while it held it —
// fills it. Real embedded NATS; the first central's connection is closed
// without acks, as a SIGKILL does.
func TestRun_NoFalseGapAfterRestart(t *testing.T) {
	tests := []struct {
		name string
		// crashHolding: the first central dies while committing batch
		// 1-3 (it comes back after the ack wait); otherwise the first
		// central only held 4-6 back, and the kiosk publishes 1-3 after
		// the restart.
		crashHolding bool
	}{
		{name: "missing batch resent after the restart"},
		{name: "missing batch with the killed central", crashHolding: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startNATSServer(t)
			nc1, js1 := connect(t, srv.ClientURL())
			_, js2 := connect(t, srv.ClientURL())
			ctx := context.Background()
			if err := EnsureStream(ctx, js2, StreamConfig{}); err != nil {
				t.Fatal(err)
			}
			// The messages are published now; the central's clock is two
			// days on: after an outage, every message is old.
			clk := &fakeClock{t: time.Now().Add(48 * time.Hour)}
			bs := &blockingStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
			f := newFixture(t, func(s store.Store) store.Store {
				if tt.crashHolding {
					bs.Store = s
					return bs
				}
				return s
			}, func(c *Config) {
				testConfig(js1)(c)
				c.AckWait = time.Second
				// The restarted central is pinned before the killed one's
				// batch comes back after the ack wait: it sees the gap.
				c.PinnedTTL = 100 * time.Millisecond
				c.GapRetry = 50 * time.Millisecond
				c.GapWait = 2 * time.Minute
				c.Now = clk.Now
			})
			k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(6)

			ctx1, cancel1 := context.WithCancel(ctx)
			done1 := make(chan error, 1)
			go func() { done1 <- f.in.Run(ctx1) }()
			if tt.crashHolding {
				publish(t, js2, k, 1, 3)
				select {
				case <-bs.entered:
				case <-time.After(15 * time.Second):
					t.Fatal("the first central did not start committing 1-3")
				}
			} else {
				publish(t, js2, k, 4, 6)
				eventually(t, "4-6 held back", func() bool { return f.metrics.Held.Load() >= 2 })
			}
			// SIGKILL: the connection goes, nothing is acked.
			nc1.Close()
			close(bs.release)
			cancel1()
			if err := <-done1; err != nil {
				t.Fatalf("first Run: %v", err)
			}
			clk.Add(3 * time.Minute) // down longer than GapWait

			logs := new(syncBuffer)
			cfg := f.in.cfg
			cfg.JS, cfg.Store, cfg.Metrics = js2, f.store, new(Metrics)
			cfg.Log = slog.New(slog.NewTextHandler(logs, nil))
			in2, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			runIngest(t, in2)
			if tt.crashHolding {
				publish(t, js2, k, 4, 6)
			} else {
				eventually(t, "4-6 held back after the restart", func() bool { return cfg.Metrics.Held.Load() >= 2 })
				clk.Add(time.Minute)
				publish(t, js2, k, 1, 3)
			}
			eventually(t, "the stream drained", func() bool { return drained(t, js2) })
			st, err := f.store.State(ctx, "k-1")
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != 6 || st.LastSeq != 6 || st.Breaks != 0 || st.Quarantined != 0 {
				t.Fatalf("state %+v; want 6 records, no break, nothing quarantined\n%s", st, logs)
			}
			if tt.crashHolding && cfg.Metrics.Held.Load() == 0 {
				t.Errorf("4-6 was never held back: the test did not make a gap\n%s", logs)
			}
			if got := logLines(logs.String(), heldLine); len(got) != 1 {
				t.Errorf("%d INFO lines about the gap after %d hold-backs, want 1:\n%s", len(got), cfg.Metrics.Held.Load(), logs)
			}
		})
	}
}

// Ensure that however often a device's batches are held back after a gap,
// the central logs one line per device and gap, not one per hold-back.
func TestRun_GapLogsOncePerGap(t *testing.T) {
	js := startNATS(t)
	f := newFixture(t, nil, func(c *Config) {
		testConfig(js)(c)
		c.Now = time.Now
		c.GapWait = time.Minute
		c.GapRetry = 20 * time.Millisecond
	})
	ctx := context.Background()
	if err := EnsureStream(ctx, js, StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	var ks []*fakeKiosk
	for _, id := range []string{"k-1", "k-2"} {
		k := newKiosk(t, f.keys, id, "v-1", f.enroll(t, id, "v-1")).addN(9)
		ks = append(ks, k)
		publish(t, js, k, 4, 6)
		publish(t, js, k, 7, 9)
	}
	runIngest(t, f.in)
	eventually(t, "30 hold-backs", func() bool { return f.metrics.Held.Load() >= 30 })
	for _, k := range ks {
		publish(t, js, k, 1, 3)
	}
	eventually(t, "the stream drained", func() bool { return drained(t, js) })
	for _, k := range ks {
		st, err := f.store.State(ctx, k.device)
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != 9 || st.Breaks != 0 {
			t.Fatalf("%s: state %+v; want 9 records, no break\n%s", k.device, st, f.logs)
		}
		if got := logLines(f.logs.String(), heldLine, "device="+k.device); len(got) != 1 {
			t.Errorf("%s: %d lines about its gap, want 1", k.device, len(got))
		}
	}
	held := f.metrics.Held.Load()
	if got := len(logLines(f.logs.String(), "level=INFO")); got > 2+1 { // the two gaps and "consuming"
		t.Errorf("%d INFO lines after %d hold-backs, want 3:\n%s", got, held, f.logs)
	}
	t.Logf("%d hold-backs, %d log lines", held, len(logLines(f.logs.String())))
}

// Ensure that the batches of a device held back after a gap are tried
// again together: a batch arriving while they wait (also after the
// missing records arrived) is held up to the same moment, so that it comes
// back behind them rather than seeing them missing — no new gap, no
// second log line.
func TestHandle_HeldBatchesComeBackTogether(t *testing.T) {
	clk := &fakeClock{t: truth.Add(time.Hour)}
	f := newFixture(t, nil, func(c *Config) { c.GapWait, c.GapRetry, c.Now = time.Minute, time.Second, clk.Now })
	k := newKiosk(t, f.keys, "k-1", "v-1", f.enroll(t, "k-1", "v-1")).addN(12)
	ctx := context.Background()
	steps := []struct {
		batch     string
		advance   time.Duration // before the batch
		wantRetry time.Duration // 0: stored
	}{
		{"4-6", 0, time.Second},
		{"7-9", 300 * time.Millisecond, 700 * time.Millisecond},
		{"1-3", 100 * time.Millisecond, 0},
		{"7-9", 100 * time.Millisecond, 500 * time.Millisecond}, // back early (another worker's NAK)
		// The round is due but 4-6 is not back yet: 10-12 waits briefly
		// and starts no round of its own.
		{"10-12", 600 * time.Millisecond, followRetry},
		{"4-6", 0, 0},
		{"7-9", 0, 0},
		{"10-12", 0, 0},
	}
	for i, s := range steps {
		clk.Add(s.advance)
		first, last, err := parseRange(s.batch)
		if err != nil {
			t.Fatal(err)
		}
		subject, data := k.msg(first, last)
		_, err = f.in.Handle(ctx, subject, data, truth)
		var held *heldError
		switch {
		case s.wantRetry == 0 && err != nil:
			t.Fatalf("step %d (%s): %v, want stored", i, s.batch, err)
		case s.wantRetry > 0 && (!errors.As(err, &held) || held.retry != s.wantRetry):
			t.Fatalf("step %d (%s): %v (%+v), want held for %v", i, s.batch, err, held, s.wantRetry)
		}
	}
	st, err := f.store.State(ctx, "k-1")
	if err != nil || st.Records != 12 || st.Breaks != 0 {
		t.Fatalf("state %+v, %v; want 12 records, no break", st, err)
	}
	if got := logLines(f.logs.String(), heldLine); len(got) != 1 || !strings.Contains(got[0], "held=4") {
		t.Errorf("lines about the gap: %q, want one with held=4", got)
	}
}

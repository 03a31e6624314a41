package uplink_test

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/sync/uplink"
)

// Ensure that ReconnectDelay stays within its full-jitter step — [0,
// min(max, base·2^(n-1))) — and grows to max.
func TestReconnectDelay_Bounds(t *testing.T) {
	const base, maxD = 250 * time.Millisecond, 2 * time.Second
	for _, tt := range []struct {
		n    int
		step time.Duration
	}{
		{1, 250 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{3, time.Second},
		{4, 2 * time.Second},
		{5, 2 * time.Second},
		{1000, 2 * time.Second},
	} {
		if d := uplink.ReconnectDelay(tt.n, base, maxD, 0); d != 0 {
			t.Errorf("attempt %d, rnd 0: %s, want 0", tt.n, d)
		}
		if d := uplink.ReconnectDelay(tt.n, base, maxD, 0.5); d != tt.step/2 {
			t.Errorf("attempt %d, rnd 0.5: %s, want %s", tt.n, d, tt.step/2)
		}
		if d := uplink.ReconnectDelay(tt.n, base, maxD, 0.999999); d >= tt.step || d < tt.step*99/100 {
			t.Errorf("attempt %d, rnd ≈1: %s, want just under %s", tt.n, d, tt.step)
		}
	}
}

// fleetReconnects simulates kiosks that all lost the central at time 0,
// each with its own random source, trying again after delay(n, rnd) before
// attempt n; a connect attempt that fails costs failCost. It returns, per
// kiosk, how long after the central's return at back it reconnected.
func fleetReconnects(kiosks int, back, failCost time.Duration, seed uint64, delay func(n int, rnd float64) time.Duration) []time.Duration {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]time.Duration, kiosks)
	for k := range out {
		at := time.Duration(0)
		for n := 1; ; n++ {
			at += delay(n, r.Float64())
			if at >= back {
				out[k] = at - back
				break
			}
			at += failCost
		}
	}
	return out
}

// spread summarises reconnect times: percentiles and the largest share of
// the fleet arriving within one millisecond.
type spread struct {
	p50, p99, max time.Duration
	mean          time.Duration
	busiestMs     int     // kiosks in the busiest 1 ms bucket
	busiestShare  float64 // of the fleet
}

func spreadOf(lat []time.Duration) spread {
	s := slices.Clone(lat)
	slices.Sort(s)
	buckets := map[time.Duration]int{}
	var sum time.Duration
	busiest := 0
	for _, d := range s {
		sum += d
		b := d.Truncate(time.Millisecond)
		buckets[b]++
		busiest = max(busiest, buckets[b])
	}
	return spread{
		p50: s[len(s)/2], p99: s[len(s)*99/100], max: s[len(s)-1], mean: sum / time.Duration(len(s)),
		busiestMs: busiest, busiestShare: float64(busiest) / float64(len(s)),
	}
}

// Ensure that 50,000 kiosks that lost the central together come back within
// 2 s of its return (p99), 1 s on average, and spread: no millisecond
// receives more than 0.25% of them — after a short, a medium and a long
// outage. The previous reconnect delay (the upper half of a step doubling
// from 1 s to 30 s, still the resend backoff) is measured beside it for
// comparison.
func TestReconnectDelay_FleetSpread(t *testing.T) {
	const kiosks = 50_000
	const failCost = time.Millisecond // a refused connect on the LAN
	current := func(n int, rnd float64) time.Duration {
		return uplink.ReconnectDelay(n, uplink.DefaultReconnectBase, uplink.DefaultReconnectMax, rnd)
	}
	previous := func(n int, rnd float64) time.Duration {
		d := time.Second
		for i := 1; i < n && d < 30*time.Second; i++ {
			d *= 2
		}
		d = min(d, 30*time.Second)
		return d/2 + time.Duration(rnd*float64(d/2))
	}
	for _, tt := range []struct {
		name   string
		outage time.Duration
	}{
		{"restart-1s", time.Second},
		{"outage-10s", 10 * time.Second},
		{"outage-5m", 5 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := spreadOf(fleetReconnects(kiosks, tt.outage, failCost, 1, current))
			old := spreadOf(fleetReconnects(kiosks, tt.outage, failCost, 1, previous))
			t.Logf("%d kiosks, central back after %s: p50 %s, p99 %s, max %s, mean %s; busiest 1 ms: %d kiosks (%.3f%%) [before: p50 %s, p99 %s, max %s]",
				kiosks, tt.outage, s.p50.Round(time.Millisecond), s.p99.Round(time.Millisecond), s.max.Round(time.Millisecond),
				s.mean.Round(time.Millisecond), s.busiestMs, 100*s.busiestShare,
				old.p50.Round(time.Millisecond), old.p99.Round(time.Millisecond), old.max.Round(time.Millisecond))
			if s.p99 > 2*time.Second || s.max > uplink.DefaultReconnectMax+failCost {
				t.Errorf("p99 %s, max %s: want within 2s", s.p99, s.max)
			}
			if s.mean > time.Second {
				t.Errorf("mean %s, want at most 1s", s.mean)
			}
			if s.busiestShare > 0.0025 {
				t.Errorf("%d kiosks (%.2f%%) in one millisecond", s.busiestMs, 100*s.busiestShare)
			}
			// Fewer than 1 in 1,000 kiosks back in the same 1 ms, and the
			// arrivals cover most of the 2 s.
			if s.p99-s.p50 < 500*time.Millisecond {
				t.Errorf("p50 %s and p99 %s too close: not spread", s.p50, s.p99)
			}
		})
	}
}

// Ensure that a kiosk is connected again within 2 s of the central's return
// after an outage long enough for its delays to reach their cap (a real
// embedded nats-server stopped and restarted on the same port).
func TestUplink_ReconnectsWithin2s(t *testing.T) {
	srv := startNATS(t, nil)
	_, js := srv.connect(nil)
	createStream(t, js)
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	var worst time.Duration
	for round := range rounds {
		k := newKiosk(t)
		cfg := k.config(srv.URL, nil) // default reconnect delays
		u, stop := run(t, cfg)
		waitFor(t, 10*time.Second, "the first connect", func() bool { return u.Status().Connected })
		srv.stop()
		waitFor(t, 5*time.Second, "the disconnect", func() bool { return !u.Status().Connected })
		time.Sleep(3 * time.Second) // past attempts 1–3: the delay steps reach 2 s
		srv.start()
		back := time.Now()
		waitFor(t, 10*time.Second, "the reconnect", func() bool { return u.Status().Connected })
		took := time.Since(back)
		t.Logf("round %d: reconnected %s after the server was ready", round+1, took.Round(time.Millisecond))
		worst = max(worst, took)
		stop()
	}
	// The delay is at most 2 s; the rest is the connect itself on a busy
	// machine.
	if worst > 3*time.Second {
		t.Errorf("a kiosk took %s to reconnect, want about 2s at most", worst)
	}
}

// Ensure that 20 real kiosks that lost the central together come back at
// distinct times spread over the jitter window, not in one burst.
func TestUplink_ReconnectSpread(t *testing.T) {
	if testing.Short() {
		t.Skip("20 kiosks and a 3 s outage")
	}
	srv := startNATS(t, nil)
	const n = 20
	ups := make([]*uplink.Uplink, n)
	for i := range ups {
		k := newKiosk(t)
		ups[i], _ = run(t, k.config(srv.URL, nil))
	}
	waitFor(t, 10*time.Second, "every kiosk connected", func() bool {
		for _, u := range ups {
			if !u.Status().Connected {
				return false
			}
		}
		return true
	})
	srv.stop()
	waitFor(t, 5*time.Second, "every kiosk disconnected", func() bool {
		for _, u := range ups {
			if u.Status().Connected {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * time.Second)
	srv.start()
	back := time.Now()
	at := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i, u := range ups {
		wg.Go(func() {
			for !u.Status().Connected && time.Since(back) < 10*time.Second {
				time.Sleep(time.Millisecond)
			}
			at[i] = time.Since(back)
		})
	}
	wg.Wait()
	s := spreadOf(at)
	distinct := map[time.Duration]bool{}
	for _, d := range at {
		distinct[d.Truncate(10*time.Millisecond)] = true
	}
	t.Logf("%d kiosks reconnected after the server was ready: first %s, p50 %s, last %s; %d distinct 10 ms slots",
		n, slices.Min(at).Round(time.Millisecond), s.p50.Round(time.Millisecond), s.max.Round(time.Millisecond), len(distinct))
	if s.max > 3*time.Second {
		t.Errorf("the last kiosk reconnected %s after the server was ready, want about 2s at most", s.max)
	}
	if len(distinct) < n/2 || s.max-slices.Min(at) < 300*time.Millisecond {
		t.Errorf("reconnects not spread: %d distinct 10 ms slots, from %s to %s", len(distinct), slices.Min(at), s.max)
	}
}

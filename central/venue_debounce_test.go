package central

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
)

// kioskClock is a kiosk's clock the test moves by hand: NTP-synced, one
// boot.
type kioskClock struct {
	mu sync.Mutex
	s  kiosk.Stamp
}

func (c *kioskClock) Now() kiosk.Stamp { c.mu.Lock(); defer c.mu.Unlock(); return c.s }

func (c *kioskClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Wall, c.s.Mono = c.s.Wall.Add(d), c.s.Mono+d
}

// Ensure that the venue settings carry the debounce as a Go duration the
// kiosk parses, "-1s" for off, and nothing for the kiosks' default.
func TestVenueValue_Debounce(t *testing.T) {
	for _, tt := range []struct {
		seconds int
		want    string
	}{
		{0, `{"name":"Cafe","category":"cafe","default_stay":"60m"}`},
		{30, `{"name":"Cafe","category":"cafe","default_stay":"60m","debounce":"30s"}`},
		{600, `{"name":"Cafe","category":"cafe","default_stay":"60m","debounce":"10m0s"}`},
		{-1, `{"name":"Cafe","category":"cafe","default_stay":"60m","debounce":"-1s"}`},
	} {
		got, err := venueValue(store.Venue{ID: "v-1", Name: "Cafe", Category: "cafe", DefaultStay: 60, DebounceSeconds: tt.seconds})
		if err != nil || string(got) != tt.want {
			t.Errorf("debounce %ds: %s, %v; want %s", tt.seconds, got, err, tt.want)
		}
	}
}

// Ensure that SetVenueDebounce refuses a window that is not whole seconds
// or longer than a day, and an unknown venue, and changes nothing then.
func TestSetVenueDebounce_Invalid(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	if _, err := ts.AddVenue(ctx, "cafe-1", "Cafe"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{1500 * time.Millisecond, MaxDebounce + time.Second} {
		if _, err := ts.SetVenueDebounce(ctx, "cafe-1", d); !errors.Is(err, ErrInvalid) {
			t.Errorf("debounce %s: %v, want ErrInvalid", d, err)
		}
	}
	if _, err := ts.SetVenueDebounce(ctx, "cafe-404", time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown venue: %v, want ErrNotFound", err)
	}
	if v, err := ts.Venue(ctx, "cafe-1"); err != nil || v.DebounceSeconds != 0 {
		t.Errorf("venue after refusals: %+v, %v", v, err)
	}
}

// Ensure that a venue's debounce set at the central reaches its kiosk end
// to end: stored, written to the venues bucket, and applied by a real kiosk
// daemon enrolled with this central over its uplink — a 30 s window lets a
// pass check in again after 40 s where the default 10 minutes refused it,
// "off" records every scan, and clearing it restores the default.
func TestVenueDebounce_KioskApplies(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	const venue = "cafe-1"
	if _, err := ts.AddVenue(ctx, venue, "Cafe Halla"); err != nil {
		t.Fatal(err)
	}
	k := runKiosk(t, ts, venue, time.Now())
	clock := k.clock

	newPass := func() string {
		now := clock.Now().Wall.Truncate(time.Second)
		p := pass.Pass{Kind: pass.KindApp, Issued: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour)}
		rand.Read(p.Pseudonym[:])
		text, err := ts.keys.Signer().Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	scan := func(text string) feedback.Result { t.Helper(); return k.scan(t, text) }
	// rescan checks a fresh pass in, moves the kiosk's clock by after and
	// scans it again: the second answer.
	rescan := func(after time.Duration) feedback.Result {
		t.Helper()
		text := newPass()
		if r := scan(text); r != feedback.Accepted {
			t.Fatalf("a fresh pass: %v", r)
		}
		clock.Advance(after)
		return scan(text)
	}
	// until repeats rescan until it answers want, and returns how long
	// that took.
	until := func(what string, after time.Duration, want feedback.Result) time.Duration {
		t.Helper()
		t0 := time.Now()
		for {
			got := rescan(after)
			if got == want {
				return time.Since(t0)
			}
			if time.Since(t0) > 10*time.Second {
				t.Fatalf("%s: a second scan %s later is still %v, want %v\n%s", what, after, got, want, k.log.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	venueSettings := func() string {
		t.Helper()
		js, err := jetstream.New(ts.centralConn(t))
		if err != nil {
			t.Fatal(err)
		}
		return readBucket(t, js, wire.BucketVenues)[venue]
	}

	// The kiosks' default: 10 minutes.
	if r := rescan(40 * time.Second); r != feedback.Duplicate {
		t.Fatalf("default debounce, a second scan 40 s later: %v, want duplicate", r)
	}

	v, err := ts.SetVenueDebounce(ctx, venue, 30*time.Second)
	if err != nil || v.DebounceSeconds != 30 {
		t.Fatalf("SetVenueDebounce 30s: %+v, %v", v, err)
	}
	if got, want := venueSettings(), `{"name":"Cafe Halla","category":"other","default_stay":"60m","debounce":"30s"}`; got != want {
		t.Errorf("venue settings %s, want %s", got, want)
	}
	took := until("a 30 s window", 40*time.Second, feedback.Accepted)
	t.Logf("the kiosk applied the venue's debounce within %s", took.Round(time.Millisecond))
	if r := rescan(10 * time.Second); r != feedback.Duplicate {
		t.Errorf("30 s window, a second scan 10 s later: %v, want duplicate", r)
	}

	if _, err := ts.SetVenueDebounce(ctx, venue, -time.Minute); err != nil {
		t.Fatal(err)
	}
	until("debounce off", 0, feedback.Accepted)

	if _, err := ts.SetVenueDebounce(ctx, venue, 0); err != nil {
		t.Fatal(err)
	}
	if got, want := venueSettings(), `{"name":"Cafe Halla","category":"other","default_stay":"60m"}`; got != want {
		t.Errorf("venue settings %s, want %s", got, want)
	}
	until("back to the default", 40*time.Second, feedback.Duplicate)
	if v, err := ts.Venue(ctx, venue); err != nil || v.DebounceSeconds != 0 {
		t.Errorf("venue: %+v, %v", v, err)
	}
}

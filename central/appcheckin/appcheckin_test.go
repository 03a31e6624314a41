package appcheckin

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/venuecode"
)

var (
	jejuCity = registry.Location{Lat: 33.4996, Lon: 126.5312}
	seogwipo = registry.Location{Lat: 33.2541, Lon: 126.5601}
	seoul    = registry.Location{Lat: 37.5665, Lon: 126.9780}
)

// Ensure that Distance is the great-circle distance (known pairs within
// 0.5 %).
func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b registry.Location
		want float64
	}{
		{jejuCity, jejuCity, 0},
		{jejuCity, seogwipo, 27_400},
		{jejuCity, seoul, 453_000},
		{registry.Location{Lat: 0, Lon: 0}, registry.Location{Lat: 0, Lon: 180}, math.Pi * 6_371_008.8},
	} {
		if got := Distance(tc.a, tc.b); math.Abs(got-tc.want) > 0.005*tc.want+1 {
			t.Errorf("Distance(%v, %v) = %.0f m, want %.0f", tc.a, tc.b, got, tc.want)
		}
	}
}

// Ensure that the poster GPS check allows max(150 m, 2 × accuracy).
func TestGPSSuspect(t *testing.T) {
	at := func(metresNorth float64) *registry.Location {
		return &registry.Location{Lat: jejuCity.Lat + metresNorth/111_195, Lon: jejuCity.Lon}
	}
	for _, tc := range []struct {
		fix      *registry.Location
		accuracy float64
		suspect  bool
	}{
		{at(0), 0, false},
		{at(140), 0, false},
		{at(160), 0, true},
		{at(160), 100, false}, // 2 × 100 m
		{at(250), 100, true},
		{nil, 0, true},
	} {
		if got, why := gpsSuspect(jejuCity, tc.fix, tc.accuracy); got != tc.suspect {
			t.Errorf("fix %v accuracy %v: suspect %v (%s), want %v", tc.fix, tc.accuracy, got, why, tc.suspect)
		}
	}
	if got, _ := gpsSuspect(registry.Location{}, nil, 0); got {
		t.Error("a venue without a location is suspect")
	}
}

// Ensure that travel faster than 300 km/h over more than the slack is
// impossible, and that the log keeps each person's last check-in.
func TestTravel(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if !Impossible(jejuCity, t0, seoul, t0.Add(time.Hour)) { // 453 km in 1 h
		t.Error("Jeju–Seoul in an hour is possible")
	}
	if Impossible(jejuCity, t0, seoul, t0.Add(2*time.Hour)) { // a flight
		t.Error("Jeju–Seoul in two hours is impossible")
	}
	near := registry.Location{Lat: jejuCity.Lat + 0.005, Lon: jejuCity.Lon} // 556 m
	if Impossible(jejuCity, t0, near, t0) {
		t.Error("a neighbouring venue at the same moment is impossible")
	}
	l := newTravelLog()
	var a, b [16]byte
	b[0] = 1
	if l.check(a, jejuCity, t0) || l.check(b, seogwipo, t0) {
		t.Error("a first check-in is flagged")
	}
	if !l.check(a, seogwipo, t0.Add(time.Minute)) {
		t.Error("Jeju city → Seogwipo in a minute not flagged")
	}
	if l.check(a, seogwipo, t0.Add(2*time.Minute)) {
		t.Error("staying put flagged")
	}
	if l.check(b, seogwipo, t0.Add(time.Minute)) {
		t.Error("another person's check-in flagged")
	}
	// Past the window the last position is forgotten.
	l.check(a, jejuCity, t0.Add(3*time.Minute))
	l.check(b, jejuCity, t0.Add(travelWindow+time.Hour))
	if _, ok := l.last[a]; ok {
		t.Error("old position kept")
	}
}

// Ensure that the limiter allows a burst per key, then one per period.
func TestLimiter(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := NewLimiter(10*time.Second, 2, func() time.Time { return now })
	if !l.Allow("a") || !l.Allow("a") || l.Allow("a") {
		t.Fatal("burst of 2 not enforced")
	}
	if !l.Allow("b") {
		t.Fatal("keys share a bucket")
	}
	now = now.Add(10 * time.Second)
	if !l.Allow("a") || l.Allow("a") {
		t.Fatal("one per 10 s not enforced")
	}
	now = now.Add(time.Hour)
	l.Allow("c")
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets kept, want idle ones forgotten", len(l.buckets))
	}
}

// Ensure that app device ids fit a device id.
func TestAppDevice(t *testing.T) {
	if got := AppDevice("jeju-cafe-1"); got != "app-jeju-cafe-1" {
		t.Errorf("AppDevice = %q", got)
	}
	long := AppDevice(string(make([]byte, 64)))
	if len(long) != 20 || long[:4] != "app-" {
		t.Errorf("long venue: %q", long)
	}
}

// Ensure that an offline scan's time matches a display code's period
// widened by OfflineTolerance on each side, and nothing farther.
func TestPeriodMatches(t *testing.T) {
	c := venuecode.Display{Device: "k1", Venue: "v1", Length: 30 * time.Second, Period: 59_000_000}
	start := c.Start()
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{start, true},
		{start.Add(29 * time.Second), true},
		{start.Add(-OfflineTolerance), true},
		{start.Add(-OfflineTolerance - time.Second), false},
		{start.Add(30*time.Second + OfflineTolerance - time.Nanosecond), true},
		{start.Add(30*time.Second + OfflineTolerance), false},
		{start.Add(time.Hour), false},
	} {
		if got := periodMatches(c, tc.at); got != tc.want {
			t.Errorf("scan at start%+v: %v, want %v", tc.at.Sub(start), got, tc.want)
		}
	}
}

// Ensure a venue's debounce window: its own, the default for 0, none
// when negative.
func TestDebounce(t *testing.T) {
	for _, tc := range []struct {
		seconds int
		want    time.Duration
	}{
		{0, DefaultDebounce},
		{-1, 0},
		{90, 90 * time.Second},
	} {
		if got := Debounce(store.Venue{DebounceSeconds: tc.seconds}); got != tc.want {
			t.Errorf("Debounce(%d) = %v, want %v", tc.seconds, got, tc.want)
		}
	}
}

// Ensure that a client id is empty or 1 to 64 printable ASCII characters.
func TestValidClientID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"", true},
		{"0123456789abcdef0123456789abcdef", true},
		{strings.Repeat("x", MaxClientID), true},
		{strings.Repeat("x", MaxClientID+1), false},
		{"a b", false},
		{"é", false},
		{"a\x00", false},
	} {
		if got := validClientID(tc.id); got != tc.want {
			t.Errorf("validClientID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

package appcheckin

import (
	"sync"
	"time"

	"github.com/anshim/anshim/central/registry"
)

// travelWindow is how long a last position is kept: nothing in Korea is
// out of reach at MaxSpeed after it.
const travelWindow = 12 * time.Hour

// travelLog keeps each person's last app check-in, in memory only (a
// restart forgets them: a missed flag, never a false one).
type travelLog struct {
	mu    sync.Mutex
	last  map[[16]byte]position
	sweep time.Time
}

type position struct {
	at   registry.Location
	time time.Time
}

func newTravelLog() *travelLog {
	return &travelLog{last: make(map[[16]byte]position)}
}

// check records that the person was at loc at t and reports whether they
// could not have come from their previous check-in: farther than
// TravelSlack and faster than MaxSpeed.
func (l *travelLog) check(who [16]byte, loc registry.Location, t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.Sub(l.sweep) > travelWindow {
		for k, p := range l.last {
			if t.Sub(p.time) > travelWindow {
				delete(l.last, k)
			}
		}
		l.sweep = t
	}
	prev, ok := l.last[who]
	if !ok || t.After(prev.time) || t.Equal(prev.time) {
		l.last[who] = position{at: loc, time: t}
	}
	if !ok || loc == (registry.Location{}) || prev.at == (registry.Location{}) {
		return false
	}
	return Impossible(prev.at, prev.time, loc, t)
}

// Impossible reports whether going from a at ta to b at tb is faster than
// MaxSpeed over more than TravelSlack.
func Impossible(a registry.Location, ta time.Time, b registry.Location, tb time.Time) bool {
	d := Distance(a, b)
	if d <= TravelSlack {
		return false
	}
	dt := tb.Sub(ta)
	if dt < 0 {
		dt = -dt
	}
	hours := max(dt.Hours(), 1.0/3600)
	return d/1000/hours > MaxSpeed
}

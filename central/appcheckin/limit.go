package appcheckin

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits events per key (a pass, a client address) with a token
// bucket each. Buckets idle for long are forgotten. It is safe for
// concurrent use.
type Limiter struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewLimiter allows burst events at once per key, then one per every. A nil
// now means time.Now.
func NewLimiter(every time.Duration, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{every: every, burst: burst, now: now, buckets: make(map[string]*bucket)}
}

// idleAfter is how long after its last event a bucket is full again, and
// so forgotten.
func (l *Limiter) idleAfter() time.Duration { return l.every * time.Duration(l.burst+1) }

// Allow reports whether an event of key may happen now, and counts it.
func (l *Limiter) Allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.idleAfter() {
		for k, b := range l.buckets {
			if now.Sub(b.last) > l.idleAfter() {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

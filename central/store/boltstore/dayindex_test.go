package boltstore

import (
	"bytes"
	"testing"
	"time"
)

// Ensure that kstDay, the day number the ingest caches each day's
// buckets by, tells days apart exactly as dayKey (the buckets' names)
// does, around KST midnight and before 1970.
func TestKSTDay_MatchesDayKey(t *testing.T) {
	base := []time.Time{
		time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC), // 00:00 KST on the 6th
		time.Date(2020, 12, 21, 14, 59, 59, 0, time.UTC),
		time.Date(1969, 12, 31, 15, 0, 0, 0, time.UTC), // KST midnight before the epoch
		time.Date(1960, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
	}
	for _, b := range base {
		for _, d := range []time.Duration{-time.Hour, -time.Nanosecond, 0, time.Nanosecond, time.Second, 9 * time.Hour, 23 * time.Hour} {
			t1 := b.Add(d)
			for _, e := range []time.Duration{-25 * time.Hour, -time.Second, time.Nanosecond, time.Hour, 15 * time.Hour, 24 * time.Hour} {
				t2 := t1.Add(e)
				sameKey := bytes.Equal(dayKey(t1), dayKey(t2))
				if sameDay := kstDay(t1) == kstDay(t2); sameDay != sameKey {
					t.Errorf("%v and %v: kstDay says same day %v, dayKey %q and %q", t1, t2, sameDay, dayKey(t1), dayKey(t2))
				}
			}
		}
	}
}

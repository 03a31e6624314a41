package pgstore

import (
	"testing"
	"time"
)

// Ensure that kstDay gives the KST calendar date, at midnight UTC.
func TestKSTDay(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 25, 14, 59, 59, 999999999, time.UTC), "2026-11-25"},
		{time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), "2026-11-26"},
		{time.Date(2026, 11, 26, 0, 0, 0, 0, kst), "2026-11-26"},
		{time.Date(2026, 11, 26, 23, 59, 59, 0, kst), "2026-11-26"},
		{time.Date(2026, 12, 31, 20, 0, 0, 0, time.FixedZone("PST", -8*3600)), "2027-01-01"},
		{time.Unix(0, 0), "1970-01-01"},
	}
	for _, tt := range tests {
		got := kstDay(tt.t)
		if got.Format(time.DateOnly) != tt.want || got.Location() != time.UTC || got.Hour() != 0 {
			t.Errorf("kstDay(%v) = %v, want %s at midnight UTC", tt.t, got, tt.want)
		}
	}
	if got := partitionName(kstDay(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC))); got != "checkins_20261126" {
		t.Errorf("partitionName = %s", got)
	}
	if err := checkDay(kstDay(time.Time{})); err != nil {
		t.Errorf("checkDay(year 1): %v", err)
	}
	if err := checkDay(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("checkDay accepted the year 10000")
	}
}

// Ensure that splitTime and joinTime keep every nanosecond, the zero time
// included.
func TestSplitTime(t *testing.T) {
	for _, in := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Date(2026, 11, 26, 9, 30, 15, 123456789, time.UTC),
		time.Date(2026, 11, 26, 9, 30, 15, 999, kst),
		time.Unix(-1, 1), // before 1970
	} {
		us, ns := splitTime(in)
		if us.Nanosecond()%1000 != 0 || ns < 0 || ns > 999 {
			t.Errorf("splitTime(%v) = %v, %d", in, us, ns)
		}
		if out := joinTime(us, ns); !out.Equal(in) || out.IsZero() != in.IsZero() {
			t.Errorf("joinTime(splitTime(%v)) = %v", in, out)
		}
	}
}

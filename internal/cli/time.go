package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KST returns Korea Standard Time: the Asia/Seoul zone, or a fixed +09:00
// zone named KST where the machine has no time zone database. Korea has had
// no daylight saving time since 1988, so the two agree for Anshim's dates.
func KST() *time.Location {
	if loc, err := time.LoadLocation("Asia/Seoul"); err == nil {
		return loc
	}
	return time.FixedZone("KST", 9*60*60)
}

// ParseTime parses an instant given on the command line: RFC 3339
// ("2025-03-01T09:00:00+09:00"), a local time in loc without a zone
// ("2025-03-01T09:00" or "2025-03-01 09:00:00"), or a date ("2025-03-01"),
// which is the start of that day in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", time.DateTime} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (want YYYY-MM-DD, YYYY-MM-DDTHH:MM or RFC 3339)", s)
}

// ParseExpiry parses an expiry given on the command line, relative to from:
// a date ("2026-02-28"), meaning the end of that day (23:59:59) in loc; an
// instant as for [ParseTime]; or a duration after from: "1y", "6mo", "90d",
// "36h" (years and months are calendar months in loc).
func ParseExpiry(s string, from time.Time, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t.AddDate(0, 0, 1).Add(-time.Second), nil
	}
	if t, err := ParseTime(s, loc); err == nil {
		return t, nil
	}
	for _, u := range []struct {
		suffix        string
		years, months int
		days          int
	}{{"y", 1, 0, 0}, {"mo", 0, 1, 0}, {"d", 0, 0, 1}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.Atoi(num)
			if err != nil || n <= 0 || n > 100*366 {
				break
			}
			return from.In(loc).AddDate(n*u.years, n*u.months, n*u.days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return from.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("invalid expiry %q (want YYYY-MM-DD, a time, or a duration such as 1y, 6mo, 90d, 36h)", s)
}

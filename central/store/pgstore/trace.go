package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
)

// selectTraced reads the columns that scanTraced scans: those of
// selectCheckIns with the device first.
const selectTraced = `SELECT device, seq, venue, kind, quality, flags, raw_wall, raw_wall_ns, mono, boot,
	time, time_ns, received, hash, tag, sealed FROM checkins`

// scanTraced scans a row of selectTraced.
func scanTraced(row pgx.CollectableRow) (store.CheckIn, error) {
	var device []byte
	var rest pgx.CollectableRow = tracedRow{row, &device}
	r, err := scanCheckIn("")(rest)
	if err != nil {
		return store.CheckIn{}, err
	}
	r.Device = string(device)
	return r, nil
}

// tracedRow scans the leading device column into device and the rest as
// scanCheckIn wants them.
type tracedRow struct {
	pgx.CollectableRow
	device *[]byte
}

func (r tracedRow) Scan(dest ...any) error {
	return r.CollectableRow.Scan(append([]any{r.device}, dest...)...)
}

// CheckInsAt implements store.Tracing with the (venue, time) index; the
// day bounds let the planner skip the partitions of other days.
func (s *Store) CheckInsAt(ctx context.Context, venue string, from, to time.Time) ([]store.CheckIn, error) {
	if !from.Before(to) {
		return []store.CheckIn{}, nil
	}
	rows, _ := s.pool.Query(ctx, selectTraced+` WHERE venue = $1 AND time >= $2 AND time < $3
		AND day BETWEEN $4 AND $5 ORDER BY time, time_ns, device, seq`,
		[]byte(venue), from.Truncate(time.Microsecond), to.Add(time.Microsecond-1).Truncate(time.Microsecond),
		kstDay(from), kstDay(to))
	out, err := pgx.CollectRows(rows, scanTraced)
	if err != nil {
		return nil, fmt.Errorf("check-ins at %s: %w", venue, err)
	}
	return within(out, from, to), nil
}

// within keeps the check-ins in [from, to) to the nanosecond (timestamptz
// holds microseconds; the query's bounds are rounded outwards).
func within(rs []store.CheckIn, from, to time.Time) []store.CheckIn {
	out := rs[:0]
	for _, r := range rs {
		if !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r)
		}
	}
	if out == nil {
		out = []store.CheckIn{}
	}
	return out
}

// CheckInsByTag implements store.Tracing with the tag index, in the day's
// partition.
func (s *Store) CheckInsByTag(ctx context.Context, day time.Time, tag [16]byte) ([]store.CheckIn, error) {
	rows, _ := s.pool.Query(ctx, selectTraced+` WHERE day = $1 AND tag = $2 ORDER BY time, time_ns, device, seq`,
		kstDay(day), tag[:])
	out, err := pgx.CollectRows(rows, scanTraced)
	if err != nil {
		return nil, fmt.Errorf("check-ins by tag: %w", err)
	}
	if out == nil {
		out = []store.CheckIn{}
	}
	return out, nil
}

package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
)

// indexRow scans a leading ordinal column into i and the rest as
// scanTraced wants them.
type indexRow struct {
	pgx.CollectableRow
	i *int64
}

func (r indexRow) Scan(dest ...any) error {
	return r.CollectableRow.Scan(append([]any{r.i}, dest...)...)
}

// CheckInsAtMany is CheckInsAt of many windows in one query: out[i] holds
// the check-ins of venues[i] whose corrected Time is in [from[i], to[i]),
// in the order of (Time, Device, Seq). central/trace uses it to read the
// windows of a degree at once.
func (s *Store) CheckInsAtMany(ctx context.Context, venues []string, from, to []time.Time) ([][]store.CheckIn, error) {
	out := make([][]store.CheckIn, len(venues))
	if len(venues) == 0 {
		return out, nil
	}
	if len(from) != len(venues) || len(to) != len(venues) {
		return nil, fmt.Errorf("check-ins at many: %d venues, %d starts, %d ends", len(venues), len(from), len(to))
	}
	vs := make([][]byte, len(venues))
	fs := make([]time.Time, len(venues))
	ts := make([]time.Time, len(venues))
	lo, hi := from[0], to[0]
	for i := range venues {
		vs[i] = []byte(venues[i])
		fs[i] = from[i].Truncate(time.Microsecond)
		ts[i] = to[i].Add(time.Microsecond - 1).Truncate(time.Microsecond)
		if from[i].Before(lo) {
			lo = from[i]
		}
		if to[i].After(hi) {
			hi = to[i]
		}
	}
	rows, _ := s.pool.Query(ctx, `SELECT u.i, c.device, c.seq, c.venue, c.kind, c.quality, c.flags, c.raw_wall, c.raw_wall_ns,
		c.mono, c.boot, c.time, c.time_ns, c.received, c.hash, c.tag, c.sealed
		FROM unnest($1::bytea[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS u(venue, f, t, i)
		JOIN checkins c ON c.venue = u.venue AND c.time >= u.f AND c.time < u.t
		WHERE c.day BETWEEN $4 AND $5
		ORDER BY u.i, c.time, c.time_ns, c.device, c.seq`, vs, fs, ts, kstDay(lo), kstDay(hi))
	var i int64
	_, err := pgx.AppendRows([]struct{}(nil), rows, func(row pgx.CollectableRow) (struct{}, error) {
		r, err := scanTraced(indexRow{row, &i})
		if err != nil {
			return struct{}{}, err
		}
		k := int(i - 1)
		if k < 0 || k >= len(out) {
			return struct{}{}, fmt.Errorf("ordinal %d out of range", i)
		}
		if !r.Time.Before(from[k]) && r.Time.Before(to[k]) {
			out[k] = append(out[k], r)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("check-ins at many: %w", err)
	}
	return out, nil
}

// CheckInsByTags is CheckInsByTag of many tags of one KST day in one
// query: out[i] holds the check-ins with tags[i], in the order of (Time,
// Device, Seq).
func (s *Store) CheckInsByTags(ctx context.Context, day time.Time, tags [][16]byte) ([][]store.CheckIn, error) {
	out := make([][]store.CheckIn, len(tags))
	if len(tags) == 0 {
		return out, nil
	}
	ts := make([][]byte, len(tags))
	for i := range tags {
		ts[i] = tags[i][:]
	}
	rows, _ := s.pool.Query(ctx, `SELECT u.i, c.device, c.seq, c.venue, c.kind, c.quality, c.flags, c.raw_wall, c.raw_wall_ns,
		c.mono, c.boot, c.time, c.time_ns, c.received, c.hash, c.tag, c.sealed
		FROM unnest($1::bytea[]) WITH ORDINALITY AS u(tag, i)
		JOIN checkins c ON c.tag = u.tag
		WHERE c.day = $2
		ORDER BY u.i, c.time, c.time_ns, c.device, c.seq`, ts, kstDay(day))
	var i int64
	_, err := pgx.AppendRows([]struct{}(nil), rows, func(row pgx.CollectableRow) (struct{}, error) {
		r, err := scanTraced(indexRow{row, &i})
		if err != nil {
			return struct{}{}, err
		}
		k := int(i - 1)
		if k < 0 || k >= len(out) {
			return struct{}{}, fmt.Errorf("ordinal %d out of range", i)
		}
		out[k] = append(out[k], r)
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("check-ins by tags: %w", err)
	}
	return out, nil
}

package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// CheckInsAtMany is CheckInsAt of many windows in one query: out[i] holds
// the check-ins of venues[i] whose corrected Time is in [from[i], to[i]),
// in the order of (Time, Device, Seq). central/trace uses it to read the
// windows of a degree at once, and reads only the fields it needs: the
// check-ins carry Device, Seq, Venue, Kind, Flags, Time, Tag and Sealed
// (the others are zero). Each window prunes the day partitions to its own
// days.
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
	dfs := make([]time.Time, len(venues))
	dts := make([]time.Time, len(venues))
	lo, hi := from[0], to[0]
	for i := range venues {
		vs[i] = []byte(venues[i])
		fs[i] = from[i].Truncate(time.Microsecond)
		ts[i] = to[i].Add(time.Microsecond - 1).Truncate(time.Microsecond)
		dfs[i], dts[i] = kstDay(from[i]), kstDay(to[i])
		if from[i].Before(lo) {
			lo = from[i]
		}
		if to[i].After(hi) {
			hi = to[i]
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT u.i, c.device, c.seq, c.kind, c.flags, c.time, c.time_ns, c.tag, c.sealed
		FROM unnest($1::bytea[], $2::timestamptz[], $3::timestamptz[], $4::date[], $5::date[]) WITH ORDINALITY AS u(venue, f, t, df, dt, i)
		JOIN checkins c ON c.venue = u.venue AND c.time >= u.f AND c.time < u.t AND c.day BETWEEN u.df AND u.dt
		WHERE c.day BETWEEN $6 AND $7
		ORDER BY u.i, c.time, c.time_ns, c.device, c.seq`, vs, fs, ts, dfs, dts, kstDay(lo), kstDay(hi))
	if err != nil {
		return nil, fmt.Errorf("check-ins at many: %w", err)
	}
	defer rows.Close()
	var (
		i                   int64
		device, tag, sealed pgtype.DriverBytes // valid until the next row
		seq, flags          int64
		kind, tns           int16
		t                   time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&i, &device, &seq, &kind, &flags, &t, &tns, &tag, &sealed); err != nil {
			return nil, fmt.Errorf("check-ins at many: %w", err)
		}
		k := int(i - 1)
		if k < 0 || k >= len(out) {
			return nil, fmt.Errorf("check-ins at many: ordinal %d out of range", i)
		}
		r := store.CheckIn{Device: string(device), Seq: uint64(seq), Venue: venues[k], Kind: checkin.Kind(kind),
			Flags: uint32(flags), Time: joinTime(t, tns), Sealed: bytes.Clone(sealed)}
		copy(r.Tag[:], tag)
		if !r.Time.Before(from[k]) && r.Time.Before(to[k]) {
			out[k] = append(out[k], r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check-ins at many: %w", err)
	}
	return out, nil
}

// CheckInsByTags is CheckInsByTag of many tags of one KST day in one
// query: out[i] holds the check-ins with tags[i], in the order of (Time,
// Device, Seq), with the fields of CheckInsAtMany.
func (s *Store) CheckInsByTags(ctx context.Context, day time.Time, tags [][16]byte) ([][]store.CheckIn, error) {
	out := make([][]store.CheckIn, len(tags))
	if len(tags) == 0 {
		return out, nil
	}
	ts := make([][]byte, len(tags))
	for i := range tags {
		ts[i] = tags[i][:]
	}
	rows, err := s.pool.Query(ctx, `SELECT u.i, c.device, c.seq, c.venue, c.kind, c.flags, c.time, c.time_ns, c.sealed
		FROM unnest($1::bytea[]) WITH ORDINALITY AS u(tag, i)
		JOIN checkins c ON c.tag = u.tag
		WHERE c.day = $2
		ORDER BY u.i, c.time, c.time_ns, c.device, c.seq`, ts, kstDay(day))
	if err != nil {
		return nil, fmt.Errorf("check-ins by tags: %w", err)
	}
	defer rows.Close()
	var (
		i                     int64
		device, venue, sealed pgtype.DriverBytes // valid until the next row
		seq, flags            int64
		kind, tns             int16
		t                     time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&i, &device, &seq, &venue, &kind, &flags, &t, &tns, &sealed); err != nil {
			return nil, fmt.Errorf("check-ins by tags: %w", err)
		}
		k := int(i - 1)
		if k < 0 || k >= len(out) {
			return nil, fmt.Errorf("check-ins by tags: ordinal %d out of range", i)
		}
		out[k] = append(out[k], store.CheckIn{Device: string(device), Seq: uint64(seq), Venue: string(venue),
			Kind: checkin.Kind(kind), Flags: uint32(flags), Time: joinTime(t, tns), Tag: tags[k], Sealed: bytes.Clone(sealed)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check-ins by tags: %w", err)
	}
	return out, nil
}

// VenuesByID returns the venues of ids that exist, in no order, in one
// query. central/trace uses it for the default stays of the venues a
// trace meets.
func (s *Store) VenuesByID(ctx context.Context, ids []string) ([]store.Venue, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	bs := make([][]byte, len(ids))
	for i, id := range ids {
		bs[i] = []byte(id)
	}
	v, err := s.venues(ctx, "WHERE id = ANY($1)", bs)
	if err != nil {
		return nil, fmt.Errorf("pgstore: venues by id: %w", err)
	}
	return v, nil
}

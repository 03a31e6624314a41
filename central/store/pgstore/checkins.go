package pgstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// splitTime returns t at the microsecond that timestamptz keeps and the
// nanoseconds below it (0..999).
func splitTime(t time.Time) (time.Time, int16) {
	us := t.Truncate(time.Microsecond)
	return us, int16(t.Sub(us))
}

// joinTime is the inverse of splitTime, in UTC.
func joinTime(us time.Time, ns int16) time.Time {
	return us.Add(time.Duration(ns)).UTC()
}

// checkInColumns are the columns of checkins in the order of checkInRow.
var checkInColumns = []string{"device", "seq", "day", "venue", "kind", "quality", "flags",
	"raw_wall", "raw_wall_ns", "mono", "boot", "time", "time_ns", "received", "hash", "tag", "sealed"}

// checkInRow returns r's values for CopyFrom, r being of day.
func checkInRow(r store.CheckIn, day time.Time) []any {
	raw, rawNS := splitTime(r.RawWall)
	corrected, correctedNS := splitTime(r.Time)
	return []any{
		[]byte(r.Device), int64(r.Seq), day, []byte(r.Venue), int16(r.Kind), int16(r.Quality), int64(r.Flags),
		raw, rawNS, int64(r.Mono), r.Boot[:], corrected, correctedNS, r.Received, r.Hash[:], r.Tag[:], nonNil(r.Sealed),
	}
}

// selectCheckIns reads the columns that scanCheckIn scans.
const selectCheckIns = `SELECT seq, venue, kind, quality, flags, raw_wall, raw_wall_ns, mono, boot,
	time, time_ns, received, hash, tag, sealed FROM checkins`

// scanCheckIn scans a row of selectCheckIns of device's check-ins.
func scanCheckIn(device string) pgx.RowToFunc[store.CheckIn] {
	return func(row pgx.CollectableRow) (store.CheckIn, error) {
		var (
			seq, flags, mono      int64
			venue, boot, hash     []byte
			tag                   []byte
			kind, quality         int16
			raw, corrected, recvd time.Time
			rawNS, correctedNS    int16
			r                     = store.CheckIn{Device: device}
		)
		err := row.Scan(&seq, &venue, &kind, &quality, &flags, &raw, &rawNS, &mono, &boot,
			&corrected, &correctedNS, &recvd, &hash, &tag, &r.Sealed)
		if err != nil {
			return store.CheckIn{}, err
		}
		if len(boot) != len(r.Boot) || len(hash) != len(r.Hash) {
			return store.CheckIn{}, fmt.Errorf("check-in %q/%d: boot id of %d bytes, hash of %d bytes", device, seq, len(boot), len(hash))
		}
		r.Seq, r.Venue = uint64(seq), string(venue)
		r.Kind, r.Quality, r.Flags = checkin.Kind(kind), checkin.TimeQuality(quality), uint32(flags)
		r.RawWall, r.Time, r.Received = joinTime(raw, rawNS), joinTime(corrected, correctedNS), recvd.UTC()
		r.Mono = time.Duration(mono)
		copy(r.Boot[:], boot)
		copy(r.Hash[:], hash)
		copy(r.Tag[:], tag)
		return r, nil
	}
}

// checkInChunk is how many check-ins CheckIns reads per query.
const checkInChunk = 256

// CheckIns implements store.Store. It reads in chunks, each with its own
// query, and calls fn between them, outside any transaction.
func (s *Store) CheckIns(ctx context.Context, device string, from uint64, fn func(store.CheckIn) bool) error {
	if from > math.MaxInt64 {
		return nil // no such sequence numbers are stored
	}
	buf := make([]store.CheckIn, 0, checkInChunk)
	scan := scanCheckIn(device)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pgstore: check-ins of %q from %d: %w", device, from, err)
		}
		rows, _ := s.pool.Query(ctx, selectCheckIns+" WHERE device = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
			[]byte(device), int64(from), checkInChunk)
		var err error
		if buf, err = pgx.AppendRows(buf[:0], rows, scan); err != nil {
			return fmt.Errorf("pgstore: check-ins of %q from %d: %w", device, from, err)
		}
		for _, r := range buf {
			if !fn(r) {
				return nil
			}
		}
		if len(buf) < checkInChunk || buf[len(buf)-1].Seq == math.MaxInt64 {
			return nil
		}
		from = buf[len(buf)-1].Seq + 1
	}
}

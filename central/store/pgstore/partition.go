package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// kstOffset is Korea Standard Time's offset from UTC. Korea has kept no
// daylight saving time since 1988, and a fixed offset keeps a record's day
// independent of the machine's time zone database.
const kstOffset = 9 * time.Hour

// kstDay returns the KST calendar date of t, as midnight UTC of that date
// (the form pgx sends as a date).
func kstDay(t time.Time) time.Time {
	y, m, d := t.UTC().Add(kstOffset).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// partitionName returns the name of day's partition: checkins_YYYYMMDD.
func partitionName(day time.Time) string {
	return fmt.Sprintf("checkins_%04d%02d%02d", day.Year(), day.Month(), day.Day())
}

// checkDay refuses a day outside the years 1..9999, which have no
// eight-digit partition name.
func checkDay(day time.Time) error {
	if y := day.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("day %s is outside the years 1..9999", day.Format(time.DateOnly))
	}
	return nil
}

// dayStatus says, for each of days, whether its partition exists and
// whether DropDay dropped it.
func dayStatus(ctx context.Context, tx pgx.Tx, days []time.Time) (exists, dropped map[time.Time]bool, err error) {
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = partitionName(d)
	}
	rows, _ := tx.Query(ctx, `SELECT u.day, to_regclass(u.name) IS NOT NULL,
			EXISTS (SELECT 1 FROM dropped_days WHERE dropped_days.day = u.day)
		FROM unnest($1::date[], $2::text[]) AS u(day, name)`, days, names)
	exists, dropped = make(map[time.Time]bool), make(map[time.Time]bool)
	var day time.Time
	var ex, dr bool
	_, err = pgx.ForEachRow(rows, []any{&day, &ex, &dr}, func() error {
		exists[day], dropped[day] = ex, dr // pgx scans a date as midnight UTC
		return nil
	})
	return exists, dropped, err
}

// ensureDays makes sure that each of days (as kstDay returns them) has its
// partition, unless DropDay dropped the day. It returns the dropped days
// and the days whose partition now exists (to remember once the
// transaction commits).
//
// The partition is made with CREATE TABLE (LIKE checkins) and ATTACH
// PARTITION after locking checkins in SHARE UPDATE EXCLUSIVE mode: the
// lock serialises the makers (and DropDay, which takes ACCESS EXCLUSIVE)
// but lets the Ingests and reads of other transactions go on. A
// transaction that already reads checkins queues ahead of a waiting
// DropDay, so the two cannot deadlock.
func (s *Store) ensureDays(ctx context.Context, tx pgx.Tx, days []time.Time) (dropped map[time.Time]bool, known []time.Time, err error) {
	var unknown []time.Time
	s.mu.Lock()
	for _, d := range days {
		if !s.days[d] {
			unknown = append(unknown, d)
		}
	}
	s.mu.Unlock()
	if len(unknown) == 0 {
		return nil, nil, nil
	}
	for _, d := range unknown {
		if err := checkDay(d); err != nil {
			return nil, nil, err
		}
	}
	exists, dropped, err := dayStatus(ctx, tx, unknown)
	if err != nil {
		return nil, nil, fmt.Errorf("partitions: %w", err)
	}
	missing := false
	for _, d := range unknown {
		missing = missing || !exists[d] && !dropped[d]
	}
	if missing {
		if _, err := tx.Exec(ctx, "LOCK TABLE checkins IN SHARE UPDATE EXCLUSIVE MODE"); err != nil {
			return nil, nil, fmt.Errorf("partitions: %w", err)
		}
		// Again under the lock: another Ingest may have made the
		// partition, or DropDay dropped the day, meanwhile.
		if exists, dropped, err = dayStatus(ctx, tx, unknown); err != nil {
			return nil, nil, fmt.Errorf("partitions: %w", err)
		}
		for _, d := range unknown {
			if exists[d] || dropped[d] {
				continue
			}
			name := pgx.Identifier{partitionName(d)}.Sanitize()
			sql := fmt.Sprintf(`CREATE TABLE %s (LIKE checkins INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
				ALTER TABLE checkins ATTACH PARTITION %[1]s FOR VALUES FROM ('%s') TO ('%s')`,
				name, d.Format(time.DateOnly), d.AddDate(0, 0, 1).Format(time.DateOnly))
			if _, err := tx.Exec(ctx, sql); err != nil {
				return nil, nil, fmt.Errorf("make partition %s: %w", partitionName(d), err)
			}
			exists[d] = true
		}
	}
	for _, d := range unknown {
		if exists[d] && !dropped[d] {
			known = append(known, d)
		}
	}
	return dropped, known, nil
}

// rememberDays notes days whose partition exists, after a commit.
func (s *Store) rememberDays(days []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range days {
		s.days[d] = true
	}
}

// forgetDays clears what s knows of partitions: after an Ingest failed for
// want of one (another process's DropDay), the next Ingest asks again.
func (s *Store) forgetDays() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.days)
}

// isNoPartition reports whether err is PostgreSQL's "no partition of
// relation … found for row": a check violation, which on checkins (no
// CHECK constraints) can be nothing else.
func isNoPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514"
}

// dropLockTimeout bounds how long DropDay waits for its lock on checkins,
// during which new readers and Ingests queue behind it.
const dropLockTimeout = 2 * time.Second

// DropDay drops the check-ins of one KST calendar day, the one that
// contains the instant day: its partition goes whole (no row-by-row
// delete, nothing left in free pages of a live table). The day is
// recorded as dropped, and Ingest never stores a record of it again, so a
// late redelivery cannot bring it back. Device states and their counts are
// unchanged. Dropping a day without check-ins, or twice, is not an error.
//
// DropDay locks checkins ACCESS EXCLUSIVE for the moment of the drop and
// waits at most 2 s for that lock so as not to stall ingest behind a long
// query; on that timeout it returns an error and can be called again.
func (s *Store) DropDay(ctx context.Context, day time.Time) (int, error) {
	d := kstDay(day)
	if err := checkDay(d); err != nil {
		return 0, fmt.Errorf("pgstore: drop day: %w", err)
	}
	n := 0
	err := s.update(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", dropLockTimeout.Milliseconds())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE checkins IN ACCESS EXCLUSIVE MODE"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO dropped_days (day) VALUES ($1) ON CONFLICT (day) DO NOTHING", d); err != nil {
			return err
		}
		name := pgx.Identifier{partitionName(d)}.Sanitize()
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", partitionName(d)).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return nil
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DROP TABLE "+name)
		return err
	})
	s.mu.Lock()
	delete(s.days, d)
	s.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("pgstore: drop day %s: %w", d.Format(time.DateOnly), err)
	}
	return n, nil
}

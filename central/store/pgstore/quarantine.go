package pgstore

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
)

// insertQuarantine stores an entry and counts it in its device's state if
// the device is enrolled, in one statement.
const insertQuarantine = `WITH q AS (
		INSERT INTO quarantine (device, subject, reason, detail, received, payload, day, first_seq, last_seq, sum, size)
		VALUES ($1, $2, $3, $4, $5, $6, $8, $9, $10, $11, $12) RETURNING id),
	u AS (UPDATE device_states SET quarantined = quarantined + 1 WHERE device = $1 AND $7)
	SELECT id FROM q`

// quarantineArgs returns the arguments of insertQuarantine; count says
// whether to count the entry in the device's state.
func quarantineArgs(q store.Quarantine, count bool) []any {
	day := q.Day
	if day.IsZero() {
		day = q.Received
	}
	return []any{[]byte(q.Device), text(q.Subject), text(q.Reason), text(q.Detail), q.Received, nonNil(q.Payload), count,
		kstDay(day), seqArg(q.First), seqArg(q.Last), q.Sum[:], q.Size}
}

// seqArg is a claimed sequence number as bigint: one above 2⁶³−1 (a
// malformed claim) is kept as −1.
func seqArg(seq uint64) int64 {
	if seq > math.MaxInt64 {
		return -1
	}
	return int64(seq)
}

// queueQuarantine queues the insertion of a break entry of Ingest, which
// counts it in the state itself.
func queueQuarantine(b *pgx.Batch, q store.Quarantine) {
	b.Queue(insertQuarantine, quarantineArgs(q, false)...)
}

// text makes s storable as PostgreSQL text, which holds neither NUL nor
// invalid UTF-8: each becomes U+FFFD. A quarantine entry must be kept
// whatever a malformed message put in its subject or detail; its payload
// and device id are kept exactly.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AddQuarantine implements store.Store.
func (s *Store) AddQuarantine(ctx context.Context, q store.Quarantine) (uint64, error) {
	if len(q.Device) > 255 {
		return 0, fmt.Errorf("pgstore: add quarantine entry (%s): device id of %d bytes", q.Reason, len(q.Device))
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("pgstore: add quarantine entry (%s, %q): %w", q.Reason, q.Device, err)
	}
	var id int64
	if err := s.pool.QueryRow(ctx, insertQuarantine, quarantineArgs(q, true)...).Scan(&id); err != nil {
		return 0, fmt.Errorf("pgstore: add quarantine entry (%s, %q): %w", q.Reason, q.Device, err)
	}
	return uint64(id), nil
}

// Quarantined implements store.Store.
func (s *Store) Quarantined(ctx context.Context, device string) ([]store.Quarantine, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: quarantine of %q: %w", device, err)
	}
	const sel = "SELECT id, device, subject, reason, detail, received, payload, day, first_seq, last_seq, sum, size FROM quarantine "
	var rows pgx.Rows
	if device == "" {
		rows, _ = s.pool.Query(ctx, sel+"ORDER BY id")
	} else {
		rows, _ = s.pool.Query(ctx, sel+"WHERE device = $1 ORDER BY id", []byte(device))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Quarantine, error) {
		var id, first, last int64
		var dev, sum []byte
		var received, day time.Time
		q := store.Quarantine{}
		err := row.Scan(&id, &dev, &q.Subject, &q.Reason, &q.Detail, &received, &q.Payload, &day, &first, &last, &sum, &q.Size)
		q.ID, q.Device, q.Received = uint64(id), string(dev), received.UTC()
		q.Day = day.Add(-kstOffset) // 00:00 KST of the day
		q.First, q.Last = uint64(max(first, 0)), uint64(max(last, 0))
		copy(q.Sum[:], sum)
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: quarantine of %q: %w", device, err)
	}
	return nilIfEmpty(out), nil
}

// QuarantineUsage implements store.Quarantines.
func (s *Store) QuarantineUsage(ctx context.Context, device string) (int, int64, error) {
	var n, size int64
	err := s.pool.QueryRow(ctx, "SELECT count(*), coalesce(sum(length(payload)), 0) FROM quarantine WHERE device = $1",
		[]byte(device)).Scan(&n, &size)
	if err != nil {
		return 0, 0, fmt.Errorf("pgstore: quarantine usage of %q: %w", device, err)
	}
	return int(n), size, nil
}

// DropQuarantine implements store.Quarantines. The rows are deleted, not
// their pages shredded: what a backup or the table's free space keeps of
// a payload is sealed under the day's key, which retention destroys next.
func (s *Store) DropQuarantine(ctx context.Context, day time.Time) (int, error) {
	d := kstDay(day)
	if err := checkDay(d); err != nil {
		return 0, fmt.Errorf("pgstore: drop the quarantine: %w", err)
	}
	tag, err := s.pool.Exec(ctx, "DELETE FROM quarantine WHERE day = $1", d)
	if err != nil {
		return 0, fmt.Errorf("pgstore: drop the quarantine of day %s: %w", d.Format(time.DateOnly), err)
	}
	return int(tag.RowsAffected()), nil
}

package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
)

// insertQuarantine stores an entry and counts it in its device's state if
// the device is enrolled, in one statement.
const insertQuarantine = `WITH q AS (
		INSERT INTO quarantine (device, subject, reason, detail, received, payload)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id),
	u AS (UPDATE device_states SET quarantined = quarantined + 1 WHERE device = $1 AND $7)
	SELECT id FROM q`

// quarantineArgs returns the arguments of insertQuarantine; count says
// whether to count the entry in the device's state.
func quarantineArgs(q store.Quarantine, count bool) []any {
	return []any{[]byte(q.Device), text(q.Subject), text(q.Reason), text(q.Detail), q.Received, nonNil(q.Payload), count}
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
	const sel = "SELECT id, device, subject, reason, detail, received, payload FROM quarantine "
	var rows pgx.Rows
	if device == "" {
		rows, _ = s.pool.Query(ctx, sel+"ORDER BY id")
	} else {
		rows, _ = s.pool.Query(ctx, sel+"WHERE device = $1 ORDER BY id", []byte(device))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Quarantine, error) {
		var id int64
		var dev []byte
		var received time.Time
		q := store.Quarantine{}
		err := row.Scan(&id, &dev, &q.Subject, &q.Reason, &q.Detail, &received, &q.Payload)
		q.ID, q.Device, q.Received = uint64(id), string(dev), received.UTC()
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: quarantine of %q: %w", device, err)
	}
	return nilIfEmpty(out), nil
}

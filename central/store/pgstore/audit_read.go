package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// AuditorRoleSQL makes the NOLOGIN role anshim_auditor, allowed to read
// only what the data audit ("anshim ledger audit") reads, and nothing
// else (no identities, no quarantine payloads, no tokens). Run it as the
// database's owner after the central has migrated the schema, then grant
// the role to each auditor's login:
//
//	CREATE ROLE auditor_kim LOGIN PASSWORD '…' IN ROLE anshim_auditor;
//
// Reading a partitioned table checks only the parent's privileges, so the
// day partitions made later need no grant of their own.
const AuditorRoleSQL = `DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anshim_auditor') THEN
		CREATE ROLE anshim_auditor NOLOGIN;
	END IF;
END $$;
GRANT USAGE ON SCHEMA public TO anshim_auditor;
GRANT SELECT ON schema_migrations, devices, checkins, dropped_days,
	ledger_head, ledger_leaves, ledger_checkpoints TO anshim_auditor;
`

// minAuditVersion is the first schema version with everything the data
// audit reads (the ledger, migration 0006).
const minAuditVersion = 6

// auditView is the read-only store.AuditView of a PostgreSQL store: one
// REPEATABLE READ, READ ONLY transaction, so that every read sees the
// same snapshot while the central goes on writing.
type auditView struct {
	conn *pgx.Conn
	tx   pgx.Tx
}

var _ store.AuditView = (*auditView)(nil)

// OpenAuditView connects to dsn for the data audit, in a read-only session
// (default_transaction_read_only) and one read-only snapshot. It needs
// only SELECT on the tables of AuditorRoleSQL and migrates nothing; a
// schema older than the ledger's or newer than this binary is refused.
func OpenAuditView(ctx context.Context, dsn string) (store.AuditView, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open audit view: %w", err)
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open audit view: connect to %s: %w", cfg.Host, err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("pgstore: open audit view: %w", err)
	}
	v := &auditView{conn: conn, tx: tx}
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("pgstore: open audit view: %w", err)
	}
	var version int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&version); err != nil {
		v.Close()
		return nil, fmt.Errorf("pgstore: open audit view: read schema_migrations: %w", err)
	}
	switch {
	case version > len(migs):
		v.Close()
		return nil, fmt.Errorf("pgstore: open audit view: %w: the database is at version %d, this binary knows versions up to %d", ErrSchemaTooNew, version, len(migs))
	case version < minAuditVersion:
		v.Close()
		return nil, fmt.Errorf("pgstore: open audit view: the database is at schema version %d, before the ledger (%d): start the central once to migrate it", version, minAuditVersion)
	}
	return v, nil
}

// Close implements store.AuditView.
func (v *auditView) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v.tx.Rollback(ctx)
	return v.conn.Close(ctx)
}

// LedgerSize implements store.AuditView.
func (v *auditView) LedgerSize(ctx context.Context) (int64, error) {
	var n int64
	if err := v.tx.QueryRow(ctx, "SELECT size FROM ledger_head").Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: ledger size: %w", err)
	}
	return n, nil
}

// LedgerLeaves implements store.AuditView.
func (v *auditView) LedgerLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	rows, _ := v.tx.Query(ctx, "SELECT leaf FROM ledger_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx", start, end)
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("pgstore: ledger leaves %d-%d: %w", start, end, err)
	}
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("pgstore: ledger leaves %d-%d: %d found", start, end, len(out))
	}
	return out, nil
}

// LatestCheckpoint implements store.AuditView.
func (v *auditView) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	var c store.Checkpoint
	err := v.tx.QueryRow(ctx, "SELECT size, time, note FROM ledger_checkpoints ORDER BY id DESC LIMIT 1").Scan(&c.Size, &c.Time, &c.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("pgstore: latest checkpoint: %w", err)
	}
	c.Time = c.Time.UTC()
	return c, nil
}

// Devices implements store.AuditView: id, venue and enrollment time.
func (v *auditView) Devices(ctx context.Context) ([]store.Device, error) {
	rows, _ := v.tx.Query(ctx, "SELECT id, venue, enrolled FROM devices ORDER BY id")
	var out []store.Device
	var id, venue []byte
	var enrolled time.Time
	_, err := pgx.ForEachRow(rows, []any{&id, &venue, &enrolled}, func() error {
		out = append(out, store.Device{ID: string(id), Venue: string(venue), Enrolled: enrolled.UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: devices: %w", err)
	}
	return out, nil
}

// DroppedDays implements store.AuditView.
func (v *auditView) DroppedDays(ctx context.Context) ([]time.Time, error) {
	rows, _ := v.tx.Query(ctx, "SELECT day FROM dropped_days ORDER BY day")
	out, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("pgstore: dropped days: %w", err)
	}
	return out, nil
}

// EachCheckIn implements store.AuditView with one query, streamed, in
// (device, seq) order.
func (v *auditView) EachCheckIn(ctx context.Context, fn func(store.CheckIn) error) error {
	rows, err := v.tx.Query(ctx, `SELECT device, seq, venue, kind, quality, flags, raw_wall, raw_wall_ns, mono, boot,
		time, time_ns, received, hash, tag, sealed FROM checkins ORDER BY device, seq`)
	if err != nil {
		return fmt.Errorf("pgstore: read check-ins: %w", err)
	}
	defer rows.Close()
	var (
		seq, flags, mono          int64
		device, venue, boot, hash []byte
		tag, sealed               []byte
		kind, quality             int16
		raw, corrected, recvd     time.Time
		rawNS, correctedNS        int16
	)
	for rows.Next() {
		if err := rows.Scan(&device, &seq, &venue, &kind, &quality, &flags, &raw, &rawNS, &mono, &boot,
			&corrected, &correctedNS, &recvd, &hash, &tag, &sealed); err != nil {
			return fmt.Errorf("pgstore: read check-ins: %w", err)
		}
		r := store.CheckIn{Device: string(device), Seq: uint64(seq), Venue: string(venue),
			Kind: checkin.Kind(kind), Quality: checkin.TimeQuality(quality), Flags: uint32(flags),
			RawWall: joinTime(raw, rawNS), Time: joinTime(corrected, correctedNS), Received: recvd.UTC(),
			Mono: time.Duration(mono), Sealed: append([]byte(nil), sealed...)}
		if len(boot) != len(r.Boot) || len(hash) != len(r.Hash) || len(tag) != len(r.Tag) && len(tag) != 0 {
			return fmt.Errorf("pgstore: check-in %q/%d: boot id of %d bytes, hash of %d, tag of %d", device, seq, len(boot), len(hash), len(tag))
		}
		copy(r.Boot[:], boot)
		copy(r.Hash[:], hash)
		copy(r.Tag[:], tag)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: read check-ins: %w", err)
	}
	return nil
}

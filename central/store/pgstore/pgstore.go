// Package pgstore is the PostgreSQL backend of the central store, for a
// province or a nation: pgx with a connection pool, check-ins partitioned
// by day so that retention drops a whole day at once. It implements
// store.Store, passes storetest.Run, and mirrors boltstore's semantics.
//
// # Schema
//
// The schema is embedded in the binary (migrations/NNNN_*.sql). Open
// applies the migrations the database lacks, in order, in one transaction
// under an advisory lock, so that servers starting together apply each
// one once; schema_migrations(version, applied_at) records them. Open
// refuses a database migrated by a newer binary (ErrSchemaTooNew).
//
//	venues         id → name, registration details, status, created, updated
//	tokens         SHA-256 of the token → venue, expires, used
//	devices        id → venue, public key, nkey, enrolled
//	device_states  device → last seq, last hash, records, quarantined, breaks
//	boots          (device, boot id) → earliest start
//	quarantine     bigserial id → device, subject, reason, detail, received, payload, day, seq range, sum, size
//	checkins       (device, seq, day) → the record, PARTITION BY RANGE (day)
//	dropped_days   days whose partition DropDay dropped
//
// Venue and device ids and the devices' nkeys are bytea: any Go string
// (the conformance suite uses "k\x00"), compared byte by byte, so that
// listings come in boltstore's order. A quarantine entry's subject, reason
// and detail are text, with NUL and invalid UTF-8 replaced by U+FFFD so
// that an entry is never refused; a venue's name is text as given.
// Sequence numbers are bigint: Ingest refuses a sequence number above
// 2⁶³−1. Times are timestamptz (microseconds); where the store keeps
// nanoseconds (a check-in's raw wall time and corrected time, boot
// starts) a _ns column beside holds the nanoseconds below the microsecond.
//
// # Days and partitions
//
// A check-in's day is the KST calendar date (UTC+9, no daylight saving
// time) of its corrected time. The partition of a day, checkins_YYYYMMDD,
// is made by the first Ingest that stores a record of that day, inside its
// transaction: CREATE TABLE (LIKE checkins) then ATTACH PARTITION, after
// locking checkins in SHARE UPDATE EXCLUSIVE mode. That lock admits one
// maker at a time, so concurrent Ingests make a partition once, but lets
// other Ingests and readers go on; CREATE TABLE … PARTITION OF would lock
// checkins ACCESS EXCLUSIVE until the Ingest commits, stalling everything
// behind it. A Store remembers the days whose partition exists.
//
// DropDay drops a day's partition and records the day in dropped_days;
// Ingest never stores a record of a dropped day again (it refuses the
// batch with a *store.DayDroppedError), so that a late redelivery cannot
// bring back data past retention, nor be taken silently for a duplicate.
// A quarantine entry belongs to a day too (column day) and DropQuarantine
// deletes the day's entries.
//
// # Idempotence on (device, seq)
//
// A unique constraint on a partitioned table must include the partition
// key, so the primary key (device, seq, day) alone would let a record
// redelivered with another corrected time land a second time in another
// day. Ingest therefore first locks the device's device_states row
// (SELECT … FOR UPDATE), which serialises the Ingests of one device, then
// looks the batch's sequence numbers up in every partition and copies in
// only the records not found. Under READ COMMITTED each statement after
// the lock sees what the lock's previous holder committed. As in
// boltstore, the first stored copy of a (device, seq) wins: a later copy
// is skipped whatever its fields (sync/ingest compares chain hashes and
// quarantines a "seq-conflict" before it calls Ingest). Ingests of
// different devices run in parallel.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// Options configure Open. A nil *Options means the defaults.
type Options struct {
	// MaxConns bounds the connection pool. Default pgxpool's: the larger
	// of 4 and the number of CPUs.
	MaxConns int32
	// NoSync turns synchronous_commit off for the store's sessions: a
	// crash of the database server may lose the last commits (never
	// corrupt anything). Only for tests and benchmarks that measure
	// something else.
	NoSync bool
}

// minServerVersion is PostgreSQL 12: ATTACH PARTITION without an ACCESS
// EXCLUSIVE lock on the parent.
const minServerVersion = 120000

// Store is the PostgreSQL implementation of store.Store. Its methods are
// safe for concurrent use, also by several processes sharing a database.
type Store struct {
	pool *pgxpool.Pool

	mu   sync.Mutex
	days map[time.Time]bool // days whose partition is known to exist
}

var _ store.Store = (*Store)(nil)

// Open connects to the database that dsn names (a PostgreSQL URL or
// key=value string, as pgx parses it), checks that the server is
// PostgreSQL 12 or later, and migrates the schema to this binary's version.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	if opts != nil && opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts != nil && opts.NoSync {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	var version string
	if err := pool.QueryRow(ctx, "SHOW server_version_num").Scan(&version); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	if n, err := strconv.Atoi(version); err != nil || n < minServerVersion {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: server version %s, want PostgreSQL 12 or later", version)
	}
	if _, err := migrate(ctx, pool, migs); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	return &Store{pool: pool, days: make(map[time.Time]bool)}, nil
}

// Close closes the pool's connections, waiting for the ones in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// AddToken implements store.Store.
func (s *Store) AddToken(ctx context.Context, t store.Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: add token for venue %q: %w", t.Venue, err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO tokens (hash, venue, expires, used) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO NOTHING`, t.Hash[:], []byte(t.Venue), t.Expires, t.Used)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("pgstore: add token for venue %q: %w", t.Venue, err)
	}
	return nil
}

// UseToken implements store.Store. Expiry is compared at the microsecond
// the database keeps.
func (s *Store) UseToken(ctx context.Context, hash [32]byte, now time.Time) (store.Token, error) {
	t := store.Token{Hash: hash}
	err := s.update(ctx, func(tx pgx.Tx) error {
		var venue []byte
		err := tx.QueryRow(ctx, "SELECT venue, expires, used FROM tokens WHERE hash = $1 FOR UPDATE", hash[:]).
			Scan(&venue, &t.Expires, &t.Used)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		t.Venue, t.Expires = string(venue), t.Expires.UTC()
		if t.Used || !now.Before(t.Expires) {
			return store.ErrTokenUsed
		}
		t.Used = true
		_, err = tx.Exec(ctx, "UPDATE tokens SET used = true WHERE hash = $1", hash[:])
		return err
	})
	if err != nil {
		return store.Token{}, fmt.Errorf("pgstore: use token: %w", err)
	}
	return t, nil
}

// AddDevice implements store.Store. The device's chain state starts at
// the genesis hash.
func (s *Store) AddDevice(ctx context.Context, d store.Device) error {
	if d.ID == "" || len(d.ID) > 255 {
		return fmt.Errorf("pgstore: add device: id of %d bytes", len(d.ID))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: add device %q: %w", d.ID, err)
	}
	genesis := checkin.Genesis(d.ID)
	// One statement: the state row exists exactly when the device does.
	tag, err := s.pool.Exec(ctx, `WITH d AS (
			INSERT INTO devices (id, venue, public_key, nkey, enrolled) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO NOTHING RETURNING id)
		INSERT INTO device_states (device, last_hash) SELECT id, $6 FROM d`,
		[]byte(d.ID), []byte(d.Venue), nonNil(d.PublicKey), []byte(d.NKey), d.Enrolled, genesis[:])
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("pgstore: add device %q: %w", d.ID, err)
	}
	return nil
}

// Device implements store.Store.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	d, err := s.devices(ctx, "WHERE id = $1", []byte(id))
	if err == nil && len(d) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("pgstore: device %q: %w", id, err)
	}
	return d[0], nil
}

// Devices implements store.Store: all devices in id order.
func (s *Store) Devices(ctx context.Context) ([]store.Device, error) {
	d, err := s.devices(ctx, "ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("pgstore: list devices: %w", err)
	}
	return nilIfEmpty(d), nil
}

func (s *Store) devices(ctx context.Context, where string, args ...any) ([]store.Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT id, venue, public_key, nkey, enrolled FROM devices "+where, args...)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Device, error) {
		var id, venue, key, nkey []byte
		var d store.Device
		err := row.Scan(&id, &venue, &key, &nkey, &d.Enrolled)
		d.ID, d.Venue, d.PublicKey, d.NKey, d.Enrolled = string(id), string(venue), key, string(nkey), d.Enrolled.UTC()
		return d, err
	})
}

// State implements store.Store.
func (s *Store) State(ctx context.Context, device string) (store.DeviceState, error) {
	if err := ctx.Err(); err != nil {
		return store.DeviceState{}, fmt.Errorf("pgstore: state of device %q: %w", device, err)
	}
	st, err := scanState(s.pool.QueryRow(ctx, selectState, []byte(device)), device)
	if err != nil {
		return store.DeviceState{}, fmt.Errorf("pgstore: state of device %q: %w", device, err)
	}
	return st, nil
}

const selectState = "SELECT last_seq, last_hash, records, quarantined, breaks FROM device_states WHERE device = $1"

// scanState scans a row of selectState; store.ErrNotFound if there is none.
func scanState(row pgx.Row, device string) (store.DeviceState, error) {
	var lastSeq, records, quarantined, breaks int64
	var hash []byte
	err := row.Scan(&lastSeq, &hash, &records, &quarantined, &breaks)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.DeviceState{}, store.ErrNotFound
	} else if err != nil {
		return store.DeviceState{}, err
	}
	st := store.DeviceState{
		Device:      device,
		LastSeq:     uint64(lastSeq),
		Records:     uint64(records),
		Quarantined: uint64(quarantined),
		Breaks:      uint64(breaks),
	}
	if copy(st.LastHash[:], hash) != len(st.LastHash) {
		return store.DeviceState{}, fmt.Errorf("last hash of %d bytes", len(hash))
	}
	return st, nil
}

// BootStart implements store.Store.
func (s *Store) BootStart(ctx context.Context, device string, boot [16]byte) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("pgstore: boot start of device %q: %w", device, err)
	}
	var start time.Time
	var ns int16
	err := s.pool.QueryRow(ctx, "SELECT start, start_ns FROM boots WHERE device = $1 AND boot = $2",
		[]byte(device), boot[:]).Scan(&start, &ns)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, fmt.Errorf("pgstore: boot start of device %q: %w", device, err)
	}
	return joinTime(start, ns), true, nil
}

// update runs fn in a READ COMMITTED transaction after checking ctx.
func (s *Store) update(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
}

// nilIfEmpty returns nil for an empty list, as boltstore does (a JSON
// null, not []).
func nilIfEmpty[T any](list []T) []T {
	if len(list) == 0 {
		return nil
	}
	return list
}

// nonNil returns b, or an empty slice for nil (which pgx would send as
// NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// LockLedgerSigner is the key of the advisory lock that the central
// signing the ledger's checkpoints holds: "anshim" and 2 (lockMigrate is
// 1). Advisory locks are scoped to the database.
const LockLedgerSigner int64 = 0x616e7368696d0002

// Lease is a session-level advisory lock held on a connection of its own,
// taken out of the pool: exactly one session of the database holds it at
// a time. PostgreSQL releases it when that session ends — Release, the
// process dying (its socket closes), pg_terminate_backend, a restart of
// the server — so a lease is never held by a process that is gone, and
// nothing has to expire. A holder that lost its session learns it from
// [Lease.Check].
type Lease struct {
	key int64

	mu   sync.Mutex
	conn *pgx.Conn // nil once released
}

// TryLease tries once to take the advisory lock key on a new session. It
// returns nil, nil when another session holds it.
func (s *Store) TryLease(ctx context.Context, key int64) (*Lease, error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgstore: lease %#x: %w", key, err)
	}
	var ok bool
	if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		c.Release() // the pool drops a broken connection
		return nil, fmt.Errorf("pgstore: lease %#x: %w", key, err)
	}
	if !ok {
		c.Release() // holds no lock: back to the pool, no new session per try
		return nil, nil
	}
	// Out of the pool for good: the lock lives as long as this session.
	return &Lease{key: key, conn: c.Hijack()}, nil
}

// ErrLeaseLost is returned by [Lease.Check] when the lease's session is
// gone or no longer holds the lock.
var ErrLeaseLost = errors.New("lease lost")

// Check asks the lease's session whether it still holds the lock. Any
// failure — the session was terminated, the server restarted, the
// network is down — means the lease may be another's now: it returns an
// error wrapping ErrLeaseLost and releases the lease.
func (l *Lease) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return fmt.Errorf("pgstore: lease %#x: released: %w", l.key, ErrLeaseLost)
	}
	// pg_locks splits a bigint key into classid (high half) and objid
	// (low half), objsubid 1.
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
		AND pid = pg_backend_pid() AND granted AND objsubid = 1
		AND classid::bigint = $1 AND objid::bigint = $2)`, l.key>>32, l.key&0xffffffff).Scan(&held)
	if err == nil && held {
		return nil
	}
	l.conn.Close(context.Background())
	l.conn = nil
	if err == nil {
		err = errors.New("the session no longer holds the lock")
	}
	return fmt.Errorf("pgstore: lease %#x: %w: %w", l.key, ErrLeaseLost, err)
}

// Release gives the lease up by ending its session. It is safe to call
// more than once.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close(ctx)
	l.conn = nil
	if err != nil {
		return fmt.Errorf("pgstore: release lease %#x: %w", l.key, err)
	}
	return nil
}

// PID returns the backend process id of the lease's session (for
// pg_terminate_backend in tests and by operators), or 0 once released.
func (l *Lease) PID() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return 0
	}
	return l.conn.PgConn().PID()
}

package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Ensure that one session at a time holds a lease, and that the lease
// passes to another store when its holder releases it, is terminated
// (pg_terminate_backend) or closes its connection, the holder learning
// it from Check.
func TestLease(t *testing.T) {
	ctx := context.Background()
	dsn := newDatabase(t)
	tests := []struct {
		name string
		lose func(t *testing.T, l *Lease) // ends the holder's lease
		// checkFails: the holder's Check reports the loss.
		checkFails bool
	}{
		{"release", func(t *testing.T, l *Lease) {
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"pg_terminate_backend", func(t *testing.T, l *Lease) {
			admin, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close(ctx)
			var ok bool
			if err := admin.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int64(l.PID())).Scan(&ok); err != nil || !ok {
				t.Fatalf("pg_terminate_backend: %v %v", ok, err)
			}
		}, true},
		{"unlock by the session itself", func(t *testing.T, l *Lease) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", l.key); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := LockLedgerSigner + int64(100+i) // a lock of this case only
			a, b := openStore(t, dsn, nil), openStore(t, dsn, nil)
			la, err := a.TryLease(ctx, key)
			if err != nil || la == nil {
				t.Fatalf("first TryLease = %v, %v; want a lease", la, err)
			}
			defer la.Release(ctx)
			if err := la.Check(ctx); err != nil {
				t.Fatalf("holder's Check: %v", err)
			}
			if lb, err := b.TryLease(ctx, key); err != nil || lb != nil {
				t.Fatalf("second TryLease while held = %v, %v; want nil, nil", lb, err)
			}
			// The holder itself cannot take it twice either.
			if l2, err := a.TryLease(ctx, key); err != nil || l2 != nil {
				t.Fatalf("holder's store TryLease while held = %v, %v; want nil, nil", l2, err)
			}
			tt.lose(t, la)
			if err := la.Check(ctx); tt.checkFails != (err != nil) || (err != nil && !errors.Is(err, ErrLeaseLost)) {
				t.Fatalf("holder's Check after losing = %v; want ErrLeaseLost", err)
			}
			if la.PID() != 0 {
				t.Errorf("PID of a lost lease = %d, want 0", la.PID())
			}
			// A terminated or closed session's backend lets go of its locks
			// as it exits, a moment after pg_terminate_backend or Close
			// returns: the next holder retries, as the central's signer loop
			// does every second.
			var lb *Lease
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				lb, err = b.TryLease(ctx, key)
				if err != nil || lb != nil || time.Now().After(deadline) {
					break
				}
			}
			if err != nil || lb == nil {
				t.Fatalf("TryLease within 5 s after the holder lost it = %v, %v; want a lease", lb, err)
			}
			defer lb.Release(ctx)
			if err := lb.Check(ctx); err != nil {
				t.Fatalf("new holder's Check: %v", err)
			}
			if la2, err := a.TryLease(ctx, key); err != nil || la2 != nil {
				t.Fatalf("old holder's TryLease = %v, %v; want nil, nil", la2, err)
			}
		})
	}
}

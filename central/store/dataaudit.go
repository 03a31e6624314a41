package store

import (
	"context"
	"time"
)

// AuditView is a read-only, consistent view of a store for the data audit
// (central/audit, "anshim ledger audit"): the ledger, the devices, the
// audit trail, the days dropped and every stored check-in, all as of one
// moment. Backends open it with read-only access (bbolt's read-only mode,
// a PostgreSQL role with SELECT only): it never writes.
type AuditView interface {
	// LedgerSize returns the number of leaves.
	LedgerSize(ctx context.Context) (int64, error)
	// LedgerLeaves returns leaves start to end−1 (end at most the size).
	LedgerLeaves(ctx context.Context, start, end int64) ([][]byte, error)
	// LatestCheckpoint returns the checkpoint added last (ErrNotFound
	// before the first).
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// Devices returns the enrolled devices in id order.
	Devices(ctx context.Context) ([]Device, error)
	// DroppedDays returns the KST days DropDay dropped, ascending, each as
	// 00:00 UTC of its date.
	DroppedDays(ctx context.Context) ([]time.Time, error)
	// EachCheckIn calls fn for every stored check-in, each device's
	// check-ins together and in sequence order (also those of a device
	// that is no longer enrolled), until fn returns an error, which it
	// returns.
	EachCheckIn(ctx context.Context, fn func(CheckIn) error) error
	// Close ends the view.
	Close() error
}

package ingest

import (
	"context"
	"time"

	"github.com/anshim/anshim/central/store"
)

// Store is what an Ingester reads and writes: the methods of store.Store
// it calls, with store.Store's contracts (*boltstore.Store and
// *pgstore.Store). Ingest is the one write of a batch: atomic and
// idempotent on (device, seq), so a batch redelivered after a crash, or
// stored meanwhile by another worker, is stored once.
type Store interface {
	// Device returns an enrolled device (store.ErrNotFound if unknown).
	Device(ctx context.Context, id string) (store.Device, error)
	// State returns the device's chain state.
	State(ctx context.Context, device string) (store.DeviceState, error)
	// CheckIns calls fn for a device's check-ins in sequence order from
	// seq from, until fn returns false.
	CheckIns(ctx context.Context, device string, from uint64, fn func(store.CheckIn) bool) error
	// BatchLeaf returns the ledger leaf of the batch that stored the
	// device's record seq (store.ErrNotFound when there is none).
	BatchLeaf(ctx context.Context, device string, seq uint64) (int64, error)
	// BootStart returns the earliest known start of a device's boot.
	BootStart(ctx context.Context, device string, boot [16]byte) (time.Time, bool, error)
	// Ingest stores a batch atomically and returns how many records were
	// new (a *store.DayDroppedError refuses it whole).
	Ingest(ctx context.Context, b store.Batch) (stored int, err error)
	// AddQuarantine stores a quarantine entry and returns its id.
	AddQuarantine(ctx context.Context, q store.Quarantine) (uint64, error)
	// QuarantineUsage returns the entries of the device's quarantine and
	// the bytes of their payloads (the quota's measure).
	QuarantineUsage(ctx context.Context, device string) (entries int, bytes int64, err error)
}

// The central's store is an ingest Store.
var _ Store = store.Store(nil)

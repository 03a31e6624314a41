package store

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Ledger is the store's part in the transparency log (package ledger): the
// leaves, their tlog stored hashes and the signed checkpoints.
//
// Leaves are appended only inside other writes, in their transaction:
// Ingest appends Batch.Leaf when at least one record of the batch was new
// (a retry that stores nothing appends nothing), AddAudit appends the
// event's leaf (ledgerstore.EventLeaf). So a leaf exists if and only if its
// data does, also across a crash. Leaf i's hashes are tlog.StoredHashes(i,
// leaf, …), kept by storage index; concurrent appends are serialized.
type Ledger interface {
	// LedgerSize returns the number of leaves.
	LedgerSize(ctx context.Context) (int64, error)
	// LedgerLeaves returns leaves start to end−1 (end at most the size).
	LedgerLeaves(ctx context.Context, start, end int64) ([][]byte, error)
	// LedgerHashes returns the stored hashes at the storage indexes, as
	// tlog.HashReader does; an index not (yet) stored is an error.
	LedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// BatchLeaf returns the index of the leaf of the batch that stored
	// the device's record seq (ErrNotFound when there is none: a record
	// never stored, or stored before the ledger existed).
	BatchLeaf(ctx context.Context, device string, seq uint64) (int64, error)
	// AddCheckpoint keeps a signed checkpoint. Checkpoints never shrink:
	// one smaller than the latest is refused.
	AddCheckpoint(ctx context.Context, c Checkpoint) error
	// LatestCheckpoint returns the checkpoint added last (ErrNotFound
	// before the first).
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// Checkpoints returns every checkpoint kept, oldest first.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
}

// Checkpoint is a signed checkpoint of the ledger as the store keeps it.
type Checkpoint struct {
	Size int64     `json:"size"`
	Time time.Time `json:"time"` // when it was signed
	Note []byte    `json:"note"` // the signed note (C2SP tlog-checkpoint)
}

package ledgerstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/ledger"
)

// HashReader reads a store's ledger hashes.
func HashReader(ctx context.Context, st store.Ledger) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return st.LedgerHashes(ctx, idx)
	})
}

// Checkpointer signs checkpoints of a store's ledger, at least every
// ledger.Every while leaves arrive (the caller's loop).
type Checkpointer struct {
	Store  store.Ledger
	Signer note.Signer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Checkpoint signs and keeps a checkpoint of the whole tree when it grew
// since the latest one (or there is none yet), and returns the latest
// checkpoint and whether it made it.
func (c *Checkpointer) Checkpoint(ctx context.Context) (store.Checkpoint, bool, error) {
	latest, err := c.Store.LatestCheckpoint(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return latest, false, err
	}
	first := err != nil
	n, err := c.Store.LedgerSize(ctx)
	if err != nil {
		return latest, false, err
	}
	if !first && n <= latest.Size {
		return latest, false, nil
	}
	h, err := tlog.TreeHash(n, HashReader(ctx, c.Store))
	if err != nil {
		return latest, false, fmt.Errorf("ledger: tree hash at %d: %w", n, err)
	}
	msg, err := ledger.Sign(ledger.Checkpoint{Size: n, Hash: h}, c.Signer)
	if err != nil {
		return latest, false, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	cp := store.Checkpoint{Size: n, Time: now().UTC(), Note: msg}
	if err := c.Store.AddCheckpoint(ctx, cp); err != nil {
		return latest, false, err
	}
	return cp, true, nil
}

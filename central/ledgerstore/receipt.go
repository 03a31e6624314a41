package ledgerstore

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/ledger"
)

// Prove returns the receipt of leaf index against the store's latest
// checkpoint.
func Prove(ctx context.Context, st store.Ledger, index int64) (ledger.Receipt, error) {
	cp, err := st.LatestCheckpoint(ctx)
	if err != nil {
		return ledger.Receipt{}, err
	}
	if index < 0 || index >= cp.Size {
		return ledger.Receipt{}, fmt.Errorf("ledger: leaf %d, checkpoint of %d: %w", index, cp.Size, ledger.ErrNotInCheckpoint)
	}
	leaves, err := st.LedgerLeaves(ctx, index, index+1)
	if err != nil {
		return ledger.Receipt{}, err
	}
	p, err := tlog.ProveRecord(cp.Size, index, HashReader(ctx, st))
	if err != nil {
		return ledger.Receipt{}, fmt.Errorf("ledger: prove leaf %d in %d: %w", index, cp.Size, err)
	}
	return ledger.Receipt{Index: index, Leaf: string(leaves[0]), Proof: p, Checkpoint: string(cp.Note)}, nil
}

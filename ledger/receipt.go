package ledger

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Receipt proves that a leaf is in the log: the leaf, its index, its
// inclusion proof in the tree of a signed checkpoint. It verifies offline
// with the ledger verifier key alone.
type Receipt struct {
	Index      int64       `json:"index"`
	Leaf       string      `json:"leaf"`       // the leaf's text
	Proof      []tlog.Hash `json:"proof"`      // tlog.RecordProof
	Checkpoint string      `json:"checkpoint"` // the signed note
}

// ErrNotInCheckpoint: the leaf is newer than the latest checkpoint; ask
// again after the next one (at most Every later).
var ErrNotInCheckpoint = errors.New("leaf not yet in a signed checkpoint")

// Verify checks the receipt: the checkpoint's signature, and the leaf's
// inclusion in its tree (tlog.CheckRecord). It returns the checkpoint and
// the parsed leaf.
func (r *Receipt) Verify(v note.Verifier) (Checkpoint, Leaf, error) {
	c, err := Open([]byte(r.Checkpoint), v)
	if err != nil {
		return c, nil, err
	}
	leaf, err := ParseLeaf([]byte(r.Leaf))
	if err != nil {
		return c, nil, err
	}
	if err := tlog.CheckRecord(r.Proof, c.Size, c.Hash, r.Index, tlog.RecordHash([]byte(r.Leaf))); err != nil {
		return c, nil, fmt.Errorf("ledger: leaf %d is not in the checkpoint of %d: %w", r.Index, c.Size, err)
	}
	return c, leaf, nil
}

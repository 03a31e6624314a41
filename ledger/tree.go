package ledger

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Tree is a tlog tree in memory: the stored hashes of its leaves, in
// storage order. It is how an auditor recomputes the log from its leaves,
// and a tlog.HashReader for proofs. The zero Tree is empty.
type Tree struct {
	hashes []tlog.Hash
	n      int64
}

// Size returns the number of leaves.
func (t *Tree) Size() int64 { return t.n }

// Append adds a leaf.
func (t *Tree) Append(leaf []byte) error {
	return t.AppendHash(tlog.RecordHash(leaf))
}

// AppendHash adds a leaf by its record hash (tlog.RecordHash).
func (t *Tree) AppendHash(h tlog.Hash) error {
	hashes, err := tlog.StoredHashesForRecordHash(t.n, h, t)
	if err != nil {
		return err
	}
	t.hashes = append(t.hashes, hashes...)
	t.n++
	return nil
}

// ReadHashes implements tlog.HashReader.
func (t *Tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("ledger: hash %d of a tree of %d", x, t.n)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

// Root returns the root hash of the tree's first n leaves.
func (t *Tree) Root(n int64) (tlog.Hash, error) {
	if n < 0 || n > t.n {
		return tlog.Hash{}, fmt.Errorf("ledger: root of %d leaves of a tree of %d", n, t.n)
	}
	return tlog.TreeHash(n, t)
}

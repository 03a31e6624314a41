package ledger

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Source is where an auditor reads a log: the central's HTTP API (Client)
// or, in tests, a store.
type Source interface {
	// Checkpoint returns the latest signed checkpoint.
	Checkpoint(ctx context.Context) ([]byte, error)
	// Leaves returns leaves start to end−1; it may return fewer (a page),
	// but at least one.
	Leaves(ctx context.Context, start, end int64) ([][]byte, error)
	// Consistency returns the proof that the tree of size old is a prefix
	// of the tree of size new (tlog.TreeProof).
	Consistency(ctx context.Context, old, new int64) (tlog.TreeProof, error)
}

// ErrFork: the log is not consistent with a checkpoint seen before — it
// was rewritten (leaves edited or deleted) or shows different histories
// to different people.
var ErrFork = errors.New("log inconsistent with the saved checkpoint")

// Report is what Verify found.
type Report struct {
	Checkpoint Checkpoint
	Note       []byte         // the signed checkpoint verified
	Types      map[string]int // leaves per type
}

// Verify audits the whole log of src: it verifies the latest checkpoint's
// signature, downloads every leaf up to its size, checks each is a
// well-formed leaf, recomputes the tree and compares its root with the
// checkpoint's. With prev (a signed checkpoint saved by an earlier
// audit, or nil) it checks that the log still holds the tree prev
// signed: the recomputed root at prev's size, and the log's consistency
// proof. An error wrapping ErrFork means the log was rewritten.
func Verify(ctx context.Context, src Source, v note.Verifier, prev []byte) (Report, error) {
	var old *Checkpoint
	if prev != nil {
		c, err := Open(prev, v)
		if err != nil {
			return Report{}, fmt.Errorf("saved checkpoint: %w", err)
		}
		old = &c
	}
	msg, err := src.Checkpoint(ctx)
	if err != nil {
		return Report{}, err
	}
	c, err := Open(msg, v)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Checkpoint: c, Note: msg, Types: make(map[string]int)}
	if old != nil && old.Size > c.Size {
		return rep, fmt.Errorf("ledger: %w: the log shrank from %d leaves (saved) to %d", ErrFork, old.Size, c.Size)
	}
	var t Tree
	for t.Size() < c.Size {
		leaves, err := src.Leaves(ctx, t.Size(), c.Size)
		if err != nil {
			return rep, err
		}
		if len(leaves) == 0 || int64(len(leaves)) > c.Size-t.Size() {
			return rep, fmt.Errorf("ledger: asked for leaves %d-%d, got %d", t.Size(), c.Size, len(leaves))
		}
		for _, l := range leaves {
			pl, err := ParseLeaf(l)
			if err != nil {
				return rep, fmt.Errorf("leaf %d: %w", t.Size(), err)
			}
			rep.Types[pl.leafType()]++
			t.Append(l)
		}
	}
	root, err := t.Root(c.Size)
	if err != nil {
		return rep, err
	}
	if root != c.Hash {
		return rep, fmt.Errorf("ledger: the leaves do not make the signed root at %d (got %s, signed %s)", c.Size, root, c.Hash)
	}
	if old != nil && old.Size > 0 { // every tree extends the empty one
		r, err := t.Root(old.Size)
		if err != nil {
			return rep, err
		}
		if r != old.Hash {
			return rep, fmt.Errorf("ledger: %w: the first %d leaves no longer make the saved root (got %s, saved %s)", ErrFork, old.Size, r, old.Hash)
		}
		p, err := src.Consistency(ctx, old.Size, c.Size)
		if err != nil {
			return rep, err
		}
		if err := tlog.CheckTree(p, c.Size, c.Hash, old.Size, old.Hash); err != nil {
			return rep, fmt.Errorf("ledger: %w: consistency proof %d→%d: %v", ErrFork, old.Size, c.Size, err)
		}
	}
	return rep, nil
}

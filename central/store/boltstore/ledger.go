package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/store"
)

// The ledger's buckets, made on the first write:
//
//	ledger-leaves        leaf index u64 → leaf; the bucket's sequence is the size
//	ledger-hashes        tlog storage index u64 → hash (32 bytes)
//	ledger-batches       u8 len ‖ device ‖ last stored seq u64 ‖ leaf index u64 → first stored seq u64
//	ledger-checkpoints   id u64 (bucket sequence) → JSON store.Checkpoint
var (
	bucketLedgerLeaves  = []byte("ledger-leaves")
	bucketLedgerHashes  = []byte("ledger-hashes")
	bucketLedgerBatches = []byte("ledger-batches")
	bucketLedgerCkpts   = []byte("ledger-checkpoints")
)

// testHookLedger, if set, runs at the end of Ingest's and AddAudit's
// transactions after the leaf was appended; an error rolls the whole
// transaction back (tests of "no data without leaf, no leaf without data").
var testHookLedger func() error

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// appendLeaf appends a leaf and its stored hashes in tx and returns its
// index.
func appendLeaf(tx *bolt.Tx, leaf []byte) (int64, error) {
	lb, err := tx.CreateBucketIfNotExists(bucketLedgerLeaves)
	if err != nil {
		return 0, err
	}
	hb, err := tx.CreateBucketIfNotExists(bucketLedgerHashes)
	if err != nil {
		return 0, err
	}
	// Keys only ever grow: fill pages instead of splitting them in half.
	lb.FillPercent, hb.FillPercent = 1, 1
	n := int64(lb.Sequence())
	hashes, err := tlog.StoredHashes(n, leaf, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return readHashes(hb, idx)
	}))
	if err != nil {
		return 0, fmt.Errorf("ledger leaf %d: %w", n, err)
	}
	at := tlog.StoredHashIndex(0, n)
	for i, h := range hashes {
		if err := hb.Put(u64(uint64(at+int64(i))), h[:]); err != nil {
			return 0, err
		}
	}
	if err := lb.Put(u64(uint64(n)), leaf); err != nil {
		return 0, err
	}
	if err := lb.SetSequence(uint64(n + 1)); err != nil {
		return 0, err
	}
	if testHookLedger != nil {
		if err := testHookLedger(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// appendBatchLeaf appends a batch's leaf and indexes it by the range of
// the records it stored.
func appendBatchLeaf(tx *bolt.Tx, device string, leaf []byte, first, last uint64) error {
	n, err := appendLeaf(tx, leaf)
	if err != nil {
		return err
	}
	bb, err := tx.CreateBucketIfNotExists(bucketLedgerBatches)
	if err != nil {
		return err
	}
	k := append(checkInKey(device, last), u64(uint64(n))...)
	return bb.Put(k, u64(first))
}

func readHashes(hb *bolt.Bucket, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		var v []byte
		if hb != nil && x >= 0 {
			v = hb.Get(u64(uint64(x)))
		}
		if len(v) != tlog.HashSize {
			return nil, fmt.Errorf("ledger hash %d: %w", x, store.ErrNotFound)
		}
		copy(out[i][:], v)
	}
	return out, nil
}

// LedgerSize implements store.Ledger.
func (s *Store) LedgerSize(ctx context.Context) (int64, error) {
	var n int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if lb := tx.Bucket(bucketLedgerLeaves); lb != nil {
			n = int64(lb.Sequence())
		}
		return nil
	})
	return n, err
}

// LedgerLeaves implements store.Ledger.
func (s *Store) LedgerLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	var out [][]byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLedgerLeaves)
		var size int64
		if lb != nil {
			size = int64(lb.Sequence())
		}
		if start < 0 || end < start || end > size {
			return fmt.Errorf("leaves %d-%d of %d: %w", start, end, size, store.ErrNotFound)
		}
		for i := start; i < end; i++ {
			v := lb.Get(u64(uint64(i)))
			if v == nil {
				return fmt.Errorf("leaf %d: %w", i, store.ErrNotFound)
			}
			out = append(out, bytes.Clone(v))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger leaves: %w", err)
	}
	return out, nil
}

// LedgerHashes implements store.Ledger.
func (s *Store) LedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	var out []tlog.Hash
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = readHashes(tx.Bucket(bucketLedgerHashes), indexes)
		return err
	})
	return out, err
}

// BatchLeaf implements store.Ledger.
func (s *Store) BatchLeaf(ctx context.Context, device string, seq uint64) (int64, error) {
	n := int64(-1)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		bb := tx.Bucket(bucketLedgerBatches)
		if bb == nil || len(device) > 255 {
			return store.ErrNotFound
		}
		prefix := checkInKey(device, 0)[:1+len(device)]
		c := bb.Cursor()
		for k, v := c.Seek(checkInKey(device, seq)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) == len(prefix)+16 && len(v) == 8 && binary.BigEndian.Uint64(v) <= seq {
				n = int64(binary.BigEndian.Uint64(k[len(prefix)+8:]))
				return nil
			}
		}
		return store.ErrNotFound
	})
	if err != nil {
		return 0, fmt.Errorf("ledger leaf of %s/%d: %w", device, seq, err)
	}
	return n, nil
}

// AddCheckpoint implements store.Ledger.
func (s *Store) AddCheckpoint(ctx context.Context, c store.Checkpoint) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketLedgerCkpts)
		if err != nil {
			return err
		}
		if _, v := b.Cursor().Last(); v != nil {
			var last store.Checkpoint
			if err := json.Unmarshal(v, &last); err != nil {
				return err
			}
			if c.Size < last.Size {
				return fmt.Errorf("size %d below the latest checkpoint's %d", c.Size, last.Size)
			}
		}
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return b.Put(u64(id), v)
	})
	if err != nil {
		return fmt.Errorf("add ledger checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint implements store.Ledger.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	var c store.Checkpoint
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLedgerCkpts)
		if b == nil {
			return store.ErrNotFound
		}
		_, v := b.Cursor().Last()
		if v == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(v, &c)
	})
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("latest ledger checkpoint: %w", err)
	}
	return c, nil
}

// Checkpoints implements store.Ledger.
func (s *Store) Checkpoints(ctx context.Context) ([]store.Checkpoint, error) {
	var out []store.Checkpoint
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLedgerCkpts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var c store.Checkpoint
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("ledger checkpoints: %w", err)
	}
	return out, nil
}

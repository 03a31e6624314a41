package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anshim/anshim/central/store"
)

// appendLeaf appends a leaf and its stored hashes in tx and returns its
// index. It locks ledger_head until tx ends: appends are serialized, so
// callers append last, just before the commit.
func appendLeaf(ctx context.Context, tx pgx.Tx, leaf []byte) (int64, error) {
	var n int64
	if err := tx.QueryRow(ctx, "SELECT size FROM ledger_head FOR UPDATE").Scan(&n); err != nil {
		return 0, fmt.Errorf("ledger head: %w", err)
	}
	hashes, err := tlog.StoredHashes(n, leaf, tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return readHashes(ctx, tx, idx)
	}))
	if err != nil {
		return 0, fmt.Errorf("ledger leaf %d: %w", n, err)
	}
	at := tlog.StoredHashIndex(0, n)
	q := &pgx.Batch{}
	q.Queue("INSERT INTO ledger_leaves (idx, leaf) VALUES ($1, $2)", n, leaf)
	for i, h := range hashes {
		q.Queue("INSERT INTO ledger_hashes (idx, hash) VALUES ($1, $2)", at+int64(i), h[:])
	}
	q.Queue("UPDATE ledger_head SET size = $1", n+1)
	if err := tx.SendBatch(ctx, q).Close(); err != nil {
		return 0, fmt.Errorf("ledger leaf %d: %w", n, err)
	}
	return n, nil
}

// appendBatchLeaf appends a batch's leaf and indexes it by the range of
// the records it stored.
func appendBatchLeaf(ctx context.Context, tx pgx.Tx, device string, leaf []byte, first, last uint64) error {
	n, err := appendLeaf(ctx, tx, leaf)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO ledger_batches (device, last_seq, idx, first_seq) VALUES ($1, $2, $3, $4)",
		[]byte(device), int64(last), n, int64(first))
	return err
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	rows, _ := q.Query(ctx, "SELECT idx, hash FROM ledger_hashes WHERE idx = ANY($1)", indexes)
	found := make(map[int64]tlog.Hash, len(indexes))
	var idx int64
	var h []byte
	_, err := pgx.ForEachRow(rows, []any{&idx, &h}, func() error {
		if len(h) != tlog.HashSize {
			return fmt.Errorf("ledger hash %d of %d bytes", idx, len(h))
		}
		found[idx] = tlog.Hash(h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("ledger hash %d: %w", x, store.ErrNotFound)
		}
		out[i] = h
	}
	return out, nil
}

// LedgerSize implements store.Ledger.
func (s *Store) LedgerSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT size FROM ledger_head").Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: ledger size: %w", err)
	}
	return n, nil
}

// LedgerLeaves implements store.Ledger.
func (s *Store) LedgerLeaves(ctx context.Context, start, end int64) ([][]byte, error) {
	size, err := s.LedgerSize(ctx)
	if err != nil {
		return nil, err
	}
	if start < 0 || end < start || end > size {
		return nil, fmt.Errorf("pgstore: ledger leaves %d-%d of %d: %w", start, end, size, store.ErrNotFound)
	}
	rows, _ := s.pool.Query(ctx, "SELECT leaf FROM ledger_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx", start, end)
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("pgstore: ledger leaves: %w", err)
	}
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("pgstore: ledger leaves %d-%d: %d found", start, end, len(out))
	}
	return out, nil
}

// LedgerHashes implements store.Ledger.
func (s *Store) LedgerHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out, err := readHashes(ctx, s.pool, indexes)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return out, nil
}

// BatchLeaf implements store.Ledger.
func (s *Store) BatchLeaf(ctx context.Context, device string, seq uint64) (int64, error) {
	if seq > 1<<63-1 {
		return 0, fmt.Errorf("pgstore: ledger leaf of %s/%d: %w", device, seq, store.ErrNotFound)
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT idx FROM ledger_batches
		WHERE device = $1 AND last_seq >= $2 AND first_seq <= $2 ORDER BY last_seq, idx LIMIT 1`,
		[]byte(device), int64(seq)).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("pgstore: ledger leaf of %s/%d: %w", device, seq, err)
	}
	return n, nil
}

// AddCheckpoint implements store.Ledger.
func (s *Store) AddCheckpoint(ctx context.Context, c store.Checkpoint) error {
	err := s.update(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE ledger_checkpoints IN EXCLUSIVE MODE"); err != nil {
			return err
		}
		var last int64
		err := tx.QueryRow(ctx, "SELECT size FROM ledger_checkpoints ORDER BY id DESC LIMIT 1").Scan(&last)
		if err == nil && c.Size < last {
			return fmt.Errorf("size %d below the latest checkpoint's %d", c.Size, last)
		} else if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO ledger_checkpoints (size, time, note) VALUES ($1, $2, $3)", c.Size, c.Time, c.Note)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: add ledger checkpoint: %w", err)
	}
	return nil
}

// LatestCheckpoint implements store.Ledger.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	var c store.Checkpoint
	err := s.pool.QueryRow(ctx, "SELECT size, time, note FROM ledger_checkpoints ORDER BY id DESC LIMIT 1").Scan(&c.Size, &c.Time, &c.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("pgstore: latest ledger checkpoint: %w", err)
	}
	c.Time = c.Time.UTC()
	return c, nil
}

// Checkpoints implements store.Ledger.
func (s *Store) Checkpoints(ctx context.Context) ([]store.Checkpoint, error) {
	rows, _ := s.pool.Query(ctx, "SELECT size, time, note FROM ledger_checkpoints ORDER BY id")
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Checkpoint, error) {
		var c store.Checkpoint
		err := row.Scan(&c.Size, &c.Time, &c.Note)
		c.Time = c.Time.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: ledger checkpoints: %w", err)
	}
	return nilIfEmpty(out), nil
}

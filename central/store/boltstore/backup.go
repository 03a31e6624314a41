package boltstore

import (
	"context"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Backup implements store.Backuper: the file as one read transaction sees
// it (bbolt's Tx.WriteTo), while ingest goes on. A long backup holds that
// transaction: should the file have to grow past its mapping meanwhile,
// commits wait until the backup ends.
func (s *Store) Backup(ctx context.Context, start func(size int64) io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		w := start(tx.Size())
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return n, fmt.Errorf("backup: %w", cerr) // bbolt's WriteTo does not wrap
		}
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// ctxWriter fails its writes once ctx ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

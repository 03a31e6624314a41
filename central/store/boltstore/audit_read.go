package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// auditView is the read-only store.AuditView of a store file.
type auditView struct {
	*Store // its read methods; the file is open read-only, writes fail
}

var _ store.AuditView = auditView{}

// ErrLocked is wrapped by OpenAuditView's error when another process (a
// running central) holds the store file.
var ErrLocked = errors.New("store file locked by another process")

// OpenAuditView opens the store file at path read-only (bbolt's ReadOnly:
// the file is opened O_RDONLY and nothing is created or written) for the
// data audit. bbolt takes a shared lock, which a running central's
// exclusive lock excludes: audit a copy of the file (a backup) or the
// file of a stopped central. timeout bounds the wait for the lock
// (default 2 s); then the error wraps ErrLocked.
func OpenAuditView(path string, timeout time.Duration) (store.AuditView, error) {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s read-only: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s read-only: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || string(m.Get(keyFormat)) != format {
			return fmt.Errorf("not an Anshim central store (want format %q)", format)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s read-only: %w", path, err)
	}
	return auditView{&Store{db: db}}, nil
}

// DroppedDays implements store.AuditView.
func (v auditView) DroppedDays(ctx context.Context) ([]time.Time, error) {
	var out []time.Time
	err := v.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDropped)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			d, err := time.Parse("20060102", string(k))
			if err != nil {
				return fmt.Errorf("dropped day %q: %w", k, err)
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("dropped days: %w", err)
	}
	return out, nil
}

// EachCheckIn implements store.AuditView in one read transaction: the
// enrolled devices' check-ins device by device, then those of devices not
// enrolled.
func (v auditView) EachCheckIn(ctx context.Context, fn func(store.CheckIn) error) error {
	devs, err := v.Devices(ctx)
	if err != nil {
		return err
	}
	err = v.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCheckIns).Cursor()
		seen := 0
		for _, d := range devs {
			prefix := deviceKey(d.ID, 8)
			for k, val := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, val = c.Next() {
				if len(k) != len(prefix)+8 {
					return fmt.Errorf("check-in key %x: %d bytes", k, len(k))
				}
				r, err := decodeCheckIn(d.ID, binary.BigEndian.Uint64(k[len(prefix):]), val)
				if err != nil {
					return err
				}
				if err := fn(r); err != nil {
					return err
				}
				seen++
				if seen%4096 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		// Check-ins of devices not enrolled (a device row deleted) are
		// still check-ins: report them after the enrolled ones.
		enrolled := make(map[string]bool, len(devs))
		for _, d := range devs {
			enrolled[d.ID] = true
		}
		for k, val := c.First(); k != nil; k, val = c.Next() {
			n := int(k[0])
			if len(k) != 1+n+8 || enrolled[string(k[1:1+n])] {
				continue
			}
			r, err := decodeCheckIn(string(k[1:1+n]), binary.BigEndian.Uint64(k[1+n:]), val)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read check-ins: %w", err)
	}
	return nil
}

package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
)

// Buckets of the retention: a per-day index of check-in keys (one nested
// bucket per KST day, so a day drops as one bucket), the days dropped, and
// the audit trail.
var (
	bucketDays    = []byte("days")    // "YYYYMMDD" → { check-in key → nil }
	bucketDropped = []byte("dropped") // "YYYYMMDD" → time dropped
	bucketAudit   = []byte("audit")   // id (u64) → JSON event
)

var kst = time.FixedZone("KST", 9*60*60)

// appendFill packs the pages of buckets whose keys each device or venue
// only ever appends to (bbolt splits at half full by default): a smaller
// file and faster day drops. FillPercent holds for one transaction, so it
// is set in each.
const appendFill = 0.9

// dayKey is the KST calendar day of t as "YYYYMMDD".
func dayKey(t time.Time) []byte { return []byte(t.In(kst).Format("20060102")) }

// dayDropped reports whether the day of t was dropped.
func dayDropped(tx *bolt.Tx, t time.Time) bool {
	dr := tx.Bucket(bucketDropped)
	return dr != nil && dr.Get(dayKey(t)) != nil
}

// DropDay implements store.Retention: one transaction deletes the day's
// check-ins and its index bucket and marks the day dropped.
func (s *Store) DropDay(ctx context.Context, day time.Time) (int, error) {
	n := 0
	d := dayKey(day)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		dr, err := tx.CreateBucketIfNotExists(bucketDropped)
		if err != nil {
			return err
		}
		if err := dr.Put(d, encodeTime(time.Now())); err != nil {
			return err
		}
		if err := dropTraceDay(tx, d); err != nil { // tracing indexes: trace.go
			return err
		}
		days := tx.Bucket(bucketDays)
		if days == nil || days.Bucket(d) == nil {
			return nil
		}
		cb := tx.Bucket(bucketCheckIns)
		var keys [][]byte
		days.Bucket(d).ForEach(func(k, _ []byte) error {
			keys = append(keys, bytes.Clone(k))
			return nil
		})
		for _, k := range keys {
			if cb.Get(k) != nil {
				if err := cb.Delete(k); err != nil {
					return err
				}
				n++
			}
		}
		return days.DeleteBucket(d)
	})
	if err != nil {
		return 0, fmt.Errorf("drop day %s: %w", d, err)
	}
	return n, nil
}

// AddAudit implements store.Retention.
func (s *Store) AddAudit(ctx context.Context, e store.AuditEvent) (uint64, error) {
	var id uint64
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAudit)
		if err != nil {
			return err
		}
		if id, err = b.NextSequence(); err != nil {
			return err
		}
		e.ID = id
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if err := b.Put(binary.BigEndian.AppendUint64(nil, id), v); err != nil {
			return err
		}
		leaf, err := ledgerstore.EventLeaf(e) // the event's ledger leaf: ledger.go
		if err != nil {
			return err
		}
		_, err = appendLeaf(tx, leaf)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("add audit event: %w", err)
	}
	return id, nil
}

// Audit implements store.Retention.
func (s *Store) Audit(ctx context.Context) ([]store.AuditEvent, error) {
	var out []store.AuditEvent
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var e store.AuditEvent
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// keyDayKeys holds, in the meta bucket, the fingerprint of the day-key
// ratchet the store is bound to.
var keyDayKeys = []byte("daykeys-fingerprint")

// BindDayKeys implements store.Retention.
func (s *Store) BindDayKeys(ctx context.Context, fp [32]byte, replace bool) ([32]byte, error) {
	var bound [32]byte
	err := s.update(ctx, func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if v := m.Get(keyDayKeys); len(v) == 32 && !replace {
			copy(bound[:], v)
			return nil
		}
		bound = fp
		return m.Put(keyDayKeys, fp[:])
	})
	if err != nil {
		return [32]byte{}, fmt.Errorf("bind day keys: %w", err)
	}
	return bound, nil
}

package kiosk

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var bucketCache = []byte("cache") // down-sync cache: one sub-bucket per KV bucket

// PutCache stores what the central said for key in the named down-sync
// bucket (revoked passes, pass keys, sealing key, venue settings), so the
// kiosk keeps verifying against it offline. A nil value deletes the key.
func (o *Outbox) PutCache(bucket, key string, value []byte) error {
	err := o.db.Update(func(tx *bolt.Tx) error {
		c, err := tx.CreateBucketIfNotExists(bucketCache)
		if err != nil {
			return err
		}
		b, err := c.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		if value == nil {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), value)
	})
	if err != nil {
		return fmt.Errorf("cache %s/%s: %w", bucket, key, err)
	}
	return nil
}

// ForEachCache calls fn for every key of a down-sync bucket, in key order.
// The value is a copy.
func (o *Outbox) ForEachCache(bucket string, fn func(key string, value []byte) error) error {
	return o.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCache)
		if c == nil {
			return nil
		}
		b := c.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error { return fn(string(k), bytes.Clone(v)) })
	})
}

// GetCache returns a cached value, or nil.
func (o *Outbox) GetCache(bucket, key string) ([]byte, error) {
	var v []byte
	err := o.db.View(func(tx *bolt.Tx) error {
		if c := tx.Bucket(bucketCache); c != nil {
			if b := c.Bucket([]byte(bucket)); b != nil {
				v = bytes.Clone(b.Get([]byte(key)))
			}
		}
		return nil
	})
	return v, err
}

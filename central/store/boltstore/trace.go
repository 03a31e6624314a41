package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// The tracing indexes (store.Tracing), one nested bucket per KST day so
// that DropDay drops a day's index entries with the day:
//
//	trace        "built" → "v1" once every check-in stored before the
//	             indexes existed has been indexed (see buildTrace)
//	trace/YYYYMMDD/v   u8 len ‖ venue ‖ time (Unix ns u64) ‖ check-in key → empty
//	trace/YYYYMMDD/t   tag (16) ‖ check-in key → empty
//
// Ingest writes both entries of a check-in in its transaction (indexTrace).
var (
	bucketTrace   = []byte("trace")
	bucketByVenue = []byte("v")
	bucketByTag   = []byte("t")
	keyTraceBuilt = []byte("built")
)

// indexTrace adds the index entries of r, stored under the check-in key k,
// in the ingest's transaction.
func indexTrace(tx *bolt.Tx, r store.CheckIn, k []byte) error {
	if len(r.Venue) > 255 {
		return fmt.Errorf("record %d: venue id of %d bytes", r.Seq, len(r.Venue))
	}
	tb := tx.Bucket(bucketTrace)
	if tb == nil {
		var err error
		if tb, err = tx.CreateBucket(bucketTrace); err != nil {
			return err
		}
		// The first check-in of a new file: nothing to build later.
		if c := tx.Bucket(bucketCheckIns).Cursor(); c != nil {
			if first, _ := c.First(); bytes.Equal(first, k) {
				if next, _ := c.Next(); next == nil {
					if err := tb.Put(keyTraceBuilt, []byte("v1")); err != nil {
						return err
					}
				}
			}
		}
	}
	db, err := tb.CreateBucketIfNotExists(dayKey(r.Time))
	if err != nil {
		return err
	}
	vb, err := db.CreateBucketIfNotExists(bucketByVenue)
	if err != nil {
		return err
	}
	vb.FillPercent = appendFill
	gb, err := db.CreateBucketIfNotExists(bucketByTag)
	if err != nil {
		return err
	}
	if err := vb.Put(append(venueTimeKey(r.Venue, r.Time), k...), nil); err != nil {
		return err
	}
	return gb.Put(append(r.Tag[:len(r.Tag):len(r.Tag)], k...), nil)
}

// dropTraceDay deletes the index entries of the day d ("YYYYMMDD"), in
// DropDay's transaction.
func dropTraceDay(tx *bolt.Tx, d []byte) error {
	tb := tx.Bucket(bucketTrace)
	if tb == nil || tb.Bucket(d) == nil {
		return nil
	}
	return tb.DeleteBucket(d)
}

// venueTimeKey is u8 len ‖ venue ‖ Unix ns.
func venueTimeKey(venue string, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(deviceKey(venue, 8+9+255), uint64(t.UnixNano()))
}

// buildTrace indexes every stored check-in, once: a file written before
// the indexes existed is indexed at its first trace. Indexing again is
// harmless (the same keys).
func (s *Store) buildTrace(ctx context.Context) error {
	built := false
	if err := s.view(ctx, func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTrace)
		built = tb != nil && tb.Get(keyTraceBuilt) != nil
		return nil
	}); err != nil || built {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCheckIns).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n := int(k[0])
			if len(k) != 1+n+8 {
				return fmt.Errorf("check-in key %x: bad length", k)
			}
			r, err := decodeCheckIn(string(k[1:1+n]), binary.BigEndian.Uint64(k[1+n:]), v)
			if err != nil {
				return err
			}
			if err := indexTrace(tx, r, bytes.Clone(k)); err != nil {
				return err
			}
		}
		tb, err := tx.CreateBucketIfNotExists(bucketTrace)
		if err != nil {
			return err
		}
		return tb.Put(keyTraceBuilt, []byte("v1"))
	})
}

// CheckInsAt implements store.Tracing: a range scan of the venue index of
// each KST day that [from, to) touches, in one read transaction.
func (s *Store) CheckInsAt(ctx context.Context, venue string, from, to time.Time) ([]store.CheckIn, error) {
	out := []store.CheckIn{}
	if len(venue) > 255 || !from.Before(to) {
		return out, nil
	}
	if err := s.buildTrace(ctx); err != nil {
		return nil, fmt.Errorf("check-ins at %s: index: %w", venue, err)
	}
	prefix := deviceKey(venue, 0)
	end := venueTimeKey(venue, to)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTrace)
		if tb == nil {
			return nil
		}
		cb := tx.Bucket(bucketCheckIns)
		last := to.Add(-1)
		for day := from; ; day = day.Add(24 * time.Hour) {
			if d := dayKey(day); string(d) > string(dayKey(last)) {
				break
			} else if db := tb.Bucket(d); db != nil && db.Bucket(bucketByVenue) != nil {
				c := db.Bucket(bucketByVenue).Cursor()
				for k, _ := c.Seek(venueTimeKey(venue, from)); k != nil && bytes.HasPrefix(k, prefix) && len(k) > len(prefix)+8 && bytes.Compare(k[:len(end)], end) < 0; k, _ = c.Next() {
					r, ok, err := loadIndexed(cb, k[len(prefix)+8:])
					if err != nil {
						return err
					}
					if ok {
						out = append(out, r)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check-ins at %s: %w", venue, err)
	}
	sortCheckIns(out)
	return out, nil
}

// CheckInsByTag implements store.Tracing: a prefix scan of the day's tag
// index.
func (s *Store) CheckInsByTag(ctx context.Context, day time.Time, tag [16]byte) ([]store.CheckIn, error) {
	out := []store.CheckIn{}
	if err := s.buildTrace(ctx); err != nil {
		return nil, fmt.Errorf("check-ins by tag: index: %w", err)
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTrace)
		if tb == nil || tb.Bucket(dayKey(day)) == nil || tb.Bucket(dayKey(day)).Bucket(bucketByTag) == nil {
			return nil
		}
		cb := tx.Bucket(bucketCheckIns)
		c := tb.Bucket(dayKey(day)).Bucket(bucketByTag).Cursor()
		for k, _ := c.Seek(tag[:]); k != nil && bytes.HasPrefix(k, tag[:]); k, _ = c.Next() {
			r, ok, err := loadIndexed(cb, k[len(tag):])
			if err != nil {
				return err
			}
			if ok {
				out = append(out, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check-ins by tag: %w", err)
	}
	sortCheckIns(out)
	return out, nil
}

// loadIndexed reads the check-in stored under the check-in key ck; ok is
// false when it is gone.
func loadIndexed(cb *bolt.Bucket, ck []byte) (store.CheckIn, bool, error) {
	if len(ck) < 9 || len(ck) != 1+int(ck[0])+8 {
		return store.CheckIn{}, false, fmt.Errorf("index entry %x: bad check-in key", ck)
	}
	v := cb.Get(ck)
	if v == nil {
		return store.CheckIn{}, false, nil
	}
	n := int(ck[0])
	r, err := decodeCheckIn(string(ck[1:1+n]), binary.BigEndian.Uint64(ck[1+n:]), v)
	return r, err == nil, err
}

// sortCheckIns sorts by (Time, Device, Seq), the order of store.Tracing.
func sortCheckIns(rs []store.CheckIn) {
	slices.SortFunc(rs, func(a, b store.CheckIn) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq))
	})
}

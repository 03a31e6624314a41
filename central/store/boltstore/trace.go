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

// dayIndexer adds check-ins to the indexes of their KST day — the day's
// list of check-in keys (retention.go) and the tracing indexes — in one
// write transaction, finding each day's buckets once.
type dayIndexer struct {
	tx   *bolt.Tx
	days map[int64]*dayBuckets
}

// dayBuckets are one KST day's buckets in a transaction.
type dayBuckets struct {
	dropped bool // the day was dropped: nothing is added to it
	keys    *bolt.Bucket
	venue   *bolt.Bucket
	tag     *bolt.Bucket
}

func newDayIndexer(tx *bolt.Tx) *dayIndexer {
	return &dayIndexer{tx: tx, days: make(map[int64]*dayBuckets, 1)}
}

// kstDay is the number of the KST calendar day of t (KST has no DST).
func kstDay(t time.Time) int64 {
	const offset, day = 9 * 60 * 60, 24 * 60 * 60
	s := t.Unix() + offset
	if s < 0 {
		return (s - day + 1) / day
	}
	return s / day
}

// day returns the buckets of the KST day of t, k being the check-in about
// to be added (see traceBucket).
func (x *dayIndexer) day(t time.Time, k []byte) (*dayBuckets, error) {
	n := kstDay(t)
	if d := x.days[n]; d != nil {
		return d, nil
	}
	d := &dayBuckets{}
	x.days[n] = d
	key := dayKey(t)
	if dayDropped(x.tx, t) {
		d.dropped = true
		return d, nil
	}
	days, err := x.tx.CreateBucketIfNotExists(bucketDays)
	if err != nil {
		return nil, err
	}
	if d.keys, err = days.CreateBucketIfNotExists(key); err != nil {
		return nil, err
	}
	d.keys.FillPercent = appendFill
	tb, err := x.traceBucket(k)
	if err != nil {
		return nil, err
	}
	db, err := tb.CreateBucketIfNotExists(key)
	if err != nil {
		return nil, err
	}
	if d.venue, err = db.CreateBucketIfNotExists(bucketByVenue); err != nil {
		return nil, err
	}
	d.venue.FillPercent = appendFill
	if d.tag, err = db.CreateBucketIfNotExists(bucketByTag); err != nil {
		return nil, err
	}
	return d, nil
}

// traceBucket returns the tracing indexes' bucket, creating it if need
// be: for the first check-in k of a new file (stored or about to be) it
// also marks the indexes built (nothing stored before them to index later).
func (x *dayIndexer) traceBucket(k []byte) (*bolt.Bucket, error) {
	if tb := x.tx.Bucket(bucketTrace); tb != nil {
		return tb, nil
	}
	tb, err := x.tx.CreateBucket(bucketTrace)
	if err != nil {
		return nil, err
	}
	c := x.tx.Bucket(bucketCheckIns).Cursor()
	first, _ := c.First()
	if first != nil && bytes.Equal(first, k) {
		first, _ = c.Next()
	}
	if first == nil { // no check-in but k
		if err := tb.Put(keyTraceBuilt, []byte("v1")); err != nil {
			return nil, err
		}
	}
	return tb, nil
}

// add indexes r, stored under the check-in key k: the day's key list
// (unless trace only) and the tracing indexes. It reports false when the
// day was dropped.
func (x *dayIndexer) add(r store.CheckIn, k []byte, traceOnly bool) (bool, error) {
	if len(r.Venue) > 255 {
		return false, fmt.Errorf("record %d: venue id of %d bytes", r.Seq, len(r.Venue))
	}
	d, err := x.day(r.Time, k)
	if err != nil || d.dropped {
		return false, err
	}
	if !traceOnly {
		if err := d.keys.Put(k, nil); err != nil {
			return false, err
		}
	}
	if err := d.venue.Put(append(venueTimeKey(r.Venue, r.Time), k...), nil); err != nil {
		return false, err
	}
	return true, d.tag.Put(append(r.Tag[:len(r.Tag):len(r.Tag)], k...), nil)
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
		x := newDayIndexer(tx)
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
			if _, err := x.add(r, bytes.Clone(k), true); err != nil {
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

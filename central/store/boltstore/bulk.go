package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// BulkLoad stores fresh check-ins in one transaction, with their tracing
// indexes, and moves each device's state to its last record (LastSeq,
// LastHash, Records). It is the bulk path of synthetic loads
// (central/synth), not of ingest: it checks that every record continues
// its device above the stored state, and refuses the whole load
// otherwise, but it keeps no boots, breaks or quarantine. Records of one
// device must be ascending; devices may be interleaved.
func (s *Store) BulkLoad(ctx context.Context, rs []store.CheckIn) (int, error) {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		states := map[string]*store.DeviceState{}
		if tb := tx.Bucket(bucketTrace); tb == nil {
			tb, err := tx.CreateBucket(bucketTrace)
			if err != nil {
				return err
			}
			if k, _ := tx.Bucket(bucketCheckIns).Cursor().First(); k == nil {
				// An empty file: nothing to index later.
				if err := tb.Put(keyTraceBuilt, []byte("v1")); err != nil {
					return err
				}
			}
		}
		// Each bucket's keys are put in ascending order: bbolt inserts
		// into a node's sorted slice, so keys in random order move the
		// node's entries at every put.
		type kv struct{ k, v []byte }
		var cks []kv
		days := map[string]*dayIndex{}
		for _, r := range rs {
			st := states[r.Device]
			if st == nil {
				got, err := getState(tx, r.Device)
				if err != nil {
					return err
				}
				st = &got
				states[r.Device] = st
			}
			if r.Seq <= st.LastSeq {
				return fmt.Errorf("record %s/%d: not above the device's last sequence %d", r.Device, r.Seq, st.LastSeq)
			}
			if len(r.Venue) > 255 {
				return fmt.Errorf("record %s/%d: venue id of %d bytes", r.Device, r.Seq, len(r.Venue))
			}
			k := checkInKey(r.Device, r.Seq)
			v, err := encodeCheckIn(r)
			if err != nil {
				return fmt.Errorf("record %s/%d: %w", r.Device, r.Seq, err)
			}
			cks = append(cks, kv{k, v})
			d := string(dayKey(r.Time))
			di := days[d]
			if di == nil {
				if dayDropped(tx, r.Time) {
					return fmt.Errorf("record %s/%d: its day %s was dropped", r.Device, r.Seq, d)
				}
				di = &dayIndex{}
				days[d] = di
			}
			di.checkIns = append(di.checkIns, k)
			di.venues = append(di.venues, append(venueTimeKey(r.Venue, r.Time), k...))
			di.tags = append(di.tags, append(r.Tag[:len(r.Tag):len(r.Tag)], k...))
			st.LastSeq, st.LastHash = r.Seq, r.Hash
			st.Records++
		}
		slices.SortFunc(cks, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
		cb := tx.Bucket(bucketCheckIns)
		cb.FillPercent = appendFill
		for _, e := range cks {
			if err := cb.Put(e.k, e.v); err != nil {
				return err
			}
		}
		dayBuckets, err := tx.CreateBucketIfNotExists(bucketDays)
		if err != nil {
			return err
		}
		tb := tx.Bucket(bucketTrace)
		for d, di := range days {
			b, err := dayBuckets.CreateBucketIfNotExists([]byte(d))
			if err != nil {
				return err
			}
			if err := putSorted(b, di.checkIns); err != nil {
				return err
			}
			db, err := tb.CreateBucketIfNotExists([]byte(d))
			if err != nil {
				return err
			}
			vb, err := db.CreateBucketIfNotExists(bucketByVenue)
			if err != nil {
				return err
			}
			vb.FillPercent = appendFill
			if err := putSorted(vb, di.venues); err != nil {
				return err
			}
			gb, err := db.CreateBucketIfNotExists(bucketByTag)
			if err != nil {
				return err
			}
			if err := putSorted(gb, di.tags); err != nil {
				return err
			}
		}
		sb := tx.Bucket(bucketStates)
		for id, st := range states {
			if err := sb.Put([]byte(id), encodeState(*st)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bulk load: %w", err)
	}
	return len(rs), nil
}

// dayIndex are a day's index keys of a bulk load.
type dayIndex struct{ checkIns, venues, tags [][]byte }

// putSorted puts the keys, empty values, in ascending order.
func putSorted(b *bolt.Bucket, keys [][]byte) error {
	slices.SortFunc(keys, bytes.Compare)
	for _, k := range keys {
		if err := b.Put(k, nil); err != nil {
			return err
		}
	}
	return nil
}

// Sync flushes the file to disk: for a store opened with NoSync for a
// bulk load.
func (s *Store) Sync() error { return s.db.Sync() }

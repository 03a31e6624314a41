package boltstore

import (
	"context"
	"fmt"

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
		cb := tx.Bucket(bucketCheckIns)
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
			k := checkInKey(r.Device, r.Seq)
			v, err := encodeCheckIn(r)
			if err != nil {
				return fmt.Errorf("record %s/%d: %w", r.Device, r.Seq, err)
			}
			if err := cb.Put(k, v); err != nil {
				return err
			}
			if _, err := indexDay(tx, r.Time, k); err != nil {
				return err
			}
			if err := indexTrace(tx, r, k); err != nil {
				return err
			}
			st.LastSeq, st.LastHash = r.Seq, r.Hash
			st.Records++
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

// Sync flushes the file to disk: for a store opened with NoSync for a
// bulk load.
func (s *Store) Sync() error { return s.db.Sync() }

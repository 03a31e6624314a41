package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/anshim/anshim/central/store"
)

// The kiosks' latest status reports' bucket, made by the first report
// kept (a file of an older binary has none until then):
//
//	device-status   device → deviceStatusRecord (JSON)
var bucketDeviceStatus = []byte("device-status")

// deviceStatusRecord is a store.DeviceStatus as stored.
type deviceStatusRecord struct {
	Received time.Time `json:"received"`
	Report   []byte    `json:"report"`
}

// PutDeviceStatus implements store.DeviceStatuses.
func (s *Store) PutDeviceStatus(ctx context.Context, st store.DeviceStatus) error {
	if st.Device == "" || len(st.Device) > 64 {
		return fmt.Errorf("put device status: device id of %d bytes", len(st.Device))
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDeviceStatus)
		if err != nil {
			return err
		}
		var old deviceStatusRecord
		if b.Get([]byte(st.Device)) != nil {
			if err := getJSON(b, []byte(st.Device), &old); err != nil {
				return err
			}
			if st.Received.Before(old.Received) {
				return nil
			}
		}
		return putJSON(b, []byte(st.Device), deviceStatusRecord{Received: st.Received.UTC(), Report: bytes.Clone(st.Report)})
	})
	if err != nil {
		return fmt.Errorf("put device status of %s: %w", st.Device, err)
	}
	return nil
}

// DeviceStatuses implements store.DeviceStatuses.
func (s *Store) DeviceStatuses(ctx context.Context) ([]store.DeviceStatus, error) {
	var out []store.DeviceStatus
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeviceStatus)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			var r deviceStatusRecord
			if err := getJSON(b, k, &r); err != nil {
				return fmt.Errorf("device %s: %w", k, err)
			}
			out = append(out, store.DeviceStatus{Device: string(k), Received: r.Received, Report: r.Report})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("device statuses: %w", err)
	}
	return out, nil
}

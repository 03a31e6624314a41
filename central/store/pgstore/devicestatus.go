package pgstore

import (
	"context"
	"fmt"

	"github.com/anshim/anshim/central/store"
)

// The kiosks' latest status reports (0012_device_status.sql):
//
//	device_status   device (primary key), received, report

// PutDeviceStatus implements store.DeviceStatuses: one upsert that keeps
// the stored row when it was received later.
func (s *Store) PutDeviceStatus(ctx context.Context, st store.DeviceStatus) error {
	if st.Device == "" || len(st.Device) > 64 {
		return fmt.Errorf("pgstore: put device status: device id of %d bytes", len(st.Device))
	}
	report := st.Report
	if report == nil {
		report = []byte{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO device_status (device, received, report) VALUES ($1, $2, $3)
		ON CONFLICT (device) DO UPDATE SET received = EXCLUDED.received, report = EXCLUDED.report
		WHERE device_status.received <= EXCLUDED.received`, st.Device, st.Received, report)
	if err != nil {
		return fmt.Errorf("pgstore: put device status of %s: %w", st.Device, err)
	}
	return nil
}

// DeviceStatuses implements store.DeviceStatuses.
func (s *Store) DeviceStatuses(ctx context.Context) ([]store.DeviceStatus, error) {
	rows, err := s.pool.Query(ctx, "SELECT device, received, report FROM device_status ORDER BY device COLLATE \"C\"")
	if err != nil {
		return nil, fmt.Errorf("pgstore: device statuses: %w", err)
	}
	defer rows.Close()
	var out []store.DeviceStatus
	for rows.Next() {
		var d store.DeviceStatus
		if err := rows.Scan(&d.Device, &d.Received, &d.Report); err != nil {
			return nil, fmt.Errorf("pgstore: device statuses: %w", err)
		}
		d.Received = d.Received.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: device statuses: %w", err)
	}
	return out, nil
}

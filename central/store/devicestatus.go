package store

import (
	"context"
	"time"
)

// DeviceStatus is the latest status report of a kiosk as the central
// keeps it, so that the fleet page shows it after a restart.
type DeviceStatus struct {
	// Device is the kiosk's id (1 to 64 bytes).
	Device string
	// Received is when the central received the report, by its clock.
	Received time.Time
	// Report is the report as the kiosk sent it (wire.DeviceStatus, at
	// most 4 KiB): opaque bytes to the store, returned exactly as stored.
	Report []byte
}

// DeviceStatuses keeps the latest status report of each kiosk.
//
// Besides the contract of [Store]: a device has at most one report, the
// one received last; PutDeviceStatus of a report received before the
// stored one changes nothing (so reports handled out of order, or again,
// never move a device's status backwards), and of one received at the
// same time replaces it. Times keep at least microseconds.
type DeviceStatuses interface {
	// PutDeviceStatus keeps s as its device's latest report unless one
	// received later is stored.
	PutDeviceStatus(ctx context.Context, s DeviceStatus) error
	// DeviceStatuses returns the latest report of every device that sent
	// one, in device order.
	DeviceStatuses(ctx context.Context) ([]DeviceStatus, error)
}

package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The kiosk's status report, for the administration's device fleet.
const (
	// StatusPrefix starts anshim.status.<device>, where a kiosk publishes
	// (core NATS, no reply) its [DeviceStatus] on connecting and every
	// [StatusEvery] after (see [StatusSubject]).
	StatusPrefix = "anshim.status"
	// StatusWildcard is every device's status subject, as the central
	// subscribes to them.
	StatusWildcard = StatusPrefix + ".*"
	// StatusVersion is the V of the [DeviceStatus] this package writes.
	StatusVersion = 1
	// StatusEvery is how often a connected kiosk reports its status.
	StatusEvery = 5 * time.Minute
)

// StatusSubject returns the subject a device reports its status on:
// anshim.status.<device>.
func StatusSubject(device string) string { return StatusPrefix + "." + device }

// ParseStatusSubject returns the device of a status subject; ok is false
// for any other subject.
func ParseStatusSubject(subject string) (device string, ok bool) {
	return oneToken(subject, StatusPrefix)
}

// DeviceStatus is a kiosk's report of itself: what the central cannot see
// from the batches it receives (a backlog the kiosk has not sent yet, its
// clock, a ledger fork it caught as a witness). The device is the
// subject's; the central trusts the subject (the device's NATS
// permissions), not a field.
type DeviceStatus struct {
	// V is the format's version, StatusVersion.
	V int `json:"v"`
	// Sent is the kiosk's wall clock when it reported.
	Sent time.Time `json:"sent"`
	// Clock is the quality of that clock: "ntp-synced", "rtc" or
	// "unsynced" (checkin.TimeQuality's names).
	Clock string `json:"clock"`
	// Backlog is the number of records in the outbox, not yet
	// acknowledged by the central.
	Backlog int `json:"backlog"`
	// OldestUnsynced is the kiosk's wall time of the oldest of them; zero
	// without a backlog.
	OldestUnsynced time.Time `json:"oldest_unsynced,omitzero"`
	// LedgerAlert is set once the kiosk caught the central's ledger in a
	// fork (its evidence goes to its AlertSubject).
	LedgerAlert bool `json:"ledger_alert,omitempty"`
	// Version is the kiosk's software version.
	Version string `json:"version"`
}

// Limits of a DeviceStatus.
const (
	maxStatusBytes   = 4 << 10
	maxStatusVersion = 64
)

// Marshal encodes the status as JSON.
func (s DeviceStatus) Marshal() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("device status: %w", err)
	}
	return json.Marshal(s)
}

// ParseDeviceStatus decodes a status that Marshal wrote: JSON of version
// StatusVersion, unknown fields ignored (a newer kiosk may say more),
// anything else refused.
func ParseDeviceStatus(data []byte) (DeviceStatus, error) {
	var s DeviceStatus
	if len(data) > maxStatusBytes {
		return s, fmt.Errorf("device status: %d bytes, want at most %d", len(data), maxStatusBytes)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return DeviceStatus{}, fmt.Errorf("device status: %w", err)
	}
	if err := s.check(); err != nil {
		return DeviceStatus{}, fmt.Errorf("device status: %w", err)
	}
	return s, nil
}

func (s DeviceStatus) check() error {
	switch {
	case s.V != StatusVersion:
		return fmt.Errorf("version %d, want %d", s.V, StatusVersion)
	case s.Clock != "ntp-synced" && s.Clock != "rtc" && s.Clock != "unsynced":
		return fmt.Errorf("clock %q, want ntp-synced, rtc or unsynced", s.Clock)
	case s.Backlog < 0:
		return errors.New("negative backlog")
	case len(s.Version) > maxStatusVersion:
		return fmt.Errorf("version text of %d bytes, want at most %d", len(s.Version), maxStatusVersion)
	}
	return nil
}

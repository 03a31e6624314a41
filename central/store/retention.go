package store

import (
	"context"
	"time"
)

// Retention is the store's part in the 28-day retention of check-ins and
// its audit trail.
type Retention interface {
	// DropDay deletes every check-in of the KST day that contains day and
	// refuses check-ins of that day from then on (Ingest skips them,
	// uncounted). It returns how many check-ins it deleted. Dropping a day
	// again deletes nothing.
	DropDay(ctx context.Context, day time.Time) (int, error)
	// AddAudit appends an event to the audit trail and returns its id (ids
	// increase). Events hold no personal data.
	AddAudit(ctx context.Context, e AuditEvent) (uint64, error)
	// Audit returns the audit trail in id order.
	Audit(ctx context.Context) ([]AuditEvent, error)
}

// AuditEvent is one entry of the audit trail: a day destroyed, an identity
// revealed, a registry change. (The ledger, when it exists, commits to the
// same events.)
type AuditEvent struct {
	ID     uint64    `json:"id"` // assigned by the store
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`   // e.g. "day-destroyed"
	Detail string    `json:"detail"` // JSON, no personal data
}

// Audit event kinds.
const (
	AuditDayDestroyed    = "day-destroyed"
	AuditVenueRegistered = "venue-registered"
	AuditVenueStatus     = "venue-status"
	AuditDeviceEnrolled  = "device-enrolled"
)

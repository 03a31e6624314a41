package store

import (
	"context"
	"time"
)

// Retention is the store's part in the 28-day retention of check-ins and
// its audit trail.
type Retention interface {
	// DropDay deletes every check-in of the KST day that contains day and
	// refuses check-ins of that day from then on (Ingest refuses a batch
	// holding a new one with a *DayDroppedError). It returns how many
	// check-ins it deleted. Dropping a day again deletes nothing. The
	// day's quarantine entries go with DropQuarantine.
	DropDay(ctx context.Context, day time.Time) (int, error)
	// AddAudit appends an event to the audit trail and returns its id (ids
	// increase). Events hold no personal data.
	AddAudit(ctx context.Context, e AuditEvent) (uint64, error)
	// Audit returns the audit trail in id order.
	Audit(ctx context.Context) ([]AuditEvent, error)
	// BindDayKeys binds the store to the day-key ratchet whose
	// fingerprint (daykeys.Keys.Fingerprint) is fp, the ratchet that
	// seals its check-ins: a store bound to none is bound to fp, and
	// replace binds it to fp whatever it was bound to. It returns the
	// fingerprint the store is bound to after, in one transaction: two
	// centrals binding at once are bound to one of theirs.
	BindDayKeys(ctx context.Context, fp [32]byte, replace bool) ([32]byte, error)
}

// AuditEvent is one entry of the audit trail: a day destroyed, a trace, an
// identity revealed, a registry change, an API token added or revoked.
// The ledger commits to ID, Time, Kind, Who and Detail (ledgerstore.EventLeaf);
// CaseRef and Reason are kept in the audit store only, never in the
// ledger, which commits to them by their SHA-256 in Detail.
type AuditEvent struct {
	ID   uint64    `json:"id"` // assigned by the store
	Time time.Time `json:"time"`
	Kind string    `json:"kind"` // e.g. "day-destroyed"
	// Who is the account that acted: an API token's name ("admin" and
	// "investigator" for DATA/admin.token and DATA/investigator.token),
	// later a web account's. Empty for the central's own work (a day
	// destroyed) and for kiosks enrolling with a one-time token.
	Who    string `json:"who,omitempty"`
	Detail string `json:"detail"` // JSON on one line, no personal data
	// CaseRef and Reason are an investigator's case reference and reason,
	// as typed (checked by internal/text), for a trace or a reveal.
	CaseRef string `json:"case_ref,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Audit event kinds.
const (
	AuditDayDestroyed    = "day-destroyed"
	AuditVenueRegistered = "venue-registered"
	AuditVenueStatus     = "venue-status"
	AuditDeviceEnrolled  = "device-enrolled"
	AuditVenueDebounce   = "venue-debounce"
	AuditTrace           = "trace" // a trace without reveal; with one: AuditIdentityRevealed
	AuditTokenAdded      = "token-added"
	AuditTokenRevoked    = "token-revoked"
	// AuditDayKeysRebound: the store was bound to another day-key ratchet
	// (`central rebind-day-keys`); detail: the fingerprints' first bytes.
	AuditDayKeysRebound = "day-keys-rebound"
)

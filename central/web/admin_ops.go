package web

import (
	"context"
	"io"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// Admin is what the administration (/admin) asks of the central, which
// implements it (central/web_admin.go): a status change is an audit event
// and a ledger leaf there, and the device fleet joins the store's devices
// with the status reports the kiosks send over NATS. Who is the admin
// account acting, named in the audit events.
type Admin interface {
	// ReviewVenue moves a venue to status with the reason its owner is
	// shown: approve or reject an application, suspend or reinstate a
	// venue. A rejection needs a reason. A move the registry does not
	// allow is a *registry.TransitionError; a bad reason wraps the
	// central's ErrInvalid.
	ReviewVenue(ctx context.Context, who, venue string, status registry.Status, reason string) (store.Venue, error)
	// Fleet describes every enrolled kiosk, in id order.
	Fleet(ctx context.Context) ([]FleetDevice, error)
	// Decommission ends a kiosk: its NATS credentials stop working at
	// once and for good (store.ErrNotFound for an unknown kiosk).
	Decommission(ctx context.Context, who, device, reason string) error
	// FindPerson finds the visitor registered with the phone number (any
	// usual Korean form) by the identity vault's blind index: ErrInvalid
	// for a number that is none, store.ErrNotFound when no one is
	// registered with it (or their identity was destroyed).
	FindPerson(ctx context.Context, phone string) (Person, error)
	// Person returns the visitor with the id (store.ErrNotFound;
	// store.ErrDestroyed once their identity is destroyed).
	Person(ctx context.Context, id string) (Person, error)
	// RevealPerson returns the visitor's name and phone number for the
	// admin account who, after writing an identity-revealed audit event
	// (a ledger leaf) that names who with the SHA-256 of the case
	// reference and of the reason; without the event, no identity.
	// ErrInvalid for a case reference or reason the trace API would
	// refuse.
	RevealPerson(ctx context.Context, who, id, caseRef, reason string) (Identity, error)
	// RevokeCard revokes a card pass of the visitor as `anshim person
	// revoke` does (kiosks refuse it within seconds) and writes a
	// pass-revoked audit event naming who. Revoking it again publishes
	// it again.
	RevokeCard(ctx context.Context, who, id string, serial uint32) error
	// AuditLeaves returns the index of the ledger leaf of each of the
	// events that has one, by event id, and the ledger's size.
	AuditLeaves(ctx context.Context, events []store.AuditEvent) (map[uint64]int64, int64, error)
	// CanBackup reports whether Backup works for the store (a bbolt
	// store; PostgreSQL is backed up with its own tools).
	CanBackup() bool
	// Backup writes a consistent copy of the store for the admin account
	// who, after a store-backup audit event: it calls start with the
	// copy's size, then writes to the writer start returns.
	Backup(ctx context.Context, who string, start func(size int64) io.Writer) (int64, error)
}

// Person is a visitor of the identity vault as the administration sees
// them: a pseudonymous id, never their name or phone number.
type Person struct {
	ID                   string
	Registered, LastUsed time.Time
	// Destroyed is when their identity is destroyed unless used before:
	// 8 weeks after LastUsed.
	Destroyed time.Time
	// Passes are their card passes, in serial order (app passes are not
	// recorded: they are issued to the visitor's phone and expire).
	Passes []Pass
}

// Pass is a card pass of a visitor.
type Pass struct {
	Kind            string // "card"
	Serial          uint32
	Issued, Expires time.Time
	Revoked         bool
}

// Identity is a visitor's revealed name and phone number (E.164).
type Identity struct{ Name, Phone string }

// FleetDevice is one kiosk of the fleet as the administration sees it:
// what the central stored of it and the latest status report it sent.
type FleetDevice struct {
	ID, Venue string
	Enrolled  time.Time
	// Records, Quarantined and Breaks are the central's counts of its
	// check-ins stored, quarantine entries and chain breaks.
	Records, Quarantined, Breaks uint64
	// Decommissioned is when it was decommissioned (zero: in service).
	Decommissioned time.Time
	// LastSeen is when the central received its latest status report,
	// by the central's clock (zero: none since the central started).
	LastSeen time.Time
	// Backlog, OldestUnsynced, Clock, LedgerAlert and Version are that
	// report's (wire.DeviceStatus).
	Backlog        int
	OldestUnsynced time.Time
	Clock          string
	LedgerAlert    bool
	Version        string
}

// Thresholds of the fleet's "needs attention" filter.
const (
	AttentionUnseen  = time.Hour      // no report for longer
	AttentionBacklog = 1000           // more records waiting
	AttentionOldest  = 24 * time.Hour // an unsynced record older
)

// Attention returns why the kiosk needs attention at now, as catalogue
// keys, none when it does not: not seen for over an hour (or never), a
// backlog over 1,000 records or an unsynced record over a day old, an
// unsynced clock, quarantined records, a ledger fork alert. A
// decommissioned kiosk needs none.
func (d FleetDevice) Attention(now time.Time) []string {
	if !d.Decommissioned.IsZero() {
		return nil
	}
	var out []string
	if d.LastSeen.IsZero() || now.Sub(d.LastSeen) > AttentionUnseen {
		out = append(out, "admin.fleet.attn.unseen")
	}
	if d.Backlog > AttentionBacklog {
		out = append(out, "admin.fleet.attn.backlog")
	}
	if !d.OldestUnsynced.IsZero() && now.Sub(d.OldestUnsynced) > AttentionOldest {
		out = append(out, "admin.fleet.attn.oldest")
	}
	if d.Clock == "unsynced" {
		out = append(out, "admin.fleet.attn.clock")
	}
	if d.Quarantined > 0 {
		out = append(out, "admin.fleet.attn.quarantine")
	}
	if d.LedgerAlert {
		out = append(out, "admin.fleet.attn.fork")
	}
	return out
}

// attentionKeys are every key Attention returns (a test checks each is in
// the catalogues).
var attentionKeys = []string{"admin.fleet.attn.unseen", "admin.fleet.attn.backlog", "admin.fleet.attn.oldest",
	"admin.fleet.attn.clock", "admin.fleet.attn.quarantine", "admin.fleet.attn.fork"}

package store

import (
	"context"
	"time"

	"github.com/anshim/anshim/central/registry"
)

// VenueDetails are the details of a venue its owner may edit in the
// business portal. Its id, business number, location, owner phone and
// status stay as they are.
type VenueDetails struct {
	Name        string
	Address     string
	Category    registry.Category
	DefaultStay int // minutes
}

// VenueEdits is the part of a store the business portal needs beyond
// Store: editing a venue's details, and listing and revoking its kiosk
// enrollment tokens. Both backends implement it; the central finds it
// with a type assertion, so that an older backend still builds.
type VenueEdits interface {
	// UpdateVenueDetails sets a venue's details and, if that changes
	// them, its Updated to now, in one transaction. It returns the venue
	// as it was before and as it is after; ErrNotFound for an unknown
	// venue. The details are stored as given: the registry's rules are
	// the caller's.
	UpdateVenueDetails(ctx context.Context, id string, d VenueDetails, now time.Time) (before, after Venue, err error)
	// VenueTokens returns the enrollment tokens of a venue, used and
	// expired ones too, by expiry, latest first.
	VenueTokens(ctx context.Context, venue string) ([]Token, error)
	// DeleteToken deletes the unused enrollment token of venue whose hash
	// is h: it can no longer enroll a kiosk. ErrNotFound when venue has
	// no such token, ErrTokenUsed when it has been used (a used token is
	// kept: it records the enrollment).
	DeleteToken(ctx context.Context, venue string, h [32]byte) error
}

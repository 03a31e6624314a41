package web

import (
	"context"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// Business is what the business portal (/business) asks of the central,
// which implements it (central/web_business.go): the registry's changes
// are audit events and ledger leaves there, and a venue's settings are
// published to its kiosks. The owner is the business account acting; the
// portal has checked that they own the venue before any call naming one.
type Business interface {
	// ApplyVenue registers reg as an applied venue owned by owner. A
	// registration the registry refuses is an error wrapping a
	// registry.InvalidError naming each bad field; an id or business
	// number taken is store.ErrExists (its text names "business_number"
	// for the number).
	ApplyVenue(ctx context.Context, owner string, reg registry.Registration) (store.Venue, error)
	// EditVenue sets a venue's details, checked by the registry's rules
	// (a registry.InvalidError), as an audit event naming the fields
	// changed. A rejected venue that is edited is applied again.
	EditVenue(ctx context.Context, owner, venue string, d store.VenueDetails) (store.Venue, error)
	// Poster issues a poster code of an approved venue.
	Poster(ctx context.Context, owner, venue string) (code string, issued time.Time, err error)
	// NewToken issues a kiosk enrollment token of an approved venue; only
	// its hash is kept, so this is the only time its text is seen.
	NewToken(ctx context.Context, owner, venue string) (NewToken, error)
	// Tokens lists the venue's enrollment tokens, latest first.
	Tokens(ctx context.Context, venue string) ([]store.Token, error)
	// RevokeToken deletes an unused token of the venue (store.ErrNotFound,
	// store.ErrTokenUsed).
	RevokeToken(ctx context.Context, owner, venue string, hash [32]byte) error
	// Kiosks describes the venue's enrolled kiosks.
	Kiosks(ctx context.Context, venue string) ([]Kiosk, error)
	// DailyCheckIns counts the venue's check-ins of each of the days KST
	// days ending today, oldest first: counts only, never a visitor.
	DailyCheckIns(ctx context.Context, venue string, days int) ([]DayCount, error)
}

// NewToken is a kiosk enrollment token just issued.
type NewToken struct {
	Token   string
	Expires time.Time
	// Central is the URL a kiosk enrolls with, BundleSHA256 the province
	// bundle's hash: the arguments of `kiosk enroll`.
	Central, BundleSHA256 string
}

// Kiosk is what the portal shows of an enrolled kiosk: the central's
// view of its chain, and its latest status report.
type Kiosk struct {
	ID       string
	Enrolled time.Time
	// LastRecord is the time of the kiosk's latest check-in the central
	// holds (zero before the first).
	LastRecord  time.Time
	Records     uint64
	LastSeq     uint64
	Quarantined uint64
	Breaks      uint64
	// Reported says the kiosk has sent a status report; the fields
	// after it are the latest one's.
	Reported bool
	// LastSeen is when the central received it.
	LastSeen time.Time
	// Backlog records wait in the kiosk's outbox, the oldest from
	// OldestUnsynced (kiosk's clock).
	Backlog        int
	OldestUnsynced time.Time
	// Clock is the quality of the kiosk's clock: "ntp-synced", "rtc" or
	// "unsynced".
	Clock string
	// LedgerAlert: the kiosk caught the central's ledger in a fork.
	LedgerAlert bool
}

// DayCount is the number of check-ins of one KST day.
type DayCount struct {
	Day   time.Time // midnight KST
	Count int
}

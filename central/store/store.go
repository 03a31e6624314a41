// Package store is the central server's storage: the venue registry, the
// enrolled devices, enrollment tokens, per-device chain state, check-ins
// and the quarantine. One interface, several backends (bbolt embedded today,
// PostgreSQL next), all held to the conformance test in storetest.
//
// # Contract
//
//   - Every method is atomic: it happens completely or not at all, also
//     across a crash of the process. A method that returned nil has made its
//     change durable.
//   - A method that returned an error may still have made its change durable
//     (the commit succeeded but its report was lost): callers retry, and
//     Ingest's idempotence makes the retry harmless.
//   - Ingest is idempotent on (device, seq): records already stored are
//     skipped and counted, never stored twice, and the device state never
//     moves backwards. A batch that fills a hole below the device's last
//     sequence (batches processed out of order) stores the missing records.
//   - Methods are safe for concurrent use; concurrent Ingests of
//     overlapping batches store each record once.
//   - A stored check-in keeps every field of the kiosk's record exactly
//     (RawWall and Mono to the nanosecond), so that its canonical bytes can
//     be rebuilt and its chain link checked. Other times keep at least
//     microseconds.
//   - Errors callers branch on: ErrNotFound, ErrExists, ErrTokenUsed, and
//     UpdateVenueStatus's *registry.TransitionError.
package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/checkin"
)

// Errors callers branch on.
var (
	ErrNotFound  = errors.New("not found")
	ErrExists    = errors.New("already exists")
	ErrTokenUsed = errors.New("enrollment token already used or expired")
)

// Venue is a registered place: a venue with kiosks, or without one and a
// poster instead. The store keeps what it is given; central/registry's
// rules decide what a registration must hold. A venue stored before the
// registry has only ID, Name and Created: its other fields are zero, its
// status registry.StatusNone.
type Venue struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// BusinessNumber is the 사업자등록번호 as NNN-NN-NNNNN: unique among
	// the venues that have one.
	BusinessNumber string            `json:"business_number"`
	Address        string            `json:"address"`
	Category       registry.Category `json:"category"`
	// DefaultStay is the stay, in minutes, of a visitor who never scanned
	// out (set from the category at registration).
	DefaultStay int               `json:"default_stay"`
	Location    registry.Location `json:"location"`
	// OwnerPhone is the owner's contact number, E.164.
	OwnerPhone string          `json:"owner_phone"`
	Status     registry.Status `json:"status"`
	// StatusReason is why the venue has its status, as the reviewer wrote
	// it for the owner: required when it is rejected, optional when
	// suspended, empty otherwise. Every change of status replaces it.
	StatusReason string    `json:"status_reason,omitempty"`
	Created      time.Time `json:"created"`
	// Updated is when the venue last changed (its status or debounce);
	// Created at first.
	Updated time.Time `json:"updated"`
	// DebounceSeconds is the same-pass window of the venue's kiosks, in
	// seconds: 0 leaves the kiosks' default (10 minutes), a negative
	// value turns it off. Kiosks read it from the venue-settings bucket.
	DebounceSeconds int `json:"debounce_seconds,omitempty"`
}

// Token is a one-time kiosk enrollment token for a venue. Only a hash of
// the token is stored.
type Token struct {
	Hash    [32]byte  // SHA-256 of the token text
	Venue   string    `json:"venue"`
	Expires time.Time `json:"expires"`
	Used    bool      `json:"used"`
}

// Device is an enrolled kiosk.
type Device struct {
	ID        string            `json:"id"`
	Venue     string            `json:"venue"`
	PublicKey ed25519.PublicKey `json:"public_key"` // verifies chain heads
	NKey      string            `json:"nkey"`       // NATS user public nkey ("U…")
	Enrolled  time.Time         `json:"enrolled"`
}

// DeviceState is the central's view of a device's chain. Before the first
// record LastSeq is 0 and LastHash is checkin.Genesis(device).
type DeviceState struct {
	Device      string       `json:"id"`
	LastSeq     uint64       `json:"last_seq"`
	LastHash    checkin.Hash `json:"-"`
	Records     uint64       `json:"records"`     // check-ins stored
	Quarantined uint64       `json:"quarantined"` // quarantine entries
	Breaks      uint64       `json:"breaks"`      // gaps and chain breaks seen
}

// Flags on a stored check-in.
const (
	// FlagAfterBreak: ingested from a batch that did not continue the
	// device's chain (a gap or a break before it).
	FlagAfterBreak uint32 = 1 << iota
	// FlagUncorrected: the record's clock was unsynced and could not be
	// corrected (its boot was never seen in a batch).
	FlagUncorrected
	FlagImpossibleTravel uint32 = 1 << 3 // an app check-in out of reach of the person's previous one (> 300 km/h); see also FlagSuspect
)

// CheckIn is one stored check-in. The personal part stays sealed to the
// province's key as the kiosk sealed it.
type CheckIn struct {
	Device  string              `json:"device"`
	Seq     uint64              `json:"seq"`
	Venue   string              `json:"venue"`
	Kind    checkin.Kind        `json:"kind"`
	RawWall time.Time           `json:"raw_wall"`
	Quality checkin.TimeQuality `json:"quality"`
	Boot    [16]byte            `json:"-"`
	Mono    time.Duration       `json:"mono"`
	Time    time.Time           `json:"time"` // corrected time
	// Sealed is the personal part as the store keeps it: sealed under the
	// key of its KST day (central/daykeys), so that destroying the day key
	// makes every copy unreadable. The store treats it as opaque bytes.
	Sealed []byte `json:"-"`
	// Tag is HMAC(day key, pseudonym): finds a person's check-ins of that
	// day without decrypting, and links nothing across days.
	Tag [16]byte `json:"-"`
	// Hash is the device's chain hash after this record, hₙ: it lets a
	// later batch's Prev be checked against any stored record, and an
	// overlapping batch's records be compared with the stored ones.
	Hash     checkin.Hash `json:"-"`
	Flags    uint32       `json:"flags"`
	Received time.Time    `json:"received"`
}

// Batch is what ingest writes in one transaction.
type Batch struct {
	Device  string
	Records []CheckIn // consecutive, ascending
	// State is the device state after the batch (LastSeq, LastHash); the
	// store adds the counts itself.
	LastSeq  uint64
	LastHash checkin.Hash
	// Boots are boot starts learned from this batch (device boot id → wall
	// time of boot), for clock correction of later batches. Every estimate
	// is late by the message's transit time, so the store keeps the
	// earliest start seen per (device, boot).
	Boots map[[16]byte]time.Time
	// Break, if not nil, is a quarantine entry recording that this batch
	// did not continue the chain; it is stored in the same transaction,
	// and only when at least one record of the batch was new (so that a
	// redelivered batch does not record its break twice).
	Break *Quarantine
	// Leaf, if not nil, is the batch's ledger leaf (ledger.Batch): it is
	// appended to the ledger in the same transaction, when at least one
	// record was new.
	Leaf []byte
}

// Store is the central's storage.
type Store interface {
	Vault
	Retention
	Quarantines // quarantine.go
	Tracing
	Ledger
	APITokens
	Accounts // account.go: web accounts and sessions
	DeviceStatuses
	Cases     // cases.go: the investigators' console
	FollowUps // followup.go: contacts under follow-up, notifications
	Apps      // app.go: the visitor app's codes, sessions, inbox
	// AddVenue stores a new venue, every field as given. ErrExists when
	// its id is taken, or when its business number is another venue's
	// (the error says "business_number"); a venue without a business
	// number is not checked for one.
	AddVenue(ctx context.Context, v Venue) error
	Venue(ctx context.Context, id string) (Venue, error) // ErrNotFound
	Venues(ctx context.Context) ([]Venue, error)         // in id order
	// UpdateVenueStatus moves a venue to status, sets its StatusReason to
	// reason and its Updated to now, in one transaction with the check
	// that registry.CheckTransition allows the move from its current
	// status (a *registry.TransitionError otherwise, and nothing changes).
	// Asking for the status the venue has changes nothing, Updated and
	// StatusReason included. It returns the venue as it is after;
	// ErrNotFound for an unknown venue.
	UpdateVenueStatus(ctx context.Context, id string, status registry.Status, reason string, now time.Time) (Venue, error)
	// UpdateVenueDebounce sets a venue's DebounceSeconds and, if that
	// changes it, its Updated to now, in one transaction. It returns the
	// venue as it is after; ErrNotFound for an unknown venue.
	UpdateVenueDebounce(ctx context.Context, id string, seconds int, now time.Time) (Venue, error)

	AddToken(ctx context.Context, t Token) error // ErrExists
	// UseToken marks the token used and returns it: once only, and only
	// before it expires (ErrTokenUsed otherwise, ErrNotFound if unknown).
	UseToken(ctx context.Context, hash [32]byte, now time.Time) (Token, error)

	AddDevice(ctx context.Context, d Device) error // ErrExists
	Device(ctx context.Context, id string) (Device, error)
	Devices(ctx context.Context) ([]Device, error) // in id order
	// State returns the device's chain state (ErrNotFound for a device
	// that is not enrolled).
	State(ctx context.Context, device string) (DeviceState, error)
	// BootStart returns the earliest known start of a device's boot.
	BootStart(ctx context.Context, device string, boot [16]byte) (time.Time, bool, error)

	// Ingest stores a batch atomically: records not yet stored, the device
	// state (moved forward only), the counts (records, breaks,
	// quarantined), boot starts and the break entry. It returns how many
	// records were new. Idempotent on (device, seq); ErrNotFound if the
	// device is not enrolled. A batch whose records are not ascending or
	// not all of b.Device is refused whole, and so is a batch holding a
	// new record of a day that DropDay dropped (a *DayDroppedError).
	Ingest(ctx context.Context, b Batch) (stored int, err error)
	// CheckIns calls fn for a device's check-ins in sequence order from seq
	// from, until fn returns false. fn runs outside any transaction and may
	// call the store; a check-in stored meanwhile may or may not be seen.
	CheckIns(ctx context.Context, device string, from uint64, fn func(CheckIn) bool) error

	Close() error
}

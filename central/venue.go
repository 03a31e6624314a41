package central

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/venuecode"
)

// The venue registry in the central: registration, status, posters. The
// rules are central/registry's; the records are the store's.
//
// A suspended venue gets no new kiosk tokens, enrollments or posters, but
// the kiosks it has keep syncing: their check-ins are ingested like any
// other (never silently dropped), since the visits happened whatever the
// venue's paperwork says. Investigators see them as usual.

// ErrNotApproved: kiosk tokens, enrollments and posters are for approved
// venues only. The HTTP API answers 409.
var ErrNotApproved = errors.New("not approved: kiosk tokens, enrollments and posters are for approved venues only")

// RegisterVenue registers a venue: it checks reg (an ErrInvalid error that
// wraps a [registry.InvalidError] naming each bad field), stores the venue
// with its category's default stay unless reg sets one (store.ErrExists
// for a taken id or business number), and publishes its settings to the
// venues bucket (again at the next start or reconnect if NATS is away
// now). A registration without a status is applied.
func (s *Server) RegisterVenue(ctx context.Context, reg registry.Registration) (store.Venue, error) {
	r, err := reg.Normalize()
	if err != nil {
		return store.Venue{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	stay := r.DefaultStay
	if stay == 0 {
		stay = s.stays().Of(r.Category)
	}
	now := s.now().UTC()
	v := store.Venue{
		ID:             r.ID,
		Name:           r.Name,
		BusinessNumber: r.BusinessNumber,
		Address:        r.Address,
		Category:       r.Category,
		DefaultStay:    stay,
		Location:       r.Location,
		OwnerPhone:     r.OwnerPhone,
		Status:         r.Status,
		Created:        now,
		Updated:        now,
	}
	if err := s.store.AddVenue(ctx, v); err != nil {
		return store.Venue{}, err // "add venue ID: id: already exists" from the store
	}
	if s.kv != nil {
		if err := s.kv.publishVenue(ctx, v); err != nil {
			s.log.Warn("venue stored but not yet published to kiosks", "venue", v.ID, "err", err)
		}
	}
	s.log.Info("venue registered", "venue", v.ID, "category", v.Category, "status", v.Status)
	s.auditRegistry(ctx, store.AuditVenueRegistered, map[string]any{"venue": v.ID, "business_number": v.BusinessNumber, "category": v.Category, "status": v.Status})
	return v, nil
}

// stays are the default stays of the categories. (The built-in ones: a
// province override would come from the config.)
func (s *Server) stays() registry.Stays { return nil }

// AddVenue registers an approved venue with made-up registration details, a
// convenience for tests and the demo: category other, at the centre of
// Jeju City, a valid business number and a Jeju landline derived from the
// id. Real venues register with [Server.RegisterVenue].
func (s *Server) AddVenue(ctx context.Context, id, name string) (store.Venue, error) {
	reg := registry.Registration{
		ID:         id,
		Name:       name,
		Address:    "제주특별자치도 제주시 (synthetic venue)",
		Category:   registry.Other,
		Location:   registry.JejuCity,
		OwnerPhone: syntheticPhone(id),
		Status:     registry.StatusApproved,
	}
	// A synthetic number may be another synthetic venue's (one in 10⁹):
	// then take the next one.
	for attempt := 0; ; attempt++ {
		reg.BusinessNumber = syntheticBusinessNumber(id, attempt)
		v, err := s.RegisterVenue(ctx, reg)
		if !errors.Is(err, store.ErrExists) || attempt == 9 {
			return v, err
		}
		if _, verr := s.store.Venue(ctx, id); verr == nil {
			return v, err // the id is taken
		}
	}
}

// syntheticBusinessNumber returns a valid business number derived from a
// venue id and an attempt number.
func syntheticBusinessNumber(id string, attempt int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "anshim synthetic business number %d %s", attempt, id))
	first9 := fmt.Sprintf("%09d", binary.BigEndian.Uint64(sum[:8])%1_000_000_000)
	for c := range 10 {
		if n, err := registry.ParseBusinessNumber(fmt.Sprintf("%s%d", first9, c)); err == nil {
			return n
		}
	}
	panic("registry: no check digit for " + first9) // one of the ten always fits
}

// syntheticPhone returns a Jeju landline number, 064-7xx-xxxx, derived
// from a venue id.
func syntheticPhone(id string) string {
	sum := sha256.Sum256([]byte("anshim synthetic phone " + id))
	n := binary.BigEndian.Uint64(sum[:8]) % 1_000_000
	return fmt.Sprintf("064-7%02d-%04d", n/10000, n%10000)
}

// Venue returns a registered venue (store.ErrNotFound if unknown).
func (s *Server) Venue(ctx context.Context, id string) (store.Venue, error) {
	return s.store.Venue(ctx, id)
}

// SetVenueStatus moves a venue to status without a reason: see
// [Server.ReviewVenue] (web_admin.go), which it calls.
func (s *Server) SetVenueStatus(ctx context.Context, id string, status registry.Status) (store.Venue, error) {
	return s.ReviewVenue(ctx, id, status, "")
}

// MaxDebounce is the longest debounce window a venue may set.
const MaxDebounce = 24 * time.Hour

// SetVenueDebounce sets the same-pass window of a venue's kiosks: a second
// scan of a pass within d of its check-in is answered "already checked in"
// and makes no record. d = 0 leaves the kiosks' default (10 minutes); a
// negative d turns the window off (every scan is recorded). It must be
// whole seconds and at most MaxDebounce (ErrInvalid otherwise). The setting
// is stored, then published to the venues bucket, where the venue's kiosks
// pick it up within seconds (again at the next start if NATS is away now);
// a kiosk whose own configuration sets a debounce keeps its own.
func (s *Server) SetVenueDebounce(ctx context.Context, id string, d time.Duration) (store.Venue, error) {
	switch {
	case d < 0:
		d = -time.Second // off
	case d%time.Second != 0 || d > MaxDebounce:
		return store.Venue{}, fmt.Errorf("%w: debounce %s: want whole seconds, at most %s (0: the kiosks' default, negative: off)", ErrInvalid, d, MaxDebounce)
	}
	before, err := s.store.Venue(ctx, id)
	if err != nil {
		return store.Venue{}, err
	}
	v, err := s.store.UpdateVenueDebounce(ctx, id, int(d/time.Second), s.now().UTC())
	if err != nil {
		return store.Venue{}, err
	}
	if s.kv != nil {
		if err := s.kv.publishVenue(ctx, v); err != nil {
			s.log.Warn("venue debounce stored but not yet published to kiosks", "venue", id, "err", err)
		}
	}
	if before.DebounceSeconds != v.DebounceSeconds {
		s.log.Info("venue debounce changed", "venue", id, "from_seconds", before.DebounceSeconds, "to_seconds", v.DebounceSeconds)
		s.auditRegistry(ctx, store.AuditVenueDebounce, map[string]any{"venue": id, "from_seconds": before.DebounceSeconds, "to_seconds": v.DebounceSeconds})
	}
	return v, nil
}

// ParseDebounceWindow parses a debounce window as the API and the CLI
// take it: "default" (0: the kiosks' own, 10 minutes), "off" (negative:
// every scan is recorded), or a duration of whole seconds up to
// MaxDebounce, such as "30s" or "15m" ("0s" is refused: say "off").
func ParseDebounceWindow(s string) (time.Duration, error) {
	switch s {
	case "default":
		return 0, nil
	case "off":
		return -time.Second, nil
	case "":
		return 0, errors.New(`missing: want a duration such as 30s or 15m, "off" or "default"`)
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q: want a duration such as 30s or 15m, \"off\" or \"default\"", s)
	case d <= 0:
		return 0, fmt.Errorf("%q: want a positive duration (\"off\" turns the window off)", s)
	case d%time.Second != 0 || d > MaxDebounce:
		return 0, fmt.Errorf("%q: want whole seconds, at most %s", s, MaxDebounce)
	}
	return d, nil
}

// FormatDebounceWindow is the inverse of ParseDebounceWindow for a venue's
// DebounceSeconds.
func FormatDebounceWindow(seconds int) string {
	switch {
	case seconds == 0:
		return "default"
	case seconds < 0:
		return "off"
	}
	out := (time.Duration(seconds) * time.Second).String() // "15m0s", "1h0m0s"
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

// approvedVenue returns the venue id if it is approved: ErrNotApproved
// otherwise, store.ErrNotFound if unknown.
func (s *Server) approvedVenue(ctx context.Context, id string) (store.Venue, error) {
	v, err := s.store.Venue(ctx, id)
	if err != nil {
		return store.Venue{}, err
	}
	if v.Status != registry.StatusApproved {
		return store.Venue{}, fmt.Errorf("venue %s: %w (its status is %s)", id, ErrNotApproved, v.Status)
	}
	return v, nil
}

// Poster is a venue's static poster code.
type Poster struct {
	Venue string `json:"venue"`
	// Poster is the code to print as a QR code (see venuecode.IssuePoster).
	Poster string    `json:"poster"`
	KeyID  string    `json:"key_id"` // the signing pass key's id, 8 hex digits
	Issued time.Time `json:"issued"`
}

// Poster issues the poster code of an approved venue, signed with the
// province's current pass-signing key. Each call makes a new code (its
// issue time changes); every one stays valid. The check-in API that takes
// them, with its GPS check, is a later issue's.
func (s *Server) Poster(ctx context.Context, id string) (Poster, error) {
	if _, err := s.approvedVenue(ctx, id); err != nil {
		return Poster{}, fmt.Errorf("poster: %w", err)
	}
	signer := s.keys.Signer()
	now := s.now().UTC().Truncate(time.Second)
	text, err := venuecode.IssuePoster(signer, id, now)
	if err != nil {
		return Poster{}, err
	}
	s.log.Info("poster issued", "venue", id)
	return Poster{Venue: id, Poster: text, KeyID: fmt.Sprintf("%08x", signer.PublicKey().ID), Issued: now}, nil
}

// auditRegistry records a registry change in the audit trail, and so as a
// ledger leaf naming the account acting in ctx: the province cannot
// quietly add a venue, a kiosk or an API token, or change a venue's status
// or debounce. The change itself is already stored; a failure here is
// logged loudly rather than undoing it.
func (s *Server) auditRegistry(ctx context.Context, kind string, detail map[string]any) {
	b, _ := json.Marshal(detail)
	e := store.AuditEvent{Time: s.now().UTC(), Kind: kind, Who: accountOf(ctx).Name, Detail: string(b)}
	if _, err := s.store.AddAudit(ctx, e); err != nil {
		s.log.Error("registry change not in the audit trail or the ledger", "kind", kind, "err", err)
	}
}

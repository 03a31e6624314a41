package central

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/sync/wire"
)

// Audit event kinds of the business portal.
const (
	AuditVenueEdited        = "venue-edited"
	AuditEnrollTokenIssued  = "enrollment-token-issued"
	AuditEnrollTokenRevoked = "enrollment-token-revoked"
)

// businessOps is the central's side of the business portal
// (web.Business): venue applications, edits, posters, kiosk enrollment
// tokens and what the portal shows of a venue's kiosks and check-ins.
type businessOps struct{ s *Server }

var _ web.Business = businessOps{}

// as returns ctx acting as the business account owner, the Who of the
// audit events it makes.
func as(ctx context.Context, owner string) context.Context {
	return withAccount(ctx, Account{Name: owner, Role: web.RoleBusiness})
}

// ApplyVenue implements web.Business: RegisterVenue as an applied venue,
// then the venue is the owner's.
func (b businessOps) ApplyVenue(ctx context.Context, owner string, reg registry.Registration) (store.Venue, error) {
	reg.Status = registry.StatusApplied
	v, err := b.s.RegisterVenue(as(ctx, owner), reg)
	if err != nil {
		return store.Venue{}, err
	}
	if err := b.s.store.AddAccountVenue(ctx, owner, v.ID); err != nil {
		return store.Venue{}, fmt.Errorf("apply for venue %s: owner %s: %w", v.ID, owner, err)
	}
	return v, nil
}

// venueEdits returns the store's store.VenueEdits.
func (b businessOps) venueEdits() (store.VenueEdits, error) {
	ve, ok := b.s.store.(store.VenueEdits)
	if !ok {
		return nil, fmt.Errorf("store %T cannot edit venues", b.s.store)
	}
	return ve, nil
}

// EditVenue implements web.Business. The fields changed are an audit
// event; the venue is published to its kiosks again (its default stay is
// theirs), and a rejected venue is applied again.
func (b businessOps) EditVenue(ctx context.Context, owner, id string, d store.VenueDetails) (store.Venue, error) {
	ve, err := b.venueEdits()
	if err != nil {
		return store.Venue{}, err
	}
	before, after, err := ve.UpdateVenueDetails(ctx, id, d, b.s.now().UTC())
	if err != nil {
		return store.Venue{}, err
	}
	ctx = as(ctx, owner)
	changed := map[string]any{}
	if before.Name != after.Name {
		changed["name"] = []string{before.Name, after.Name}
	}
	if before.Address != after.Address {
		changed["address"] = []string{before.Address, after.Address}
	}
	if before.Category != after.Category {
		changed["category"] = []registry.Category{before.Category, after.Category}
	}
	if before.DefaultStay != after.DefaultStay {
		changed["default_stay"] = []int{before.DefaultStay, after.DefaultStay}
	}
	if len(changed) > 0 {
		b.s.log.Info("venue edited", "venue", id, "by", owner)
		b.s.auditRegistry(ctx, AuditVenueEdited, map[string]any{"venue": id, "changed": changed})
		if b.s.kv != nil {
			if err := b.s.kv.publishVenue(ctx, after); err != nil {
				b.s.log.Warn("venue edit stored but not yet published to kiosks", "venue", id, "err", err)
			}
		}
	}
	if after.Status == registry.StatusRejected {
		return b.s.ReviewVenue(ctx, id, registry.StatusApplied, "")
	}
	return after, nil
}

// Poster implements web.Business.
func (b businessOps) Poster(ctx context.Context, owner, venue string) (string, time.Time, error) {
	p, err := b.s.Poster(as(ctx, owner), venue)
	return p.Poster, p.Issued, err
}

// NewToken implements web.Business, as an audit event naming the token by
// the first 8 hex digits of its hash.
func (b businessOps) NewToken(ctx context.Context, owner, venue string) (web.NewToken, error) {
	t, err := b.s.newToken(ctx, venue)
	if err != nil {
		return web.NewToken{}, err
	}
	h := sha256.Sum256([]byte(t.Token))
	b.s.auditRegistry(as(ctx, owner), AuditEnrollTokenIssued, map[string]any{"venue": venue, "token": hex.EncodeToString(h[:4]), "expires": t.Expires})
	return web.NewToken{Token: t.Token, Expires: t.Expires, Central: b.s.HTTPURL(), BundleSHA256: t.BundleSHA256}, nil
}

// Tokens implements web.Business.
func (b businessOps) Tokens(ctx context.Context, venue string) ([]store.Token, error) {
	ve, err := b.venueEdits()
	if err != nil {
		return nil, err
	}
	return ve.VenueTokens(ctx, venue)
}

// RevokeToken implements web.Business, as an audit event.
func (b businessOps) RevokeToken(ctx context.Context, owner, venue string, hash [32]byte) error {
	ve, err := b.venueEdits()
	if err != nil {
		return err
	}
	if err := ve.DeleteToken(ctx, venue, hash); err != nil {
		return err
	}
	b.s.log.Info("enrollment token revoked", "venue", venue, "by", owner)
	b.s.auditRegistry(as(ctx, owner), AuditEnrollTokenRevoked, map[string]any{"venue": venue, "token": hex.EncodeToString(hash[:4])})
	return nil
}

// Kiosks implements web.Business from the store's devices, their chain
// state and their latest status reports (store.DeviceStatuses);
// LastRecord is the time of the latest check-in stored.
func (b businessOps) Kiosks(ctx context.Context, venue string) ([]web.Kiosk, error) {
	stats, err := Stats(ctx, b.s.store)
	if err != nil {
		return nil, err
	}
	statuses, err := b.s.store.DeviceStatuses(ctx)
	if err != nil {
		return nil, fmt.Errorf("kiosks of venue %s: %w", venue, err)
	}
	reports := make(map[string]store.DeviceStatus, len(statuses))
	for _, st := range statuses {
		reports[st.Device] = st
	}
	var out []web.Kiosk
	for _, d := range stats {
		if d.Venue != venue {
			continue
		}
		k := web.Kiosk{ID: d.ID, Enrolled: d.Enrolled, Records: d.Records, LastSeq: d.LastSeq, Quarantined: d.Quarantined, Breaks: d.Breaks}
		if d.LastSeq > 0 {
			err := b.s.store.CheckIns(ctx, d.ID, d.LastSeq, func(c store.CheckIn) bool {
				k.LastRecord = c.Time
				return false
			})
			if err != nil {
				return nil, fmt.Errorf("kiosks of venue %s: %w", venue, err)
			}
		}
		if st, ok := reports[d.ID]; ok {
			r, err := wire.ParseDeviceStatus(st.Report)
			if err != nil { // stored as received: the fleet's parser refused nothing it kept
				b.s.log.Warn("a kiosk's stored status report does not parse", "device", d.ID, "err", err)
			} else {
				k.Reported, k.LastSeen, k.Backlog, k.OldestUnsynced, k.Clock, k.LedgerAlert = true, st.Received, r.Backlog, r.OldestUnsynced, r.Clock, r.LedgerAlert
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// kst is Korea Standard Time, the days of the counts.
var kst = time.FixedZone("KST", 9*3600)

// DailyCheckIns implements web.Business by reading the check-ins of the
// venue's kiosks: entries (not exits) by KST day of their corrected time.
// (It reads every record of the venue's kiosks: a store count by day
// would replace it for venues with years of records.)
func (b businessOps) DailyCheckIns(ctx context.Context, venue string, days int) ([]web.DayCount, error) {
	if days <= 0 {
		return nil, errors.New("daily check-ins: days must be positive")
	}
	now := b.s.now().In(kst)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, kst)
	first := today.AddDate(0, 0, -(days - 1))
	out := make([]web.DayCount, days)
	for i := range out {
		out[i].Day = first.AddDate(0, 0, i)
	}
	devices, err := b.s.store.Devices(ctx)
	if err != nil {
		return nil, fmt.Errorf("daily check-ins of venue %s: %w", venue, err)
	}
	for _, d := range devices {
		if d.Venue != venue {
			continue
		}
		err := b.s.store.CheckIns(ctx, d.ID, 1, func(c store.CheckIn) bool {
			t := c.Time.In(kst)
			day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, kst)
			if i := int(day.Sub(first).Hours() / 24); !day.Before(first) && i < days && c.Venue == venue && c.Kind != checkin.Exit {
				out[i].Count++
			}
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("daily check-ins of venue %s: %w", venue, err)
		}
	}
	return slices.Clip(out), nil
}

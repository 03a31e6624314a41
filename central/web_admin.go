package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
)

// ReviewVenue moves a venue to status with the reason the owner is shown
// (store.Venue.StatusReason): applied → approved or rejected, approved →
// suspended → approved, rejected → applied when the owner resubmits (a
// [*registry.TransitionError] otherwise). A rejection needs a reason
// (ErrInvalid without one: at least MinReasonAlnum letters or digits, at
// most MaxReasonBytes, like a trace's); other moves may have one. Asking for the
// status the venue has changes nothing. A change is an audit event (a
// ledger leaf) with the account acting and the reason.
func (s *Server) ReviewVenue(ctx context.Context, id string, status registry.Status, reason string) (store.Venue, error) {
	if !status.Valid() {
		_, err := registry.ParseStatus(string(status))
		return store.Venue{}, fmt.Errorf("%w: status: %v", ErrInvalid, err)
	}
	reason = strings.TrimSpace(reason)
	if status == registry.StatusRejected || reason != "" {
		var err error
		if reason, err = checkTraceText("reason", reason, MinReasonAlnum, MaxReasonBytes); err != nil {
			return store.Venue{}, err
		}
	}
	before, err := s.store.Venue(ctx, id)
	if err != nil {
		return store.Venue{}, err
	}
	v, err := s.store.UpdateVenueStatus(ctx, id, status, reason, s.now().UTC())
	if err != nil {
		return store.Venue{}, err
	}
	if before.Status != v.Status {
		s.log.Info("venue status changed", "venue", id, "from", before.Status, "to", v.Status)
		s.auditRegistryReason(ctx, store.AuditVenueStatus, map[string]any{"venue": id, "from": before.Status, "to": v.Status}, reason)
	}
	return v, nil
}

// auditRegistryReason is auditRegistry with the reason of the change.
func (s *Server) auditRegistryReason(ctx context.Context, kind string, detail map[string]any, reason string) {
	b, _ := json.Marshal(detail)
	e := store.AuditEvent{Time: s.now().UTC(), Kind: kind, Who: accountOf(ctx).Name, Detail: string(b), Reason: reason}
	if _, err := s.store.AddAudit(ctx, e); err != nil {
		s.log.Error("registry change not in the audit trail or the ledger", "kind", kind, "err", err)
	}
}

// webAdmin is the central's side of the administration (web.Admin).
type webAdmin struct{ s *Server }

var _ web.Admin = webAdmin{}

// asAdmin returns ctx acting as the admin account who.
func asAdmin(ctx context.Context, who string) context.Context {
	return withAccount(ctx, Account{Name: who, Role: web.RoleAdmin})
}

func (a webAdmin) ReviewVenue(ctx context.Context, who, venue string, status registry.Status, reason string) (store.Venue, error) {
	v, err := a.s.ReviewVenue(asAdmin(ctx, who), venue, status, reason)
	if errors.Is(err, ErrInvalid) {
		return v, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	return v, err
}

func (a webAdmin) Decommission(ctx context.Context, who, device, reason string) error {
	return a.s.Decommission(asAdmin(ctx, who), device, reason)
}

// Fleet joins the enrolled devices, their sync state, the audit trail's
// decommissionings and the latest status reports the store keeps.
func (a webAdmin) Fleet(ctx context.Context) ([]web.FleetDevice, error) {
	stats, err := a.s.Devices(ctx)
	if err != nil {
		return nil, err
	}
	gone, err := a.s.decommissionedAt(ctx)
	if err != nil {
		return nil, err
	}
	reports, err := a.s.fleetStored(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.FleetDevice, 0, len(stats))
	for _, d := range stats {
		f := web.FleetDevice{ID: d.ID, Venue: d.Venue, Enrolled: d.Enrolled, Records: d.Records,
			Quarantined: d.Quarantined, Breaks: d.Breaks, Decommissioned: gone[d.ID]}
		if r, ok := reports[d.ID]; ok {
			f.LastSeen, f.Backlog, f.OldestUnsynced, f.Clock, f.LedgerAlert, f.Version =
				r.Received, r.Backlog, r.OldestUnsynced, r.Clock, r.LedgerAlert, r.Version
		}
		out = append(out, f)
	}
	return out, nil
}

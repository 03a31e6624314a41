package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/vault"
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

// AuditPassRevoked is the kind of the audit event of a card pass an
// administrator revoked on the web: its detail holds the card's serial
// and the SHA-256 of the person's id.
const AuditPassRevoked = "pass-revoked"

// PersonRevealDetail is the detail of the identity-revealed audit event
// of an administrator's reveal of one person (store.AuditIdentityRevealed;
// a trace's is a TraceDetail): the SHA-256 of the person's id, of the
// case reference and of the reason, never whom in clear. Who names the
// admin account; the case reference and reason are kept in clear in the
// audit store.
type PersonRevealDetail struct {
	By            string `json:"by"` // "person": an administrator's search
	PersonSHA256  string `json:"person_sha256"`
	CaseRefSHA256 string `json:"case_ref_sha256"`
	ReasonSHA256  string `json:"reason_sha256"`
	Revealed      int    `json:"revealed"` // 1
}

// webPerson is the administration's view of a vault person.
func webPerson(p vault.Person) web.Person {
	out := web.Person{ID: p.ID, Registered: p.Created, LastUsed: p.LastUsed, Destroyed: p.LastUsed.Add(vault.Retention)}
	for _, c := range p.Cards {
		issued := c.Issued.UTC().Truncate(time.Second) // as IssuePass signs it
		out.Passes = append(out.Passes, web.Pass{Kind: "card", Serial: c.Serial, Issued: issued,
			Expires: issued.Add(vault.DefaultPassLifetime), Revoked: c.Revoked})
	}
	return out
}

func (a webAdmin) FindPerson(ctx context.Context, phone string) (web.Person, error) {
	if a.s.vault == nil {
		return web.Person{}, a.s.vaultErr
	}
	p, err := a.s.vault.Lookup(ctx, phone)
	if errors.Is(err, vault.ErrInvalid) {
		return web.Person{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if err != nil {
		return web.Person{}, err
	}
	return webPerson(p), nil
}

func (a webAdmin) Person(ctx context.Context, id string) (web.Person, error) {
	if a.s.vault == nil {
		return web.Person{}, a.s.vaultErr
	}
	p, err := a.s.vault.Person(ctx, id)
	if err != nil {
		return web.Person{}, err
	}
	return webPerson(p), nil
}

// RevealPerson checks the case reference and reason as a trace's, writes
// the audit event and only then opens the identity.
func (a webAdmin) RevealPerson(ctx context.Context, who, id, caseRef, reason string) (web.Identity, error) {
	if a.s.vault == nil {
		return web.Identity{}, a.s.vaultErr
	}
	if who == "" {
		return web.Identity{}, errors.New("reveal: no account to name in the audit trail")
	}
	var err error
	if caseRef, err = checkTraceText("case_ref", caseRef, MinCaseRefAlnum, MaxCaseRefBytes); err != nil {
		return web.Identity{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if reason, err = checkTraceText("reason", reason, MinReasonAlnum, MaxReasonBytes); err != nil {
		return web.Identity{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if _, err := a.s.vault.Person(ctx, id); err != nil {
		return web.Identity{}, err
	}
	detail, _ := json.Marshal(PersonRevealDetail{By: "person", PersonSHA256: sha256Hex(id),
		CaseRefSHA256: sha256Hex(caseRef), ReasonSHA256: sha256Hex(reason), Revealed: 1})
	e := store.AuditEvent{Time: a.s.now().UTC(), Kind: store.AuditIdentityRevealed, Who: who, Detail: string(detail), CaseRef: caseRef, Reason: reason}
	if _, err := a.s.store.AddAudit(ctx, e); err != nil {
		return web.Identity{}, fmt.Errorf("reveal: audit: %w", err)
	}
	name, phone, err := a.s.vault.Reveal(ctx, id)
	if err != nil {
		return web.Identity{}, fmt.Errorf("reveal: %w", err)
	}
	a.s.log.Info("identity revealed", "person", id, "by", who)
	return web.Identity{Name: name, Phone: phone}, nil
}

// RevokeCard takes the path of POST /v1/persons/{id}/cards/{serial}/revoke
// (the vault, then the revocation KV bucket kiosks watch), then writes
// the audit event.
func (a webAdmin) RevokeCard(ctx context.Context, who, id string, serial uint32) error {
	if a.s.vault == nil {
		return a.s.vaultErr
	}
	rid, err := a.s.vault.RevokeCard(ctx, id, serial)
	if err != nil {
		return err
	}
	if err := a.s.Revoke(ctx, rid); err != nil {
		return fmt.Errorf("card %d of person %s is revoked in the vault, but not yet at kiosks (revoke it again): %w", serial, id, err)
	}
	detail, _ := json.Marshal(map[string]any{"person_sha256": sha256Hex(id), "serial": serial})
	e := store.AuditEvent{Time: a.s.now().UTC(), Kind: AuditPassRevoked, Who: who, Detail: string(detail)}
	if _, err := a.s.store.AddAudit(ctx, e); err != nil {
		return fmt.Errorf("card %d of person %s is revoked, but the audit event is not stored (revoke it again): %w", serial, id, err)
	}
	a.s.log.Info("card revoked", "person", id, "serial", serial, "by", who)
	return nil
}

// auditLeafChunk is how many leaves AuditLeaves reads at a time.
const auditLeafChunk = 1024

// AuditLeaves reads the ledger backwards from its end, a chunk at a time,
// until it found the leaf of every event (ledgerstore.EventLeaf is the
// leaf's exact text, unique by the event's id) or reached the first leaf:
// the administration shows the latest events, near the end.
func (a webAdmin) AuditLeaves(ctx context.Context, events []store.AuditEvent) (map[uint64]int64, int64, error) {
	want := make(map[string]uint64, len(events))
	for _, e := range events {
		if leaf, err := ledgerstore.EventLeaf(e); err == nil {
			want[string(leaf)] = e.ID
		}
	}
	size, err := a.s.store.LedgerSize(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("audit leaves: %w", err)
	}
	out := make(map[uint64]int64, len(want))
	for end := size; end > 0 && len(want) > 0; {
		start := max(0, end-auditLeafChunk)
		leaves, err := a.s.store.LedgerLeaves(ctx, start, end)
		if err != nil {
			return nil, 0, fmt.Errorf("audit leaves %d to %d: %w", start, end, err)
		}
		for i, l := range leaves {
			if id, ok := want[string(l)]; ok {
				out[id] = start + int64(i)
				delete(want, string(l))
			}
		}
		end = start
	}
	return out, size, nil
}

func (a webAdmin) CanBackup() bool { return a.s.CanBackup() }

func (a webAdmin) Backup(ctx context.Context, who string, start func(size int64) io.Writer) (int64, error) {
	return a.s.Backup(ctx, who, start)
}

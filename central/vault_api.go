package central

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/pass"
)

// The identity vault in the central: its admin routes and the daily
// destruction of identities unused for 8 weeks. Nothing here logs a name,
// a phone number or a pseudonym: person ids, card serials and counts only.

// vaultRetentionEvery is how often unused identities are destroyed, by the
// server's clock.
const vaultRetentionEvery = 24 * time.Hour

// vaultRoutes adds the identity vault's admin routes to mux:
//
//	POST /v1/persons                              {"name","phone"} → {"id","created"}
//	POST /v1/persons/{id}/passes                  {"kind":"app"|"card"} → {"pass","kind","serial","expires","revoked"}
//	POST /v1/persons/{id}/cards/{serial}/revoke   → {"id","serial","revocation_id","revoked"}
//
// A registration answers with the person's id only: neither the phone
// number nor the pseudonym is echoed. A new card revokes the person's
// earlier cards ("revoked" lists the serials it revoked); revocations are
// published to the revocation KV bucket, as POST /v1/revocations does.
//
// Called by startHTTP while the server starts, it also starts the retention
// job, which destroys unused identities at once and then daily, until
// Close.
func (s *Server) vaultRoutes(mux *http.ServeMux) {
	h := vaultAPI{s: s, v: s.vault, err: s.vaultErr}
	mux.Handle("POST /v1/persons", s.api(s.admin(h.register)))
	mux.Handle("POST /v1/persons/{id}/passes", s.api(s.admin(h.issuePass)))
	mux.Handle("POST /v1/persons/{id}/cards/{serial}/revoke", s.api(s.admin(h.revokeCard)))
}

// vaultAPI holds the vault's handlers.
type vaultAPI struct {
	s   *Server
	v   *vault.Vault
	err error // the vault could not be made
}

// invalidInput maps the vault's refusals of input to ErrInvalid (400).
func invalidInput(err error) error {
	if errors.Is(err, vault.ErrInvalid) {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

func (h *vaultAPI) register(r *http.Request) (any, int, error) {
	if h.err != nil {
		return nil, 0, h.err
	}
	var req struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	p, err := h.v.Register(r.Context(), req.Name, req.Phone)
	if err != nil {
		return nil, 0, invalidInput(err)
	}
	h.s.log.Info("person registered", "person", p.ID)
	return map[string]any{"id": p.ID, "created": p.Created}, http.StatusCreated, nil
}

func (h *vaultAPI) issuePass(r *http.Request) (any, int, error) {
	if h.err != nil {
		return nil, 0, h.err
	}
	req := struct {
		Kind string `json:"kind"`
	}{Kind: "app"}
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	kind, err := pass.ParseKind(req.Kind)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: kind: want app or card", ErrInvalid)
	}
	ctx, id := r.Context(), r.PathValue("id")
	iss, err := h.v.IssuePass(ctx, id, kind, h.s.now())
	if err != nil {
		return nil, 0, invalidInput(err)
	}
	revoked := []uint32{}
	for _, rv := range iss.Revoke {
		if err := h.s.publishCardRevocation(ctx, rv); err != nil {
			return nil, 0, fmt.Errorf("card %d of person %s is issued, but the revocation of card %d did not reach kiosks (issue the card again): %w",
				iss.Serial, id, rv.Serial, err)
		}
		if !rv.Before {
			revoked = append(revoked, rv.Serial)
		}
	}
	h.s.log.Info("pass issued", "person", id, "kind", iss.Kind.String(), "serial", iss.Serial, "revoked_cards", len(revoked))
	return map[string]any{
		"pass":    iss.Text,
		"kind":    iss.Kind.String(),
		"serial":  iss.Serial,
		"expires": iss.Expires,
		"revoked": revoked,
	}, http.StatusCreated, nil
}

// publishCardRevocation publishes a card that a new card replaced: with
// Revoke (logged, counted) when the new card revoked it, quietly again
// when it was revoked before, in case that publication failed.
func (s *Server) publishCardRevocation(ctx context.Context, rv vault.Revocation) error {
	if !rv.Before || s.kv == nil {
		return s.Revoke(ctx, rv.ID)
	}
	return s.kv.revoke(ctx, rv.ID)
}

func (h *vaultAPI) revokeCard(r *http.Request) (any, int, error) {
	if h.err != nil {
		return nil, 0, h.err
	}
	var req struct{}
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	ctx, id := r.Context(), r.PathValue("id")
	serial, err := strconv.ParseUint(r.PathValue("serial"), 10, 32)
	if err != nil || serial == 0 {
		return nil, 0, fmt.Errorf("%w: serial: want a card serial from 1 to 4294967295", ErrInvalid)
	}
	rid, err := h.v.RevokeCard(ctx, id, uint32(serial))
	if err != nil {
		return nil, 0, invalidInput(err)
	}
	if err := h.s.Revoke(ctx, rid); err != nil {
		return nil, 0, fmt.Errorf("card %d of person %s is revoked in the vault, but not yet at kiosks (revoke it again): %w", serial, id, err)
	}
	h.s.log.Info("card revoked", "person", id, "serial", serial)
	return map[string]any{"id": id, "serial": serial, "revocation_id": rid, "revoked": true}, 0, nil
}

// vaultRetention destroys the identities unused for vault.Retention now
// and then every vaultRetentionEvery by the server's clock, until ctx is
// done. A failed run is tried again an hour later.
func (s *Server) vaultRetention(ctx context.Context, v *vault.Vault) {
	s.periodic(ctx, vaultRetentionEvery, func(ctx context.Context, now time.Time) error {
		n, err := v.DestroyUnused(ctx, now, vault.Retention)
		if err != nil {
			return fmt.Errorf("destroying unused identities: %w", err)
		}
		s.log.Info("destroyed identities unused for 8 weeks", "count", n,
			"unused_since", now.Add(-vault.Retention).UTC().Format(time.RFC3339))
		return nil
	})
}

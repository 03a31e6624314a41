package central

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/anshim/anshim/central/store"
)

// Named API tokens: one bearer token per person, so that every audit
// event names the person who acted. They stand in for the web accounts
// of a later issue (roles admin, investigator, business): an account will
// take over its token's name, and audit events name accounts the same
// way. DATA/admin.token and DATA/investigator.token keep working and are
// the accounts "admin" and "investigator".

// Roles of an account.
const (
	RoleAdmin        = "admin"        // every route
	RoleInvestigator = "investigator" // the tracing routes
)

// Account is who makes an API request: a named token's name and role.
type Account struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// The accounts of the data directory's token files: their names are
// reserved.
var (
	fileAdmin        = Account{Name: "admin", Role: RoleAdmin}
	fileInvestigator = Account{Name: "investigator", Role: RoleInvestigator}
)

// errForbidden: a valid token whose role does not allow the route. The
// HTTP API answers 403.
var errForbidden = errors.New("forbidden")

type accountKey struct{}

// withAccount returns ctx carrying the account acting.
func withAccount(ctx context.Context, a Account) context.Context {
	return context.WithValue(ctx, accountKey{}, a)
}

// accountOf returns the account acting in ctx ("" names when none: the
// central itself, or a kiosk).
func accountOf(ctx context.Context) Account {
	a, _ := ctx.Value(accountKey{}).(Account)
	return a
}

// maxTokenLen bounds a bearer token looked up in the store.
const maxTokenLen = 256

// account returns the account of a request's bearer token: DATA/admin.token
// is "admin", inv (DATA/investigator.token, when not empty) is
// "investigator", any other is looked up by its hash among the named
// tokens. errUnauthorized for none, an unknown or a revoked token.
func (s *Server) account(r *http.Request, inv string) (Account, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	switch {
	case !ok || tok == "" || len(tok) > maxTokenLen:
		return Account{}, errUnauthorized
	case subtle.ConstantTimeCompare([]byte(tok), []byte(s.adminToken)) == 1:
		return fileAdmin, nil
	case inv != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(inv)) == 1:
		return fileInvestigator, nil
	}
	t, err := s.store.APITokenByHash(r.Context(), sha256.Sum256([]byte(tok)))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Account{}, errUnauthorized
	case err != nil:
		return Account{}, fmt.Errorf("API token: %w", err)
	case !t.Revoked.IsZero():
		return Account{}, fmt.Errorf("%w: the token of %s was revoked on %s", errUnauthorized, t.Name, t.Revoked.UTC().Format(time.RFC3339))
	}
	return Account{Name: t.Name, Role: t.Role}, nil
}

// tokenRoutes adds the routes of the named API tokens to mux, all admin:
//
//	POST /v1/api-tokens                {"name","role"} → NewAPIToken (201)
//	GET  /v1/api-tokens                → [APITokenInfo]
//	POST /v1/api-tokens/{name}/revoke  → APITokenInfo
func (s *Server) tokenRoutes(mux *http.ServeMux) {
	mux.Handle("POST /v1/api-tokens", s.api(s.admin(s.handleAddAPIToken)))
	mux.Handle("GET /v1/api-tokens", s.api(s.admin(s.handleAPITokens)))
	mux.Handle("POST /v1/api-tokens/{name}/revoke", s.api(s.admin(s.handleRevokeAPIToken)))
}

// NewAPIToken is a token just made: its secret is shown this once.
type NewAPIToken struct {
	APITokenInfo
	Token string `json:"token"`
}

// APITokenInfo describes an API token, without its secret or hash.
type APITokenInfo struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Created   time.Time `json:"created,omitzero"`
	CreatedBy string    `json:"created_by,omitempty"`
	Revoked   time.Time `json:"revoked,omitzero"`
	// File is the token file in the data directory, for "admin" and
	// "investigator".
	File string `json:"file,omitempty"`
}

func tokenInfo(t store.APIToken) APITokenInfo {
	return APITokenInfo{Name: t.Name, Role: t.Role, Created: t.Created, CreatedBy: t.CreatedBy, Revoked: t.Revoked}
}

// AddAPIToken makes a named token for a person with a role, stores its
// hash and returns the token: the only time it is shown. The name must be
// store.ValidAccountName, not reserved, and never used before (store.ErrExists,
// also for a revoked token's name: audit events keep naming one person).
// The addition is an audit event of the account in ctx.
func (s *Server) AddAPIToken(ctx context.Context, name, role string) (NewAPIToken, error) {
	switch {
	case !store.ValidAccountName(name):
		return NewAPIToken{}, fmt.Errorf("%w: name %q: want 2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter (such as kim.jiwoo)", ErrInvalid, name)
	case store.ReservedAccountName(name):
		return NewAPIToken{}, fmt.Errorf("name %s: %w (reserved: admin and investigator are the data directory's token files)", name, store.ErrExists)
	case role != RoleAdmin && role != RoleInvestigator:
		return NewAPIToken{}, fmt.Errorf("%w: role %q: want admin or investigator", ErrInvalid, role)
	}
	var b [32]byte
	rand.Read(b[:])
	secret := hex.EncodeToString(b[:])
	t := store.APIToken{Name: name, Role: role, Hash: sha256.Sum256([]byte(secret)), Created: s.now().UTC(), CreatedBy: accountOf(ctx).Name}
	if err := s.store.AddAPIToken(ctx, t); err != nil {
		return NewAPIToken{}, err // "add API token NAME: name: already exists" from the store
	}
	s.log.Info("API token added", "name", name, "role", role, "by", t.CreatedBy)
	s.auditRegistry(ctx, store.AuditTokenAdded, map[string]any{"name": name, "role": role})
	return NewAPIToken{APITokenInfo: tokenInfo(t), Token: secret}, nil
}

// APITokens lists the token files' accounts, then the named tokens in name
// order, revoked ones included.
func (s *Server) APITokens(ctx context.Context) ([]APITokenInfo, error) {
	list, err := s.store.APITokens(ctx)
	if err != nil {
		return nil, err
	}
	out := []APITokenInfo{
		{Name: fileAdmin.Name, Role: fileAdmin.Role, File: "DATA/" + AdminTokenFile},
		{Name: fileInvestigator.Name, Role: fileInvestigator.Role, File: "DATA/" + InvestigatorTokenFile},
	}
	for _, t := range list {
		out = append(out, tokenInfo(t))
	}
	return out, nil
}

// RevokeAPIToken revokes a named token at once: requests with it are
// refused from then on (store.ErrNotFound for an unknown name). Revoking a
// revoked token changes nothing. The token files cannot be revoked here:
// replace the file and restart the central. A revocation is an audit event
// of the account in ctx.
func (s *Server) RevokeAPIToken(ctx context.Context, name string) (APITokenInfo, error) {
	if store.ReservedAccountName(name) {
		return APITokenInfo{}, fmt.Errorf("%w: %s is a token file's account: write a new DATA/%s.token and restart the central", ErrInvalid, name, name)
	}
	if !store.ValidAccountName(name) {
		return APITokenInfo{}, fmt.Errorf("API token %q: %w", name, store.ErrNotFound)
	}
	before, err := s.store.APITokens(ctx)
	if err != nil {
		return APITokenInfo{}, err
	}
	t, err := s.store.RevokeAPIToken(ctx, name, s.now().UTC())
	if err != nil {
		return APITokenInfo{}, err
	}
	for _, b := range before {
		if b.Name == name && b.Revoked.IsZero() {
			s.log.Info("API token revoked", "name", name, "by", accountOf(ctx).Name)
			s.auditRegistry(ctx, store.AuditTokenRevoked, map[string]any{"name": name, "role": t.Role})
		}
	}
	return tokenInfo(t), nil
}

func (s *Server) handleAddAPIToken(r *http.Request) (any, int, error) {
	var req struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	t, err := s.AddAPIToken(r.Context(), req.Name, req.Role)
	return t, http.StatusCreated, err
}

func (s *Server) handleAPITokens(r *http.Request) (any, int, error) {
	list, err := s.APITokens(r.Context())
	return list, 0, err
}

func (s *Server) handleRevokeAPIToken(r *http.Request) (any, int, error) {
	var req struct{}
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	t, err := s.RevokeAPIToken(r.Context(), r.PathValue("name"))
	return t, 0, err
}

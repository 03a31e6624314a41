package central

import (
	"errors"
	"net/http"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
)

// webRoutes adds the web's pages (central/web: the landing page, sign-in,
// the business portal, the administration, the console and the visitor
// app) and the web accounts' API routes to mux:
//
//	POST /v1/accounts                 {"name","role","phone","password"} → AccountInfo (201, admin)
//	GET  /v1/accounts                 → [AccountInfo]                        (admin)
//	POST /v1/accounts/{name}/disable  → AccountInfo                          (admin)
//
// Accounts and API tokens share one namespace of names (store.Account):
// an account may take the name of a token of its role (the same person),
// not of another role's; disabling it revokes that token too.
func (s *Server) webRoutes(mux *http.ServeMux) {
	wb, err := web.New(s.store, web.Options{Now: s.now, Log: s.log, TLS: s.cfg.TLSCert != "", Clients: s.clients,
		Admin:    webAdmin{s},    // web_admin.go
		Business: businessOps{s}, // web_business.go
		Console:  newConsole(s),  // web_console.go
		Clerk:    webClerk{s},    // web_clerk.go
	})
	if err != nil { // the templates are embedded: a broken build
		panic(err)
	}
	wb.Register(mux)
	h := accountAPI{s: s, web: wb}
	mux.Handle("POST /v1/accounts", s.api(s.admin(h.add)))
	mux.Handle("GET /v1/accounts", s.api(s.admin(h.list)))
	mux.Handle("POST /v1/accounts/{name}/disable", s.api(s.admin(h.disable)))
}

// AccountInfo describes a web account, without its password hash.
type AccountInfo struct {
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Phone       string    `json:"phone"`
	Created     time.Time `json:"created"`
	CreatedBy   string    `json:"created_by"`
	Disabled    time.Time `json:"disabled,omitzero"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	Venues      []string  `json:"venues,omitempty"`
}

func accountInfo(a store.Account) AccountInfo {
	return AccountInfo{Name: a.Name, Role: a.Role, Phone: a.Phone, Created: a.Created, CreatedBy: a.CreatedBy,
		Disabled: a.Disabled, LockedUntil: a.LockedUntil, Venues: a.Venues}
}

// accountAPI serves /v1/accounts.
type accountAPI struct {
	s   *Server
	web *web.Web
}

func (h accountAPI) add(r *http.Request) (any, int, error) {
	var req struct {
		web.NewAccount
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	req.NewAccount.Password = req.Password
	a, err := h.web.AddAccount(r.Context(), req.NewAccount, accountOf(r.Context()).Name)
	if err != nil {
		return nil, 0, accountErr(err)
	}
	return accountInfo(a), http.StatusCreated, nil
}

func (h accountAPI) list(r *http.Request) (any, int, error) {
	list, err := h.web.Accounts(r.Context())
	out := []AccountInfo{}
	for _, a := range list {
		out = append(out, accountInfo(a))
	}
	return out, 0, err
}

func (h accountAPI) disable(r *http.Request) (any, int, error) {
	var req struct{}
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	a, err := h.web.DisableAccount(r.Context(), r.PathValue("name"), accountOf(r.Context()).Name)
	if err != nil {
		return nil, 0, accountErr(err)
	}
	return accountInfo(a), 0, nil
}

// accountErr makes web.ErrInvalid answer 400 like the API's ErrInvalid.
func accountErr(err error) error {
	if errors.Is(err, web.ErrInvalid) {
		return invalidErr{err}
	}
	return err
}

// invalidErr is an error that is also ErrInvalid, its text unchanged.
type invalidErr struct{ error }

func (e invalidErr) Is(target error) bool { return target == ErrInvalid }

func (e invalidErr) Unwrap() error { return e.error }

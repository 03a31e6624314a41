// Package web is the central's web: server-rendered pages for the
// province's three web systems — the business portal (/business) with the
// administration (/admin), the investigators' console (/console) and the
// visitor app (/app) — and the landing page (/).
//
// The shape is Miniflux's (miniflux/v2 internal/ui): routes.go lists every
// route with the roles that may use it, one file per page action
// (signin_show.go shows the form, signin_submit.go takes the POST),
// middleware.go and csrf.go hold what every request passes through,
// form/ parses and validates forms without HTTP, locale/ holds the
// message catalogues (Korean the reference, English by ?lang=en), and
// templates/ and static/ are embedded in the binary: no build step, no
// inline script or style (the Content-Security-Policy forbids both).
//
// # Accounts and sessions
//
// Accounts (store.Account) have one role: admin, investigator, business
// (a venue owner, who may own several venues) or clerk. Their names are
// the namespace of the API tokens' too: the Who of audit events. Passwords
// are hashed with argon2id (password.go). A session is a random 32-byte
// id in an HttpOnly, SameSite=Lax cookie (Secure under TLS); the store
// keeps only its SHA-256, with a CSRF token that every form of the session
// carries. A session ends after Options.SessionIdle without a request or
// Options.SessionMax after sign-in, whichever comes first.
//
// # Abuse
//
// Sign-in and sign-up are rate limited per client address, and an account
// is locked for Options.LockFor after Options.MaxFailures failed sign-ins
// in a row; failures of existing accounts and lockouts are audit events.
package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/clientaddr"
)

// Roles of an account.
const (
	RoleAdmin        = "admin"        // the province's administration
	RoleInvestigator = "investigator" // the epidemiological investigators
	RoleBusiness     = "business"     // a venue owner
	RoleClerk        = "clerk"        // a community centre's staff: visitors' cards (/clerk)
)

// AllRoles lists every role.
var AllRoles = []string{RoleAdmin, RoleInvestigator, RoleBusiness, RoleClerk}

// Defaults of Options.
const (
	DefaultSessionIdle  = 2 * time.Hour
	DefaultSessionMax   = 12 * time.Hour
	DefaultMaxFailures  = 5
	DefaultLockFor      = 15 * time.Minute
	DefaultAddressBurst = 10
	DefaultAddressEvery = time.Minute
	DefaultMaxFormBytes = 16 << 10
)

// Options configure the web. Zero fields take the defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives the web's log lines (default: discarded).
	Log *slog.Logger
	// TLS says the central serves HTTPS: cookies are Secure and pages
	// send Strict-Transport-Security.
	TLS bool
	// SessionIdle ends a session this long after its last request
	// (default 2 h); SessionMax this long after sign-in (default 12 h).
	SessionIdle, SessionMax time.Duration
	// MaxFailures failed sign-ins in a row lock an account for LockFor
	// (defaults 5 and 15 minutes).
	MaxFailures int
	LockFor     time.Duration
	// AddressBurst sign-in and sign-up posts may come from one client
	// address at once, then one per AddressEvery (defaults 10, 1 minute).
	AddressBurst int
	AddressEvery time.Duration
	// Clients finds client addresses behind trusted proxies, for the
	// address rate limit and the log (nil: the connection's address).
	Clients *clientaddr.Resolver
	// MaxFormBytes bounds a posted form (default 16 KiB).
	MaxFormBytes int64
	// Admin is the central's side of the administration (/admin); nil
	// leaves the pages that need it answering 500.
	Admin Admin
	// Business is the central's side of the business portal (nil: its
	// pages that need it answer 503).
	Business Business
	// Console is the central's side of the investigators' console
	// (/console; nil: its pages answer 500).
	Console Console
	// Clerk is the central's side of the clerks' cards for visitors
	// without a smartphone (/clerk; nil: its pages answer 500).
	Clerk Clerk
}

// Web serves the pages. Make one with New and add its routes to a mux
// with Register.
type Web struct {
	st      store.Store
	opts    Options
	now     func() time.Time
	log     *slog.Logger
	pages   map[string]map[string]*template.Template // language → page → template
	limiter *limiter
	// dummyHash is checked against the password of an unknown account, so
	// that a sign-in takes as long whether the account exists or not.
	dummyHash string
}

// New returns the web on st.
func New(st store.Store, opts Options) (*Web, error) {
	o := opts
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.SessionIdle = cmp.Or(o.SessionIdle, DefaultSessionIdle)
	o.SessionMax = cmp.Or(o.SessionMax, DefaultSessionMax)
	o.MaxFailures = cmp.Or(o.MaxFailures, DefaultMaxFailures)
	o.LockFor = cmp.Or(o.LockFor, DefaultLockFor)
	o.AddressBurst = cmp.Or(o.AddressBurst, DefaultAddressBurst)
	o.AddressEvery = cmp.Or(o.AddressEvery, DefaultAddressEvery)
	o.MaxFormBytes = cmp.Or(o.MaxFormBytes, DefaultMaxFormBytes)
	pages, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	dummy, err := HashPassword("not a password of anyone")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return &Web{st: st, opts: o, now: o.Now, log: o.Log, pages: pages,
		limiter: newLimiter(o.AddressBurst, o.AddressEvery), dummyHash: dummy}, nil
}

// audit records an event of the account who in the audit trail (and so in
// the ledger). A failure is logged loudly rather than failing the request
// whose change is already stored.
func (wb *Web) audit(ctx context.Context, kind, who string, detail string) {
	e := store.AuditEvent{Time: wb.now().UTC(), Kind: kind, Who: who, Detail: detail}
	if _, err := wb.st.AddAudit(ctx, e); err != nil {
		wb.log.Error("web: event not in the audit trail or the ledger", "kind", kind, "who", who, "err", err)
	}
}

// errNotOwner: a business account asked for a venue it does not own.
var errNotOwner = errors.New("not the venue's owner")

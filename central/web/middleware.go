package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/locale"
)

// ContentSecurityPolicy is the policy of every page: nothing but the
// site's own files, no inline script or style, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// LangCookie remembers the language chosen with ?lang=.
const LangCookie = "lang"

// state is what the middleware learned of a request: its language, its
// session and account (nil signed out).
type state struct {
	P       *locale.Printer
	Session *store.Session
	Account *store.Account
	csrf    string // the signed-out CSRF token, once made
}

type stateKey struct{}

// stateOf returns the request's state (an empty Korean one outside the
// middleware).
func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{P: locale.NewPrinter(locale.Default)}
}

// secure sets the security headers of every answer of the web.
func (wb *Web) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
		if wb.opts.TLS {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// chain wraps a route's handler with everything a page request passes:
// security headers, the body limit, the cross-origin check, the language,
// the session, the route's roles, the address rate limit and the CSRF
// check.
func (wb *Web) chain(rt Route) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &state{}
		st.P = locale.NewPrinter(wb.lang(w, r))
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		if !rt.Static {
			w.Header().Set("Cache-Control", "no-store")
			sess, acct, err := wb.loadSession(r)
			switch {
			case err == nil:
				st.Session, st.Account = &sess, &acct
			case errors.Is(err, errNoSession):
			default:
				wb.serverError(w, r, err)
				return
			}
		}
		if rt.Roles != nil {
			if st.Account == nil {
				wb.toSignIn(w, r)
				return
			}
			if !slices.Contains(rt.Roles, st.Account.Role) {
				wb.renderError(w, r, http.StatusForbidden, "error.forbidden")
				return
			}
		}
		if r.Method == http.MethodPost {
			if rt.Limited && !wb.limiter.allow(wb.opts.Clients.Key(r), wb.now()) {
				w.Header().Set("Retry-After", "60")
				wb.renderError(w, r, http.StatusTooManyRequests, "error.ratelimit")
				return
			}
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					wb.renderError(w, r, http.StatusRequestEntityTooLarge, "error.toolarge")
					return
				}
				wb.renderError(w, r, http.StatusBadRequest, "error.badrequest")
				return
			}
			if !checkCSRF(r, st) {
				wb.log.Warn("web: form without the right CSRF token", "path", r.URL.Path, "addr", wb.clientAddr(r))
				wb.renderError(w, r, http.StatusForbidden, "error.csrf")
				return
			}
		}
		rt.handler(wb, w, r)
	})
	h = http.MaxBytesHandler(h, wb.opts.MaxFormBytes)
	h = http.NewCrossOriginProtection().Handler(h)
	return wb.secure(h)
}

// lang returns the request's language: ?lang= (remembered in a cookie for
// a year), else the cookie, else Korean. Accept-Language is not read: the
// service speaks Korean first, and English is one click away.
func (wb *Web) lang(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); locale.Supported(q) {
		http.SetCookie(w, wb.cookie(LangCookie, q, 365*24*3600))
		return q
	}
	if c, err := r.Cookie(LangCookie); err == nil && locale.Supported(c.Value) {
		return c.Value
	}
	return locale.Default
}

// toSignIn answers a signed-out request for a page of some roles: a GET
// goes to the sign-in page, which brings it back after; anything else is
// 401.
func (wb *Web) toSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		wb.renderError(w, r, http.StatusUnauthorized, "error.signedout")
		return
	}
	http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// clientAddr is the request's client address, for the log.
func (wb *Web) clientAddr(r *http.Request) string { return wb.opts.Clients.Addr(r) }

// limiter is a token bucket per client address.
type limiter struct {
	burst int
	every time.Duration
	mu    sync.Mutex
	addrs map[string]*addrLimit
}

type addrLimit struct {
	lim  *rate.Limiter
	last time.Time
}

// maxAddrs bounds the addresses a limiter remembers; past it, those idle
// long enough to be full again are forgotten.
const maxAddrs = 10000

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: burst, every: every, addrs: make(map[string]*addrLimit)}
}

// allow reports whether addr may make one more request at now.
func (l *limiter) allow(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.addrs[addr]
	if a == nil {
		if len(l.addrs) >= maxAddrs {
			full := time.Duration(l.burst) * l.every
			for k, v := range l.addrs {
				if now.Sub(v.last) > full {
					delete(l.addrs, k)
				}
			}
		}
		a = &addrLimit{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.addrs[addr] = a
	}
	a.last = now
	return a.lim.AllowN(now, 1)
}

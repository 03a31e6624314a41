package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/anshim/anshim/central/store"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "anshim_session"

// touchEvery: a session's LastSeen is written at most this often, so that
// a page of many requests makes one write.
const touchEvery = time.Minute

// randomToken returns 32 random bytes in unpadded base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sessionHash is what the store keeps of a session id.
func sessionHash(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// startSession makes a session of acct, stores it and sets its cookie.
func (wb *Web) startSession(ctx context.Context, w http.ResponseWriter, acct string) error {
	id := randomToken()
	now := wb.now().UTC()
	s := store.Session{Hash: sessionHash(id), Account: acct, CSRF: randomToken(), Created: now, LastSeen: now}
	if err := wb.st.AddSession(ctx, s); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	if n, err := wb.st.DeleteExpiredSessions(ctx, now.Add(-wb.opts.SessionIdle), now.Add(-wb.opts.SessionMax)); err != nil {
		wb.log.Warn("web: expired sessions not deleted", "err", err)
	} else if n > 0 {
		wb.log.Info("web: expired sessions deleted", "sessions", n)
	}
	http.SetCookie(w, wb.cookie(SessionCookie, id, 0))
	return nil
}

// cookie returns a cookie of the web: HttpOnly, SameSite=Lax, Secure
// under TLS, for the whole site. maxAge 0 makes a cookie of the browser
// session, negative deletes it.
func (wb *Web) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: wb.opts.TLS, SameSite: http.SameSiteLaxMode}
}

// errNoSession: no session cookie, or one of no valid session.
var errNoSession = errors.New("no session")

// loadSession returns the session of the request's cookie and its
// account. A session past its idle or absolute limit is deleted and
// errNoSession returned, as for a disabled account's.
func (wb *Web) loadSession(r *http.Request) (store.Session, store.Account, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 64 {
		return store.Session{}, store.Account{}, errNoSession
	}
	ctx := r.Context()
	h := sessionHash(c.Value)
	s, err := wb.st.Session(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, store.Account{}, errNoSession
	} else if err != nil {
		return store.Session{}, store.Account{}, err
	}
	now := wb.now().UTC()
	if now.Sub(s.LastSeen) > wb.opts.SessionIdle || now.Sub(s.Created) > wb.opts.SessionMax {
		if err := wb.st.DeleteSession(ctx, h); err != nil {
			return store.Session{}, store.Account{}, err
		}
		return store.Session{}, store.Account{}, errNoSession
	}
	a, err := wb.st.Account(ctx, s.Account)
	if err != nil {
		return store.Session{}, store.Account{}, err
	}
	if !a.Disabled.IsZero() {
		return store.Session{}, store.Account{}, errNoSession
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if err := wb.st.TouchSession(ctx, h, now); err != nil {
			return store.Session{}, store.Account{}, err
		}
	}
	return s, a, nil
}

// endSession deletes the request's session and its cookie.
func (wb *Web) endSession(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, wb.cookie(SessionCookie, "", -1))
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	return wb.st.DeleteSession(r.Context(), sessionHash(c.Value))
}

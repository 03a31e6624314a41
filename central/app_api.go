package central

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anshim/anshim/central/appcheckin"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/notify"
	"github.com/anshim/anshim/pass"
)

// The visitor app's API (docs: the README's "Visitor app API"): phone
// verification by a one-time code, a device session, the app pass, its
// revocation, the person's own visits and inbox, and the deletion of
// their account. JSON over HTTP; the session is a bearer token, so these
// routes take no cookie and need no CSRF token. Errors are
// {"error": "<stable code>", "detail": "<English sentence>"}.
//
// Nothing here logs a phone number, a code, a name or a pseudonym.

// The visitor app's limits.
const (
	appCodeTTL       = 3 * time.Minute // a code is valid this long
	appCodeTries     = 5               // wrong codes before it is gone
	appResendAfter   = 30 * time.Second
	appSessionLife   = 400 * 24 * time.Hour // renewed on use
	appSessionTouch  = time.Hour            // how often use is written
	appMaxNameRunes  = 30
	appVisitsDays    = RetentionDays
	appMaxConsentLen = 32
)

// appLimit is one of the visitor app's rate limits, counted in the store
// (store.Apps.TakeAppLimit): every central on the store counts the same
// events, and a restart forgets none. The store sees a keyed hash of the
// limit's name and the number or address, never either.
type appLimit struct {
	name  string
	every time.Duration // one more event an every
	burst int           // events at once
}

// The visitor app's rate limits: a number gets 5 codes an hour and one
// per appResendAfter; a client address 20 codes an hour (a carrier NAT
// holds many phones) and 30 verifications at once, then one in 6 s.
var (
	limitCodesPerNumber = appLimit{"codes-per-number", 12 * time.Minute, 5}
	limitResend         = appLimit{"resend", appResendAfter, 1}
	limitCodesPerClient = appLimit{"codes-per-client", 3 * time.Minute, 20}
	limitVerifyClient   = appLimit{"verify-per-client", 6 * time.Second, 30}
)

// allow takes an event of value (a phone key, a client address) from each
// limit in turn and reports whether all of them allowed it; the first
// refusal stops.
func (h *appAPI) allow(ctx context.Context, value string, limits ...appLimit) (bool, error) {
	now := h.s.now()
	for _, l := range limits {
		m := hmac.New(sha256.New, subKey(h.key, "limit"))
		m.Write([]byte(l.name + "\x00" + value))
		ok, err := h.s.store.TakeAppLimit(ctx, [32]byte(m.Sum(nil)), now, l.every, l.burst)
		if err != nil {
			return false, fmt.Errorf("app rate limit %s: %w", l.name, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// AuditAppAccountDeleted is the kind of the audit event of a visitor who
// deleted their app account: its detail holds the SHA-256 of the person's
// id and how many passes were revoked, nothing else.
const AuditAppAccountDeleted = "app-account-deleted"

// AppDeletedDetail is the detail of an AuditAppAccountDeleted event.
type AppDeletedDetail struct {
	PersonSHA256  string `json:"person_sha256"`
	PassesRevoked int    `json:"passes_revoked"`
}

// Stable error codes of the app API.
const (
	appErrBadRequest     = "bad-request"
	appErrPhoneInvalid   = "phone-invalid"
	appErrConsent        = "consent-required"
	appErrRateLimited    = "rate-limited"
	appErrNameRequired   = "name-required"
	appErrNameInvalid    = "name-invalid"
	appErrCodeWrong      = "code-wrong"
	appErrCodeExpired    = "code-expired"
	appErrSessionInvalid = "session-invalid"
	appErrPassRevoked    = "pass-revoked"
	appErrUnavailable    = "unavailable"
	appErrInternal       = "internal"
)

// appError is an app API error answer.
type appError struct {
	Error     string `json:"error"`
	Detail    string `json:"detail"`
	TriesLeft *int   `json:"tries_left,omitempty"`
}

func appFail(status int, code, format string, args ...any) (any, int, error) {
	return appError{Error: code, Detail: fmt.Sprintf(format, args...)}, status, nil
}

// appAPI holds the visitor app's handlers.
type appAPI struct {
	s      *Server
	key    []byte // appKey
	sender notify.Sender
	err    error // why the app API cannot work (no vault, no key, no sender)
}

// appKey returns the visitor app's secret, derived from the province's
// key-encryption key, so that every central of the province has it (a code
// asked for at one central is checked at another) and nothing needs
// copying. It keys the hashes of phone numbers, codes and limits and the
// check-in receipts.
func (s *Server) appKey() ([]byte, error) {
	if s.keys == nil {
		return nil, errors.New("app key: no province keys")
	}
	m := hmac.New(sha256.New, s.keys.KEK()[:])
	m.Write([]byte("anshim-app-key-v1"))
	return m.Sum(nil), nil
}

// subKey derives a key for one use of the app key.
func subKey(key []byte, use string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("anshim-app-v1\x00" + use))
	return m.Sum(nil)
}

// appRoutes adds the visitor app's API to mux:
//
//	POST   /v1/app/codes        {"phone","consent","lang"} → 202 {"expires_in","resend_after"}
//	POST   /v1/app/sessions     {"phone","code","consent","name"} → 201 {"session","pass","initial","expires","renew_after","consent"}
//	GET    /v1/app/pass         (session) → {"pass","initial","expires","renew_after","consent"}
//	POST   /v1/app/pass/revoke  (session) → {"revoked"}
//	GET    /v1/app/visits       (session) → {"visits":[…]}
//	GET    /v1/app/inbox        (session) → {"notices":[…]}
//	DELETE /v1/app/account      (session) → 204
func (s *Server) appRoutes(mux *http.ServeMux) {
	h := &appAPI{s: s}
	h.key, h.err = s.appKey()
	if h.err == nil && s.vault == nil {
		h.err = fmt.Errorf("identity vault: %w", s.vaultErr)
	}
	if h.err == nil {
		mk, err := s.cfg.newNotifier(s.now)
		if err != nil {
			h.err = fmt.Errorf("notify: %w", err)
		} else {
			h.sender = mk(nil)
		}
	}
	mux.Handle("POST /v1/app/codes", s.api(h.wrap(h.sendCode)))
	mux.Handle("POST /v1/app/sessions", s.api(h.wrap(h.verify)))
	mux.Handle("GET /v1/app/pass", s.api(h.wrap(h.session(h.pass))))
	mux.Handle("POST /v1/app/pass/revoke", s.api(h.wrap(h.session(h.revoke))))
	mux.Handle("GET /v1/app/visits", s.api(h.wrap(h.session(h.visits))))
	mux.Handle("GET /v1/app/inbox", s.api(h.wrap(h.session(h.inbox))))
	mux.Handle("DELETE /v1/app/account", s.api(h.wrap(h.session(h.deleteAccount))))
}

// wrap answers the errors of f in the app API's shape.
func (h *appAPI) wrap(f apiFunc) apiFunc {
	return func(r *http.Request) (any, int, error) {
		if h.err != nil {
			h.s.log.Error("visitor app API unavailable", "err", h.err)
			return appFail(http.StatusServiceUnavailable, appErrUnavailable, "the visitor app is not available on this central (see its log)")
		}
		v, code, err := f(r)
		if err == nil {
			return v, code, nil
		}
		status := statusOf(err)
		switch {
		case status < 500:
			return appFail(status, appErrBadRequest, "%v", err)
		case status == http.StatusServiceUnavailable:
			h.s.log.Warn("visitor app request failed", "path", r.URL.Path, "err", err)
			return appFail(status, appErrUnavailable, "the central cannot answer now: try again in a minute")
		}
		h.s.metrics.httpErrors.Add(1)
		h.s.log.Error("visitor app request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return appFail(http.StatusInternalServerError, appErrInternal, "internal error (see the central's log)")
	}
}

// phoneKey is the keyed hash of a normalised number.
func (h *appAPI) phoneKey(e164 string) [32]byte {
	m := hmac.New(sha256.New, subKey(h.key, "phone"))
	m.Write([]byte(e164))
	return [32]byte(m.Sum(nil))
}

// codeHash is the keyed hash of a number's code.
func (h *appAPI) codeHash(phone [32]byte, code string) [32]byte {
	m := hmac.New(sha256.New, subKey(h.key, "code"))
	m.Write(phone[:])
	m.Write([]byte(code))
	return [32]byte(m.Sum(nil))
}

// newCode returns 6 random decimal digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// CodeMessage returns the text message of a verification code: Korean,
// with the English fallback.
func CodeMessage(to, code string) notify.Message {
	return notify.Message{
		To:       to,
		Text:     "[안심] 인증번호 " + code + " (3분 안에 입력하세요)",
		Fallback: "[Anshim] Your code is " + code + " (enter it within 3 minutes)",
		Ref:      "app-code",
	}
}

// checkConsent checks a consent version: printable ASCII, short.
func checkConsent(c string) bool {
	if c == "" || len(c) > appMaxConsentLen {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 0x21 || c[i] > 0x7e {
			return false
		}
	}
	return true
}

func (h *appAPI) sendCode(r *http.Request) (any, int, error) {
	var req struct {
		Phone   string `json:"phone"`
		Consent string `json:"consent"`
		Lang    string `json:"lang"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	e164, err := vault.NormalizePhone(req.Phone)
	if err != nil {
		return appFail(http.StatusBadRequest, appErrPhoneInvalid, "phone: %v", err)
	}
	if !checkConsent(req.Consent) {
		return appFail(http.StatusBadRequest, appErrConsent, "consent: accept the consent text first and send its version")
	}
	switch req.Lang {
	case "":
		req.Lang = "ko"
	case "ko", "en":
	default:
		return appFail(http.StatusBadRequest, appErrBadRequest, "lang: want ko or en")
	}
	phone := h.phoneKey(e164)
	pk := string(phone[:])
	ok, err := h.allow(r.Context(), "addr:"+h.s.clients.Key(r), limitCodesPerClient)
	if err == nil && ok {
		ok, err = h.allow(r.Context(), "phone:"+pk, limitResend, limitCodesPerNumber)
	}
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return appFail(http.StatusTooManyRequests, appErrRateLimited, "too many codes asked for: wait a while and try again")
	}
	code, err := newCode()
	if err != nil {
		return nil, 0, fmt.Errorf("app code: %w", err)
	}
	now := h.s.now().UTC()
	c := store.AppCode{Phone: phone, Hash: h.codeHash(phone, code), Consent: req.Consent, Lang: req.Lang, Sent: now, Expires: now.Add(appCodeTTL)}
	if err := h.s.store.PutAppCode(r.Context(), c); err != nil {
		return nil, 0, err
	}
	if _, err := h.sender.Send(r.Context(), CodeMessage(e164, code)); err != nil {
		h.s.log.Warn("app code not sent", "err", err)
		return appFail(http.StatusServiceUnavailable, appErrUnavailable, "the code could not be sent: try again in a minute")
	}
	h.s.log.Info("app code sent")
	return map[string]any{"expires_in": int(appCodeTTL.Seconds()), "resend_after": int(appResendAfter.Seconds())}, http.StatusAccepted, nil
}

// appPassInfo is the answer of the pass routes.
type appPassInfo struct {
	Session    string    `json:"session,omitempty"`
	Pass       string    `json:"pass"`
	Initial    string    `json:"initial"`
	Expires    time.Time `json:"expires"`
	RenewAfter time.Time `json:"renew_after"`
	Consent    string    `json:"consent"`
}

// passInfo signs the account's current pass.
func (h *appAPI) passInfo(ctx context.Context, a store.AppAccount, now time.Time) (appPassInfo, error) {
	iss, err := h.s.vault.AppPass(ctx, a.Person, a.Serial, a.PassIssued, now)
	if err != nil {
		return appPassInfo{}, err
	}
	initial, err := h.s.vault.Initial(ctx, a.Person)
	if err != nil {
		return appPassInfo{}, err
	}
	issued := a.PassIssued.UTC().Truncate(time.Second)
	return appPassInfo{Pass: iss.Text, Initial: initial, Expires: iss.Expires,
		RenewAfter: issued.Add(iss.Expires.Sub(issued) * 2 / 3), Consent: a.Consent}, nil
}

func (h *appAPI) verify(r *http.Request) (any, int, error) {
	var req struct {
		Phone   string `json:"phone"`
		Code    string `json:"code"`
		Consent string `json:"consent"`
		Name    string `json:"name"`
	}
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	if ok, err := h.allow(r.Context(), "addr:"+h.s.clients.Key(r), limitVerifyClient); err != nil {
		return nil, 0, err
	} else if !ok {
		return appFail(http.StatusTooManyRequests, appErrRateLimited, "too many tries: wait a while and try again")
	}
	e164, err := vault.NormalizePhone(req.Phone)
	if err != nil {
		return appFail(http.StatusBadRequest, appErrPhoneInvalid, "phone: %v", err)
	}
	if req.Consent != "" && !checkConsent(req.Consent) {
		return appFail(http.StatusBadRequest, appErrConsent, "consent: want the consent text's version")
	}
	name := strings.TrimSpace(req.Name)
	if n := utf8.RuneCountInString(name); req.Name != "" && (n < 1 || n > appMaxNameRunes) {
		return appFail(http.StatusBadRequest, appErrNameInvalid, "name: want 1 to %d characters", appMaxNameRunes)
	}
	ctx, now := r.Context(), h.s.now().UTC()
	person, err := h.s.vault.Lookup(ctx, e164)
	registered := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, 0, err
	}
	if !registered && name != "" {
		if err := vault.CheckName(name); err != nil { // before the code is used
			return appFail(http.StatusBadRequest, appErrNameInvalid, "%v", err)
		}
	}
	// A number not registered yet needs a name: the code is checked but
	// not used, so that the app asks for the name and sends it again.
	phone := h.phoneKey(e164)
	consume := registered || name != ""
	code, err := h.s.store.TryAppCode(ctx, phone, h.codeHash(phone, strings.TrimSpace(req.Code)), now, appCodeTries, consume)
	var wrong *store.CodeWrongError
	switch {
	case errors.As(err, &wrong):
		left := wrong.Left
		return appError{Error: appErrCodeWrong, Detail: fmt.Sprintf("the code is wrong: %d tries left", left), TriesLeft: &left}, http.StatusUnauthorized, nil
	case errors.Is(err, store.ErrCodeExpired):
		return appFail(http.StatusGone, appErrCodeExpired, "the code expired, was used or was tried too often: ask for a new one")
	case err != nil:
		return nil, 0, err
	case !consume:
		return appFail(http.StatusConflict, appErrNameRequired, "this number is not registered yet: send the visitor's name with the code")
	}
	consent := cmpOr(req.Consent, code.Consent)
	if consent == "" {
		return appFail(http.StatusBadRequest, appErrConsent, "consent: accept the consent text first and send its version")
	}
	if !registered {
		if person, err = h.s.vault.Register(ctx, name, e164); errors.Is(err, store.ErrExists) {
			person, err = h.s.vault.Lookup(ctx, e164) // registered meanwhile
		}
		if errors.Is(err, vault.ErrInvalid) {
			return appFail(http.StatusBadRequest, appErrNameInvalid, "%v", err)
		}
		if err != nil {
			return nil, 0, err
		}
		h.s.log.Info("person registered by the visitor app")
	}
	// The person's earlier app pass (another phone, a lost one) is
	// revoked and their other sessions end.
	acct, err := h.s.store.AppAccount(ctx, person.ID)
	if errors.Is(err, store.ErrNotFound) {
		acct, err = store.AppAccount{Person: person.ID, Created: now}, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if acct.Serial > 0 {
		if err := h.s.Revoke(ctx, vault.AppRevocationID(person.Pseudonym, acct.Serial)); err != nil {
			return nil, 0, fmt.Errorf("revoke the earlier app pass: %w", err)
		}
	}
	if _, err := h.s.store.EndAppSessions(ctx, person.ID, [32]byte{}); err != nil {
		return nil, 0, err
	}
	acct.Serial++
	acct.PassIssued, acct.Revoked = now.Truncate(time.Second), false
	acct.Consent, acct.ConsentAt = consent, now
	if err := h.s.store.PutAppAccount(ctx, acct); err != nil {
		return nil, 0, err
	}
	var tok [32]byte
	rand.Read(tok[:])
	token := base64.RawURLEncoding.EncodeToString(tok[:])
	if err := h.s.store.AddAppSession(ctx, store.AppSession{Hash: sha256.Sum256([]byte(token)), Person: person.ID,
		Created: now, LastUsed: now, Expires: now.Add(appSessionLife)}); err != nil {
		return nil, 0, err
	}
	info, err := h.passInfo(ctx, acct, now)
	if err != nil {
		return nil, 0, err
	}
	info.Session = token
	h.s.log.Info("visitor app verified", "pass_serial", acct.Serial)
	return info, http.StatusCreated, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// appSession is a request's valid session and its person.
type appSession struct {
	store.AppSession
	person vault.Person
}

// session wraps f with the check of the bearer session, renewing it.
func (h *appAPI) session(f func(r *http.Request, as appSession) (any, int, error)) apiFunc {
	return func(r *http.Request) (any, int, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			return appFail(http.StatusUnauthorized, appErrSessionInvalid, "no session: verify your phone number")
		}
		ctx, now := r.Context(), h.s.now().UTC()
		as, err := h.s.store.AppSession(ctx, sha256.Sum256([]byte(strings.TrimSpace(tok))), now)
		if errors.Is(err, store.ErrNotFound) {
			return appFail(http.StatusUnauthorized, appErrSessionInvalid, "the session ended or is unknown: verify your phone number again")
		}
		if err != nil {
			return nil, 0, err
		}
		p, err := h.s.vault.Person(ctx, as.Person)
		if errors.Is(err, store.ErrNotFound) { // destroyed: unused for 8 weeks
			return appFail(http.StatusUnauthorized, appErrSessionInvalid, "the account is gone: verify your phone number again")
		}
		if err != nil {
			return nil, 0, err
		}
		if now.Sub(as.LastUsed) >= appSessionTouch {
			if err := h.s.store.TouchAppSession(ctx, as.Hash, now, now.Add(appSessionLife)); err != nil {
				return nil, 0, err
			}
			as.LastUsed, as.Expires = now, now.Add(appSessionLife)
		}
		return f(r, appSession{AppSession: as, person: p})
	}
}

func (h *appAPI) pass(r *http.Request, as appSession) (any, int, error) {
	ctx, now := r.Context(), h.s.now().UTC()
	acct, err := h.s.store.AppAccount(ctx, as.Person)
	if err != nil {
		return nil, 0, err
	}
	if acct.Revoked || acct.Serial == 0 {
		return appFail(http.StatusGone, appErrPassRevoked, "the pass was revoked: verify your phone number again for a new one")
	}
	info, err := h.passInfo(ctx, acct, now)
	if err != nil {
		return nil, 0, err
	}
	if !now.Before(info.RenewAfter) {
		acct.PassIssued = now.Truncate(time.Second)
		if err := h.s.store.PutAppAccount(ctx, acct); err != nil {
			return nil, 0, err
		}
		if info, err = h.passInfo(ctx, acct, now); err != nil {
			return nil, 0, err
		}
		h.s.log.Info("app pass renewed", "pass_serial", acct.Serial)
	}
	return info, 0, nil
}

func (h *appAPI) revoke(r *http.Request, as appSession) (any, int, error) {
	var req struct{}
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	ctx := r.Context()
	acct, err := h.s.store.AppAccount(ctx, as.Person)
	if err != nil {
		return nil, 0, err
	}
	n := 0
	if acct.Serial > 0 {
		// Published again when revoked before, in case that failed.
		if err := h.s.Revoke(ctx, vault.AppRevocationID(as.person.Pseudonym, acct.Serial)); err != nil {
			return nil, 0, err
		}
		if !acct.Revoked {
			n = 1
		}
		acct.Revoked = true
		if err := h.s.store.PutAppAccount(ctx, acct); err != nil {
			return nil, 0, err
		}
	}
	h.s.log.Info("app pass revoked by its holder", "pass_serial", acct.Serial)
	return map[string]any{"revoked": n}, 0, nil
}

// AppVisit is one of the person's own check-ins in the app's list.
type AppVisit struct {
	Time      time.Time  `json:"time"`
	ExitTime  *time.Time `json:"exit_time"`
	Venue     string     `json:"venue"`
	VenueName string     `json:"venue_name"`
	Address   string     `json:"address"`
	Category  string     `json:"category"`
	// How is "app-display", "app-poster", "kiosk" (the app's pass shown
	// at a kiosk), "card" (a card at a kiosk) or "exit" (an exit without
	// its entry).
	How   string   `json:"how"`
	Flags []string `json:"flags"`
}

// flagWords names a check-in's flags.
func flagWords(f uint32) []string {
	out := []string{}
	for _, w := range []struct {
		bit  uint32
		word string
	}{
		{store.FlagSuspect, appcheckin.FlagSuspect},
		{store.FlagImpossibleTravel, appcheckin.FlagImpossibleTravel},
		{store.FlagLateOffline, appcheckin.FlagLateOffline},
		{store.FlagAfterBreak, "after-break"},
		{store.FlagUncorrected, "clock-uncorrected"},
	} {
		if f&w.bit != 0 {
			out = append(out, w.word)
		}
	}
	return out
}

// Visits returns the person's own check-ins of the last 28 days, newest
// first: read by their day tags (store.Tracing's CheckInsByTag, as a
// trace reads a case's stays), an exit paired with the entry before it
// at the venue within a day.
func (s *Server) Visits(ctx context.Context, pseudonym [16]byte, now time.Time) ([]AppVisit, error) {
	today := daykeys.DayOf(now)
	var rs []store.CheckIn
	for d := today - appVisitsDays + 1; d <= today; d++ {
		tag, err := s.dayKeys.Tag(d, pseudonym)
		if errors.Is(err, daykeys.ErrDestroyed) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("visits: %w", err)
		}
		got, err := s.store.CheckInsByTag(ctx, d.Start(), tag)
		if err != nil {
			return nil, fmt.Errorf("visits: %w", err)
		}
		rs = append(rs, got...)
	}
	slices.SortStableFunc(rs, func(a, b store.CheckIn) int { return a.Time.Compare(b.Time) })
	venues := map[string]store.Venue{}
	venueOf := func(id string) store.Venue {
		v, ok := venues[id]
		if !ok {
			v, _ = s.store.Venue(ctx, id)
			v.ID = id
			venues[id] = v
		}
		return v
	}
	paired := make([]bool, len(rs))
	var out []AppVisit
	for i, c := range rs {
		if paired[i] {
			continue
		}
		v := venueOf(c.Venue)
		visit := AppVisit{Time: c.Time, Venue: c.Venue, VenueName: v.Name, Address: v.Address, Category: string(v.Category),
			How: s.how(ctx, c), Flags: flagWords(c.Flags)}
		if c.Kind == checkin.Entry {
			for j := i + 1; j < len(rs) && rs[j].Time.Sub(c.Time) < 24*time.Hour; j++ {
				if rs[j].Venue != c.Venue {
					continue
				}
				if rs[j].Kind == checkin.Exit {
					t := rs[j].Time
					visit.ExitTime, paired[j] = &t, true
					for _, f := range flagWords(rs[j].Flags) {
						if !slices.Contains(visit.Flags, f) {
							visit.Flags = append(visit.Flags, f)
						}
					}
				}
				break
			}
		} else {
			visit.How = appcheckin.HowExit
		}
		out = append(out, visit)
	}
	slices.Reverse(out)
	if out == nil {
		out = []AppVisit{}
	}
	return out, nil
}

// how says how a check-in was made: an app check-in's receipt, or the
// pass kind sealed in a kiosk's record (the person's own).
func (s *Server) how(ctx context.Context, c store.CheckIn) string {
	if c.Device == appcheckin.AppDevice(c.Venue) {
		if r, err := s.store.AppReceiptAt(ctx, c.Device, c.Seq); err == nil {
			return r.How
		}
		return appcheckin.HowDisplay
	}
	plain, err := s.dayKeys.Open(daykeys.DayOf(c.Time), c.Sealed, daykeys.AD(c.Device, c.Seq))
	if err != nil {
		return "kiosk"
	}
	p, err := checkin.ParsePersonal(plain)
	clear(plain)
	if err == nil && p.PassKind == uint8(pass.KindCard) {
		return "card"
	}
	return "kiosk"
}

func (h *appAPI) visits(r *http.Request, as appSession) (any, int, error) {
	vs, err := h.s.Visits(r.Context(), as.person.Pseudonym, h.s.now())
	if err != nil {
		return nil, 0, err
	}
	return map[string]any{"visits": vs}, 0, nil
}

func (h *appAPI) inbox(r *http.Request, as appSession) (any, int, error) {
	ns, err := h.s.store.AppNotices(r.Context(), as.Person)
	if err != nil {
		return nil, 0, err
	}
	if ns == nil {
		ns = []store.AppNotice{}
	}
	return map[string]any{"notices": ns}, 0, nil
}

func (h *appAPI) deleteAccount(r *http.Request, as appSession) (any, int, error) {
	ctx, now := r.Context(), h.s.now().UTC()
	revoked := 0
	acct, err := h.s.store.AppAccount(ctx, as.Person)
	switch {
	case err == nil && acct.Serial > 0:
		if err := h.s.Revoke(ctx, vault.AppRevocationID(as.person.Pseudonym, acct.Serial)); err != nil {
			return nil, 0, fmt.Errorf("delete account: revoke the app pass: %w", err)
		}
		revoked = 1
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, 0, err
	}
	// The person's card passes go too.
	for _, c := range as.person.Cards {
		if c.Revoked {
			continue
		}
		p := pass.Pass{Pseudonym: as.person.Pseudonym, Kind: pass.KindCard, Serial: c.Serial}
		if err := h.s.Revoke(ctx, p.RevocationID()); err != nil {
			return nil, 0, fmt.Errorf("delete account: revoke card %d: %w", c.Serial, err)
		}
		revoked++
	}
	sum := sha256.Sum256([]byte(as.Person))
	detail, _ := json.Marshal(AppDeletedDetail{PersonSHA256: hex.EncodeToString(sum[:]), PassesRevoked: revoked})
	if _, err := h.s.store.AddAudit(ctx, store.AuditEvent{Time: now, Kind: AuditAppAccountDeleted, Detail: string(detail)}); err != nil {
		return nil, 0, fmt.Errorf("delete account: audit: %w", err)
	}
	if err := h.s.store.DeleteAppPerson(ctx, as.Person, now); err != nil {
		return nil, 0, err
	}
	h.s.log.Info("visitor deleted their app account: identity destroyed", "passes_revoked", revoked)
	return nil, http.StatusNoContent, nil
}

// appInbox puts an exposure notice sent to a person into their app inbox
// when they have an app account.
func (s *Server) appInbox(ctx context.Context, person, id, venue string, exposed time.Time, m notify.Message) error {
	if _, err := s.store.AppAccount(ctx, person); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("app inbox: %w", err)
	}
	n := store.AppNotice{ID: id, Person: person, Sent: s.now().UTC(), Day: exposed.In(daykeys.KST).Format("2006-01-02"),
		VenueName: venue, Text: m.Text, TextEn: m.Fallback}
	if err := s.store.AddAppNotice(ctx, n); err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("app inbox: %w", err)
	}
	return nil
}

package central

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/notify"
)

// The follow-up of a case's contacts and their notification (issue 13,
// items 4 and 5). Nothing here logs a phone number, a name or a message's
// text; a message names a venue and a day, never the case or another
// contact.

// Audit event kinds of the follow-up. Who names the account, CaseRef the
// case; the detail holds the notification or the move, never a person.
const (
	AuditContactNotified = "contact-notified"
	AuditFollowUpStatus  = "followup-status"
)

// FollowUpInfo is a follow-up as the API answers it.
type FollowUpInfo struct {
	store.FollowUp
	Pseudonym string `json:"pseudonym"` // 32 hex digits
}

// NotificationInfo is a notification as the API answers it.
type NotificationInfo struct {
	store.Notification
	Pseudonym string `json:"pseudonym"`
}

// AddContactRequest is the body of POST /v1/cases/{case}/contacts.
type AddContactRequest struct {
	Pseudonym string    `json:"pseudonym"` // 32 hex digits
	Venue     string    `json:"venue"`
	Exposed   time.Time `json:"exposed"`
	Degree    int       `json:"degree,omitempty"`
}

// StatusRequest is the body of POST /v1/cases/{case}/contacts/{pseudonym}/status.
type StatusRequest struct {
	Status followup.Status `json:"status"`
	// NewCase is the case a positive contact becomes (required then).
	NewCase string `json:"new_case,omitempty"`
}

// NotifyRequest is the body of POST /v1/cases/{case}/notify: the contacts
// to notify (to-notify or notified), every to-notify contact of the case
// when empty.
type NotifyRequest struct {
	Pseudonyms []string `json:"pseudonyms,omitempty"`
}

// followUpAPI holds the follow-up routes' token and sender.
type followUpAPI struct {
	s        *Server
	token    string // DATA/investigator.token
	sender   func(onAttempt func(notify.Attempt)) notify.Sender
	senderMu sync.Mutex
	err      error // why there is no sender
}

// followUpRoutes adds the follow-up routes to mux, for investigators and
// admins (DATA/investigator.token, DATA/admin.token or a named API
// token):
//
//	POST /v1/cases/{case}/contacts                     AddContactRequest → FollowUpInfo (201)
//	POST /v1/cases/{case}/contacts/{pseudonym}/status  StatusRequest → FollowUpInfo
//	POST /v1/cases/{case}/notify                       NotifyRequest → [NotificationInfo]
//	GET  /v1/followups                                 → [FollowUpInfo] of the account
//
// A move the follow-up does not allow is answered 409. Every move and
// every notification is an audit event naming the account.
func (s *Server) followUpRoutes(mux *http.ServeMux) {
	h := &followUpAPI{s: s}
	tok, _, err := loadOrCreateSecret(filepath.Join(s.cfg.DataOrDefault(), InvestigatorTokenFile), newAdminToken)
	if err != nil {
		s.log.Error("follow-up unavailable", "err", err)
	}
	h.token = strings.TrimSpace(string(tok))
	if h.sender, h.err = s.cfg.newNotifier(s.now); h.err != nil {
		s.log.Error("notifications unavailable", "err", h.err)
	}
	mux.Handle("POST /v1/cases/{case}/contacts", s.api(h.auth(h.addContact)))
	mux.Handle("POST /v1/cases/{case}/contacts/{pseudonym}/status", s.api(h.auth(h.status)))
	mux.Handle("POST /v1/cases/{case}/notify", s.api(h.auth(h.notify)))
	mux.Handle("GET /v1/followups", s.api(h.auth(h.list)))
}

// auth accepts an investigator's or an admin's token.
func (h *followUpAPI) auth(f func(r *http.Request, who string) (any, int, error)) apiFunc {
	return h.s.investigatorAuth(h.token, "follow contacts up", f)
}

// conflict answers a refused move with 409 and its reason.
func conflict(err error) (any, int, error) {
	var te *followup.TransitionError
	if errors.As(err, &te) || errors.Is(err, store.ErrInvalidFollowUp) {
		return map[string]string{"error": err.Error()}, http.StatusConflict, nil
	}
	return nil, 0, err
}

func parsePseudonym(s string) ([16]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return [16]byte{}, fmt.Errorf("%w: pseudonym: want 32 hex digits", ErrInvalid)
	}
	return [16]byte(b), nil
}

func followUpInfo(f store.FollowUp) FollowUpInfo {
	return FollowUpInfo{FollowUp: f, Pseudonym: hex.EncodeToString(f.Pseudonym[:])}
}

func (h *followUpAPI) addContact(r *http.Request, who string) (any, int, error) {
	var req AddContactRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	f, err := h.s.AddFollowUp(r.Context(), r.PathValue("case"), req, who)
	if err != nil {
		return nil, 0, err
	}
	return followUpInfo(f), http.StatusCreated, nil
}

func (h *followUpAPI) status(r *http.Request, who string) (any, int, error) {
	var req StatusRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	p, err := parsePseudonym(r.PathValue("pseudonym"))
	if err != nil {
		return nil, 0, err
	}
	f, err := h.s.SetContactStatus(r.Context(), r.PathValue("case"), p, req, who)
	if err != nil {
		return conflict(err)
	}
	return followUpInfo(f), 0, nil
}

func (h *followUpAPI) notify(r *http.Request, who string) (any, int, error) {
	var req NotifyRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return nil, 0, err
	}
	if h.sender == nil {
		return nil, 0, fmt.Errorf("notifications unavailable: %w", h.err)
	}
	var ps [][16]byte
	for _, s := range req.Pseudonyms {
		p, err := parsePseudonym(s)
		if err != nil {
			return nil, 0, err
		}
		ps = append(ps, p)
	}
	ns, err := h.s.NotifyContacts(r.Context(), h.sender, r.PathValue("case"), ps, who)
	if err != nil {
		return conflict(err)
	}
	out := make([]NotificationInfo, len(ns))
	for i, n := range ns {
		out[i] = NotificationInfo{Notification: n, Pseudonym: hex.EncodeToString(n.Pseudonym[:])}
	}
	return out, 0, nil
}

func (h *followUpAPI) list(r *http.Request, who string) (any, int, error) {
	fs, err := h.s.store.FollowUpsOf(r.Context(), who)
	if err != nil {
		return nil, 0, err
	}
	out := make([]FollowUpInfo, len(fs))
	for i, f := range fs {
		out[i] = followUpInfo(f)
	}
	return out, 0, nil
}

// checkCase checks a case reference of the follow-up.
func checkCase(c string) (string, error) {
	return checkTraceText("case", c, MinCaseRefAlnum, MaxCaseRefBytes)
}

// AddFollowUp puts a contact of the case under the follow-up of the
// account who, status to-notify.
func (s *Server) AddFollowUp(ctx context.Context, caseRef string, req AddContactRequest, who string) (store.FollowUp, error) {
	caseRef, err := checkCase(caseRef)
	if err != nil {
		return store.FollowUp{}, err
	}
	p, err := parsePseudonym(req.Pseudonym)
	if err != nil {
		return store.FollowUp{}, err
	}
	if req.Venue == "" || req.Exposed.IsZero() {
		return store.FollowUp{}, fmt.Errorf("%w: venue and exposed: both required (the message names them)", ErrInvalid)
	}
	if _, err := s.store.Venue(ctx, req.Venue); err != nil {
		return store.FollowUp{}, fmt.Errorf("follow-up: venue %s: %w", req.Venue, err)
	}
	return s.store.AddFollowUp(ctx, store.FollowUp{Case: caseRef, Pseudonym: p, Investigator: who,
		Venue: req.Venue, Exposed: req.Exposed.UTC(), Degree: req.Degree, Created: s.now().UTC()})
}

// FollowUpStatusDetail is the detail of an AuditFollowUpStatus event.
type FollowUpStatusDetail struct {
	CaseRefSHA256 string          `json:"case_ref_sha256"`
	From          followup.Status `json:"from"`
	To            followup.Status `json:"to"`
	NewCase       string          `json:"new_case,omitempty"`
}

// SetContactStatus moves a contact's follow-up, made by the account who:
// the move and an audit event naming who. A contact who turns positive
// needs req.NewCase, the new case linked to this one.
func (s *Server) SetContactStatus(ctx context.Context, caseRef string, p [16]byte, req StatusRequest, who string) (store.FollowUp, error) {
	if who == "" {
		return store.FollowUp{}, errors.New("follow-up: no account to name in the audit trail")
	}
	if req.NewCase != "" {
		var err error
		if req.NewCase, err = checkCase(req.NewCase); err != nil {
			return store.FollowUp{}, fmt.Errorf("%w (new_case)", err)
		}
	}
	f, err := s.store.SetFollowUpStatus(ctx, caseRef, p, req.Status, who, req.NewCase, s.now().UTC())
	if err != nil {
		return store.FollowUp{}, err
	}
	last := f.History[len(f.History)-1]
	detail, _ := json.Marshal(FollowUpStatusDetail{CaseRefSHA256: sha256Hex(caseRef), From: last.From, To: last.To, NewCase: f.NewCase})
	if _, err := s.store.AddAudit(ctx, store.AuditEvent{Time: last.At, Kind: AuditFollowUpStatus, Who: who,
		Detail: string(detail), CaseRef: caseRef}); err != nil {
		return store.FollowUp{}, fmt.Errorf("follow-up: audit: %w", err)
	}
	return f, nil
}

// NotifyDetail is the detail of an AuditContactNotified event.
type NotifyDetail struct {
	Notification  string `json:"notification"`
	CaseRefSHA256 string `json:"case_ref_sha256"`
	Venue         string `json:"venue"`
}

// NotifyContacts sends the exposure message to contacts of the case: ps,
// or every to-notify contact when ps is empty. For each: an audit event
// naming who (before the phone number is read; no event, no message), a
// store.Notification with every attempt and its final state, and the
// move to notified once sent. A contact whose identity is gone is
// recorded failed. It returns the notifications in the order sent.
func (s *Server) NotifyContacts(ctx context.Context, sender func(func(notify.Attempt)) notify.Sender, caseRef string, ps [][16]byte, who string) ([]store.Notification, error) {
	if who == "" {
		return nil, errors.New("notify: no account to name in the audit trail")
	}
	if s.vault == nil {
		return nil, s.vaultErr
	}
	var fs []store.FollowUp
	if len(ps) == 0 {
		all, err := s.store.CaseFollowUps(ctx, caseRef)
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		for _, f := range all {
			if f.Status == followup.ToNotify {
				fs = append(fs, f)
			}
		}
	}
	for _, p := range ps {
		f, err := s.store.FollowUp(ctx, caseRef, p)
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		if f.Status != followup.ToNotify && f.Status != followup.Notified {
			return nil, &followup.TransitionError{From: f.Status, To: followup.Notified}
		}
		fs = append(fs, f)
	}
	var out []store.Notification
	for _, f := range fs {
		n, err := s.notifyOne(ctx, sender, f, who)
		if err != nil {
			return out, err
		}
		out = append(out, n)
	}
	return out, nil
}

// notifyOne notifies one contact; an error means the notification could
// not be recorded (a failed send is a notification in state failed).
func (s *Server) notifyOne(ctx context.Context, sender func(func(notify.Attempt)) notify.Sender, f store.FollowUp, who string) (store.Notification, error) {
	var id [8]byte
	rand.Read(id[:])
	now := s.now().UTC()
	n := store.Notification{ID: "n-" + hex.EncodeToString(id[:]), Case: f.Case, Pseudonym: f.Pseudonym, Who: who,
		State: store.NotificationPending, Created: now, Updated: now}
	detail, _ := json.Marshal(NotifyDetail{Notification: n.ID, CaseRefSHA256: sha256Hex(f.Case), Venue: f.Venue})
	if _, err := s.store.AddAudit(ctx, store.AuditEvent{Time: now, Kind: AuditContactNotified, Who: who,
		Detail: string(detail), CaseRef: f.Case}); err != nil {
		return n, fmt.Errorf("notify: audit: %w", err)
	}
	if err := s.store.PutNotification(ctx, n); err != nil {
		return n, fmt.Errorf("notify: %w", err)
	}
	fail := func(why string) (store.Notification, error) {
		n.State, n.Error, n.Updated = store.NotificationFailed, why, s.now().UTC()
		if err := s.store.PutNotification(ctx, n); err != nil {
			return n, fmt.Errorf("notify: %w", err)
		}
		s.log.Warn("notification failed", "notification", n.ID, "who", who, "err", why)
		return n, nil
	}
	person, err := s.store.PersonByPseudonym(ctx, f.Pseudonym)
	if errors.Is(err, store.ErrNotFound) {
		return fail("no identity in the vault (destroyed)")
	}
	if err != nil {
		return n, fmt.Errorf("notify: %w", err)
	}
	_, phone, err := s.vault.Reveal(ctx, person.ID)
	if errors.Is(err, store.ErrNotFound) {
		return fail("no identity in the vault (destroyed)")
	}
	if err != nil {
		return n, fmt.Errorf("notify: %w", err)
	}
	venue := f.Venue
	if v, err := s.store.Venue(ctx, f.Venue); err == nil && v.Name != "" {
		venue = v.Name
	}
	msg, err := notify.Exposure(phone, venue, f.Exposed, n.ID)
	if err != nil {
		return n, err
	}
	// A person with an app account finds the notice in the app's inbox
	// too (app_api.go).
	if err := s.appInbox(ctx, person.ID, n.ID, venue, f.Exposed, msg); err != nil {
		s.log.Warn("notice not put in the app inbox", "notification", n.ID, "err", err)
	}
	var mu sync.Mutex
	var putErr error
	r, err := sender(func(a notify.Attempt) { // every attempt recorded as it happens
		mu.Lock()
		defer mu.Unlock()
		n.Attempts = append(n.Attempts, a)
		n.Updated = a.At
		if e := s.store.PutNotification(ctx, n); e != nil && putErr == nil {
			putErr = e
		}
	}).Send(ctx, msg)
	if putErr != nil {
		s.log.Error("notification attempt not recorded", "notification", n.ID, "err", putErr)
	}
	if err != nil {
		return fail(err.Error())
	}
	n.State, n.Receipt, n.Updated = store.NotificationSent, r.ID, s.now().UTC()
	if err := s.store.PutNotification(ctx, n); err != nil {
		return n, fmt.Errorf("notify: %w", err)
	}
	if f.Status == followup.ToNotify {
		if _, err := s.SetContactStatus(ctx, f.Case, f.Pseudonym, StatusRequest{Status: followup.Notified}, who); err != nil {
			return n, fmt.Errorf("notify: %w", err)
		}
	}
	s.log.Info("contact notified", "notification", n.ID, "who", who, "attempts", len(n.Attempts))
	return n, nil
}

package central

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/trace"
	"github.com/anshim/anshim/central/vault"
)

// Contact tracing for investigators: DESIGN.md §8, engine in
// central/trace. Nothing here logs a pseudonym, a name or a phone number.

// InvestigatorTokenFile, in the data directory, holds the bearer token of
// the tracing routes, mode 0600, made at the first start like the admin
// token. The admin token is accepted there too.
const InvestigatorTokenFile = "investigator.token"

// Bounds of the traces kept for GET /v1/traces/{id}.
const (
	traceKeep    = 24 * time.Hour
	traceKeepMax = 256
)

// traceRoutes adds the tracing routes to mux:
//
//	POST /v1/traces       TraceRequest → TraceResponse (201)
//	GET  /v1/traces/{id}  → TraceResponse, without identities
//
// Both want "Authorization: Bearer TOKEN" with DATA/investigator.token or
// DATA/admin.token. A trace names its contacts by references ("C1", …);
// names and phone numbers only with "reveal": true, a "reason" and a
// "case_ref", in the answer to that POST only, and each reveal is an
// audit event (store.AuditIdentityRevealed) written before the answer.
// Traces are kept in memory for 24 hours (the last 256) so that GET can
// show them again.
func (s *Server) traceRoutes(mux *http.ServeMux) {
	h := &traceAPI{s: s, traces: map[string]*TraceResponse{}}
	tok, created, err := loadOrCreateSecret(filepath.Join(s.cfg.DataOrDefault(), InvestigatorTokenFile), newAdminToken)
	switch {
	case err != nil:
		h.tokenErr = fmt.Errorf("investigator token: %w", err)
		s.log.Error("tracing unavailable", "err", err)
	case created:
		s.log.Info("created the investigator token", "file", filepath.Join(s.cfg.DataOrDefault(), InvestigatorTokenFile))
	}
	h.token = strings.TrimSpace(string(tok))
	mux.Handle("POST /v1/traces", s.api(h.auth(h.create)))
	mux.Handle("GET /v1/traces/{id}", s.api(h.auth(h.get)))
}

// TraceRequest is the body of POST /v1/traces. Dates are KST days,
// YYYY-MM-DD; isolation may also be an RFC 3339 instant (a date means the
// end of that day).
type TraceRequest struct {
	Phone        string `json:"phone,omitempty"`
	Pseudonym    string `json:"pseudonym,omitempty"` // 32 hex digits
	Onset        string `json:"onset,omitempty"`
	Tested       string `json:"tested,omitempty"`
	Asymptomatic bool   `json:"asymptomatic,omitempty"`
	Isolation    string `json:"isolation,omitempty"`
	Degree       int    `json:"degree,omitempty"`
	CaseRef      string `json:"case_ref,omitempty"`
	Reveal       bool   `json:"reveal,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// TraceResponse is a trace as the API answers it.
type TraceResponse struct {
	ID      string    `json:"id"`
	CaseRef string    `json:"case_ref,omitempty"`
	Created time.Time `json:"created"`
	// Revealed is how many contacts' identities this answer holds.
	Revealed int `json:"revealed"`
	*trace.Result
}

type traceAPI struct {
	s        *Server
	token    string
	tokenErr error

	mu     sync.Mutex
	traces map[string]*TraceResponse // without identities
	order  []string
}

// auth accepts the investigator or the admin token and passes the token's
// name on in the context.
func (h *traceAPI) auth(f func(r *http.Request, who string) (any, int, error)) apiFunc {
	return func(r *http.Request) (any, int, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok = strings.TrimSpace(tok)
		switch {
		case !ok:
		case h.token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(h.token)) == 1:
			return f(r, "investigator")
		case subtle.ConstantTimeCompare([]byte(tok), []byte(h.s.adminToken)) == 1:
			return f(r, "admin")
		}
		return nil, 0, errTraceUnauthorized
	}
}

var errTraceUnauthorized = fmt.Errorf("%w (or DATA/investigator.token)", errUnauthorized)

func (h *traceAPI) create(r *http.Request, who string) (any, int, error) {
	var req TraceRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return nil, 0, err
	}
	resp, err := h.s.Trace(r.Context(), req, who)
	if err != nil {
		return nil, 0, err
	}
	kept := *resp
	kept.Revealed = 0
	kept.Result = withoutIdentities(resp.Result)
	h.keep(&kept)
	return resp, http.StatusCreated, nil
}

func (h *traceAPI) get(r *http.Request, _ string) (any, int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.traces[r.PathValue("id")]
	if !ok || h.s.now().Sub(t.Created) > traceKeep {
		return nil, 0, fmt.Errorf("trace %q: %w (traces are kept for 24 hours)", r.PathValue("id"), store.ErrNotFound)
	}
	return t, 0, nil
}

// keep stores a trace for GET, dropping the oldest beyond the bounds.
func (h *traceAPI) keep(t *TraceResponse) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.traces[t.ID] = t
	h.order = append(h.order, t.ID)
	for len(h.order) > 0 && (len(h.order) > traceKeepMax || h.s.now().Sub(h.traces[h.order[0]].Created) > traceKeep) {
		delete(h.traces, h.order[0])
		h.order = h.order[1:]
	}
}

// withoutIdentities returns a copy of res with names and phone numbers
// cleared.
func withoutIdentities(res *trace.Result) *trace.Result {
	out := *res
	out.Contacts = append([]trace.Contact(nil), res.Contacts...)
	for i := range out.Contacts {
		out.Contacts[i].Name, out.Contacts[i].Phone = "", ""
	}
	return &out
}

// parseTraceDay parses a KST date of a trace request ("" is zero).
func parseTraceDay(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := daykeys.ParseDay(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %v", ErrInvalid, field, err)
	}
	return d.Start(), nil
}

// Trace runs a trace for the investigator who (the name of the token used):
// it finds the case by phone number or pseudonym, traces it and, when
// asked, reveals the contacts' identities after recording the reveal in
// the audit trail.
func (s *Server) Trace(ctx context.Context, req TraceRequest, who string) (*TraceResponse, error) {
	var tr trace.Request
	var err error
	if tr.Onset, err = parseTraceDay("onset", req.Onset); err != nil {
		return nil, err
	}
	if tr.Tested, err = parseTraceDay("tested", req.Tested); err != nil {
		return nil, err
	}
	if req.Isolation != "" {
		if tr.Isolation, err = time.Parse(time.RFC3339, req.Isolation); err != nil {
			d, derr := daykeys.ParseDay(req.Isolation)
			if derr != nil {
				return nil, fmt.Errorf("%w: isolation %q: want YYYY-MM-DD or an RFC 3339 time", ErrInvalid, req.Isolation)
			}
			tr.Isolation = (d + 1).Start()
		}
	}
	tr.Asymptomatic, tr.Degree = req.Asymptomatic, req.Degree
	if req.Reveal && (strings.TrimSpace(req.Reason) == "" || strings.TrimSpace(req.CaseRef) == "") {
		return nil, fmt.Errorf("%w: a reveal needs a reason and a case_ref", ErrInvalid)
	}
	if len(req.CaseRef) > 128 {
		return nil, fmt.Errorf("%w: case_ref longer than 128 bytes", ErrInvalid)
	}
	switch {
	case (req.Phone == "") == (req.Pseudonym == ""):
		return nil, fmt.Errorf("%w: give the case's phone or pseudonym, one of them", ErrInvalid)
	case req.Pseudonym != "":
		b, err := hex.DecodeString(req.Pseudonym)
		if err != nil || len(b) != 16 {
			return nil, fmt.Errorf("%w: pseudonym: want 32 hex digits", ErrInvalid)
		}
		tr.Pseudonym = [16]byte(b)
	default:
		if s.vault == nil {
			return nil, s.vaultErr
		}
		p, err := s.vault.Lookup(ctx, req.Phone)
		if err != nil {
			if errors.Is(err, vault.ErrInvalid) {
				return nil, fmt.Errorf("%w: %w", ErrInvalid, err) // err names the field: "phone: ..."
			}
			return nil, fmt.Errorf("case: %w", err)
		}
		tr.Pseudonym = p.Pseudonym
	}
	if req.Reveal && s.vault == nil {
		return nil, s.vaultErr
	}
	res, err := trace.New(s.store, s.dayKeys, &trace.Options{Stays: s.stays(), Now: s.now}).Trace(ctx, tr)
	if errors.Is(err, trace.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err != nil {
		return nil, err
	}
	var id [8]byte
	rand.Read(id[:])
	resp := &TraceResponse{ID: "t-" + hex.EncodeToString(id[:]), CaseRef: req.CaseRef, Created: s.now().UTC(), Result: res}
	s.log.Info("trace", "trace", resp.ID, "who", who, "case_ref", req.CaseRef, "degree", res.Degree, "contacts", len(res.Contacts))
	if req.Reveal {
		if resp.Revealed, err = s.reveal(ctx, resp, who); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// reveal fills in the contacts' names and phone numbers and records the
// reveal in the audit trail; when the audit event cannot be written,
// nothing is revealed. People whose identity was destroyed stay unnamed.
func (s *Server) reveal(ctx context.Context, resp *TraceResponse, who string) (int, error) {
	n := 0
	for i := range resp.Contacts {
		c := &resp.Contacts[i]
		p, err := s.store.PersonByPseudonym(ctx, c.Pseudonym)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("reveal: %w", err)
		}
		name, phone, err := s.vault.Reveal(ctx, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("reveal: %w", err)
		}
		c.Name, c.Phone = name, phone
		n++
	}
	detail, _ := json.Marshal(struct {
		Who     string `json:"who"`
		CaseRef string `json:"case_ref"`
		Trace   string `json:"trace"`
		Count   int    `json:"count"`
	}{who, resp.CaseRef, resp.ID, n})
	if _, err := s.store.AddAudit(ctx, store.AuditEvent{Time: s.now().UTC(), Kind: store.AuditIdentityRevealed, Detail: string(detail)}); err != nil {
		for i := range resp.Contacts {
			resp.Contacts[i].Name, resp.Contacts[i].Phone = "", ""
		}
		return 0, fmt.Errorf("reveal: audit: %w", err)
	}
	s.log.Info("identities revealed", "trace", resp.ID, "who", who, "case_ref", resp.CaseRef, "count", n)
	return n, nil
}

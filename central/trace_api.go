package central

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
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
	"github.com/anshim/anshim/internal/text"
)

// Contact tracing for investigators: docs/design.md, engine in
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
// Both want "Authorization: Bearer TOKEN" with DATA/investigator.token,
// DATA/admin.token or a named API token (token_api.go). Every trace needs
// a "case_ref" and is an audit event naming the token's account, written
// before the answer (no event, no answer): store.AuditTrace, or
// store.AuditIdentityRevealed for a reveal. A trace names its contacts by
// references ("C1", …); names and phone numbers only with "reveal": true
// and a "reason", in the answer to that POST only. Traces are kept in
// memory for 24 hours (the last 256) so that GET can show them again.
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

// auth accepts an investigator's or an admin's token and passes the
// account's name on.
func (h *traceAPI) auth(f func(r *http.Request, who string) (any, int, error)) apiFunc {
	return h.s.investigatorAuth(h.token, "trace", f)
}

// investigatorAuth wraps f for the investigators' routes: it accepts an
// investigator's or an admin's token (investigatorToken is that of
// DATA/investigator.token) and passes the account on, in the context and
// by name; doing says what another role may not do.
func (s *Server) investigatorAuth(investigatorToken, doing string, f func(r *http.Request, who string) (any, int, error)) apiFunc {
	return func(r *http.Request) (any, int, error) {
		a, err := s.account(r, investigatorToken)
		if errors.Is(err, errUnauthorized) {
			return nil, 0, fmt.Errorf("%w (or DATA/investigator.token)", err)
		}
		if err != nil {
			return nil, 0, err
		}
		if a.Role != RoleInvestigator && a.Role != RoleAdmin {
			return nil, 0, fmt.Errorf("%w: the token of %s (%s) may not %s", errForbidden, a.Name, a.Role, doing)
		}
		return f(r.WithContext(withAccount(r.Context(), a)), a.Name)
	}
}

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

// Limits of a trace's case reference and reason: how many letters or
// digits they need at least (Unicode categories L and N, see
// internal/text, which also refuses control and invisible characters),
// and their longest, in bytes.
const (
	MinCaseRefAlnum = 2
	MaxCaseRefBytes = 128
	MinReasonAlnum  = 4
	MaxReasonBytes  = 1000
)

// checkTraceText trims and checks a case reference or a reason.
func checkTraceText(field, s string, minAlnum, maxBytes int) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxBytes {
		return "", fmt.Errorf("%w: %s: %d bytes, want at most %d", ErrInvalid, field, len(s), maxBytes)
	}
	if err := text.Check(s, minAlnum); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrInvalid, field, err)
	}
	return s, nil
}

// Trace runs a trace for the account who (the name of the token used):
// it finds the case by phone number or pseudonym, traces it, when asked
// reveals the contacts' identities, and records the trace in the audit
// trail before answering; when the event cannot be written there is no
// answer. req.CaseRef is required (at least MinCaseRefAlnum letters or
// digits), req.Reason for a reveal (at least MinReasonAlnum).
func (s *Server) Trace(ctx context.Context, req TraceRequest, who string) (*TraceResponse, error) {
	defer s.metrics.observeTrace(time.Now())
	var tr trace.Request
	var err error
	if who == "" {
		return nil, errors.New("trace: no account to name in the audit trail")
	}
	if req.CaseRef == "" {
		return nil, fmt.Errorf("%w: case_ref: missing: every trace is recorded with its case reference", ErrInvalid)
	}
	if req.CaseRef, err = checkTraceText("case_ref", req.CaseRef, MinCaseRefAlnum, MaxCaseRefBytes); err != nil {
		return nil, err
	}
	switch {
	case req.Reveal && req.Reason == "":
		return nil, fmt.Errorf("%w: reason: missing: a reveal needs a reason", ErrInvalid)
	case req.Reason != "":
		if req.Reason, err = checkTraceText("reason", req.Reason, MinReasonAlnum, MaxReasonBytes); err != nil {
			return nil, err
		}
	}
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
	kind := store.AuditTrace
	if req.Reveal {
		kind = store.AuditIdentityRevealed
		if resp.Revealed, err = s.reveal(ctx, resp); err != nil {
			return nil, err
		}
	}
	if err := s.auditTrace(ctx, kind, req, resp, who); err != nil {
		return nil, err // with no identities and no contacts given out
	}
	s.log.Info("trace", "trace", resp.ID, "who", who, "degree", res.Degree, "contacts", len(res.Contacts), "revealed", resp.Revealed)
	return resp, nil
}

// TraceDetail is the detail of a trace's audit event (store.AuditTrace or
// store.AuditIdentityRevealed), and so of its ledger leaf: counts and
// commitments, no personal data. The case reference and the reason are in
// the audit store in clear; here only their SHA-256 (of the UTF-8 text as
// stored, trimmed), which anyone holding the text can check.
type TraceDetail struct {
	Trace         string `json:"trace"`
	CaseRefSHA256 string `json:"case_ref_sha256"`
	ReasonSHA256  string `json:"reason_sha256,omitempty"` // when a reason was given
	By            string `json:"by"`                      // how the case was found: "phone" or "pseudonym"
	Degree        int    `json:"degree"`
	Contacts      int    `json:"contacts"`
	Revealed      int    `json:"revealed"` // identities given out
}

// sha256Hex returns the SHA-256 of s in hex.
func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// auditTrace writes a trace's audit event; when it cannot, it clears the
// identities from resp and returns an error.
func (s *Server) auditTrace(ctx context.Context, kind string, req TraceRequest, resp *TraceResponse, who string) error {
	d := TraceDetail{Trace: resp.ID, CaseRefSHA256: sha256Hex(req.CaseRef), By: "phone",
		Degree: resp.Degree, Contacts: len(resp.Contacts), Revealed: resp.Revealed}
	if req.Reason != "" {
		d.ReasonSHA256 = sha256Hex(req.Reason)
	}
	if req.Phone == "" {
		d.By = "pseudonym"
	}
	detail, err := json.Marshal(d)
	if err == nil {
		_, err = s.store.AddAudit(ctx, store.AuditEvent{Time: s.now().UTC(), Kind: kind, Who: who,
			Detail: string(detail), CaseRef: req.CaseRef, Reason: req.Reason})
	}
	if err != nil {
		for i := range resp.Contacts {
			resp.Contacts[i].Name, resp.Contacts[i].Phone = "", ""
		}
		return fmt.Errorf("trace: audit: %w", err)
	}
	return nil
}

// reveal fills in the contacts' names and phone numbers; the caller
// records the reveal in the audit trail before answering. People whose
// identity was destroyed stay unnamed.
func (s *Server) reveal(ctx context.Context, resp *TraceResponse) (int, error) {
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
	return n, nil
}

package central

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/trace"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/notify"
)

// Bounds of the console's traces held in memory, so that paging,
// sorting and filtering a case's contacts does not run its trace again.
const (
	consoleKeep    = time.Hour
	consoleKeepMax = 64
)

// webConsole is the central's side of the investigators' console
// (web.Console): the trace API's steps (vault, engine, audit event) with
// the case and its traces saved in the store.
type webConsole struct {
	s *Server

	mu     sync.Mutex
	traces map[string]*heldTrace // by trace id, with pseudonyms
	order  []string

	senderOnce sync.Once
	sender     func(func(notify.Attempt)) notify.Sender
	senderErr  error
}

var _ web.Console = (*webConsole)(nil)

type heldTrace struct {
	web.CaseTrace
	held time.Time
}

// caseParams are a saved trace's store.CaseTrace.Params: how to run it
// again, its window fixed. The case's pseudonym is in them, never its
// phone number.
type caseParams struct {
	Pseudonym    string    `json:"pseudonym"`
	By           string    `json:"by"` // "phone" or "person"
	Onset        time.Time `json:"onset,omitzero"`
	Tested       time.Time `json:"tested,omitzero"`
	Asymptomatic bool      `json:"asymptomatic,omitempty"`
	Degree       int       `json:"degree"`
	Isolation    time.Time `json:"isolation"`
	Until        time.Time `json:"until"`
	Venue        string    `json:"venue,omitempty"`
	From         time.Time `json:"from,omitzero"`
	To           time.Time `json:"to,omitzero"`
	// FromCase is the case whose contact this case's person was.
	FromCase string `json:"from_case,omitempty"`
}

func newConsole(s *Server) *webConsole {
	return &webConsole{s: s, traces: map[string]*heldTrace{}}
}

// OpenCase implements web.Console.
func (c *webConsole) OpenCase(ctx context.Context, who string, req web.CaseRequest) (store.Case, error) {
	if who == "" {
		return store.Case{}, errors.New("open case: no account to name in the audit trail")
	}
	ref, err := checkTraceText("case_ref", req.CaseRef, MinCaseRefAlnum, MaxCaseRefBytes)
	if err != nil {
		return store.Case{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if c.s.vault == nil {
		return store.Case{}, c.s.vaultErr
	}
	p := caseParams{Onset: req.Onset, Tested: req.Tested, Asymptomatic: req.Asymptomatic, Degree: req.Degree,
		Venue: req.Venue, From: req.From, To: req.To, FromCase: req.FromCase}
	var person vault.Person
	switch {
	case (req.Phone == "") == (req.Person == ""):
		return store.Case{}, fmt.Errorf("%w: give the case's phone number or person id, one of them", web.ErrInvalid)
	case req.Phone != "":
		p.By = "phone"
		person, err = c.s.vault.Lookup(ctx, req.Phone)
		if errors.Is(err, vault.ErrInvalid) {
			return store.Case{}, fmt.Errorf("%w: %w", web.ErrInvalid, err)
		}
	default:
		p.By = "person"
		person, err = c.s.vault.Person(ctx, req.Person)
	}
	if err != nil {
		return store.Case{}, fmt.Errorf("open case: %w", err)
	}
	p.Pseudonym = hex.EncodeToString(person.Pseudonym[:])
	now := c.s.now().UTC()
	res, err := c.run(ctx, person.Pseudonym, p)
	if err != nil {
		return store.Case{}, err
	}
	p.Isolation, p.Until = res.To, res.Until
	params, err := json.Marshal(p)
	if err != nil {
		return store.Case{}, fmt.Errorf("open case: %w", err)
	}
	tr := web.CaseTrace{ID: newTraceID(), Who: who, Created: now, Venue: p.Venue, From: p.From, To: p.To, Result: res, FromCase: p.FromCase}
	if err := c.audit(ctx, store.AuditTrace, who, ref, "", p.By, tr); err != nil {
		return store.Case{}, err
	}
	cs := store.Case{Ref: ref, Opener: who, Opened: now}
	if cs.ID, err = c.s.store.AddCase(ctx, cs); err != nil {
		return store.Case{}, fmt.Errorf("open case: %w", err)
	}
	if err := c.s.store.AddCaseTrace(ctx, store.CaseTrace{ID: tr.ID, Case: cs.ID, Who: who, Created: now, Params: params}); err != nil {
		return store.Case{}, fmt.Errorf("open case %d: %w", cs.ID, err)
	}
	c.hold(tr)
	c.s.log.Info("case opened", "case", cs.ID, "trace", tr.ID, "who", who, "contacts", len(res.Contacts))
	return cs, nil
}

// run runs the trace engine for the case.
func (c *webConsole) run(ctx context.Context, pseudonym [16]byte, p caseParams) (*trace.Result, error) {
	req := trace.Request{Pseudonym: pseudonym, Onset: p.Onset, Tested: p.Tested, Asymptomatic: p.Asymptomatic,
		Isolation: p.Isolation, Until: p.Until, Degree: p.Degree}
	res, err := trace.New(c.s.store, c.s.dayKeys, &trace.Options{Stays: c.s.stays(), Now: c.s.now}).Trace(ctx, req)
	if errors.Is(err, trace.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	return res, nil
}

// audit writes a console trace's audit event (a ledger leaf) and returns
// its id.
func (c *webConsole) audit(ctx context.Context, kind, who, caseRef, reason, by string, tr web.CaseTrace) error {
	_, err := c.auditID(ctx, kind, who, caseRef, reason, by, tr)
	return err
}

func (c *webConsole) auditID(ctx context.Context, kind, who, caseRef, reason, by string, tr web.CaseTrace) (store.AuditEvent, error) {
	d := TraceDetail{Trace: tr.ID, CaseRefSHA256: sha256Hex(caseRef), By: by, Degree: tr.Result.Degree,
		Contacts: len(tr.Result.Contacts), Revealed: tr.Revealed}
	if reason != "" {
		d.ReasonSHA256 = sha256Hex(reason)
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return store.AuditEvent{}, fmt.Errorf("trace: audit: %w", err)
	}
	e := store.AuditEvent{Time: c.s.now().UTC(), Kind: kind, Who: who, Detail: string(detail), CaseRef: caseRef, Reason: reason}
	if e.ID, err = c.s.store.AddAudit(ctx, e); err != nil {
		return store.AuditEvent{}, fmt.Errorf("trace: audit: %w", err)
	}
	return e, nil
}

func newTraceID() string {
	var id [8]byte
	rand.Read(id[:])
	return "t-" + hex.EncodeToString(id[:])
}

// hold keeps a trace in memory, dropping the oldest beyond the bounds.
func (c *webConsole) hold(tr web.CaseTrace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.s.now()
	c.traces[tr.ID] = &heldTrace{CaseTrace: tr, held: now}
	c.order = append(c.order, tr.ID)
	for len(c.order) > 0 && (len(c.order) > consoleKeepMax || now.Sub(c.traces[c.order[0]].held) > consoleKeep) {
		delete(c.traces, c.order[0])
		c.order = c.order[1:]
	}
}

// held returns the trace held in memory (nil: none).
func (c *webConsole) held(id string) *web.CaseTrace {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.traces[id]
	if !ok || c.s.now().Sub(t.held) > consoleKeep {
		return nil
	}
	tr := t.CaseTrace
	return &tr
}

// full returns the saved trace of the case with its contacts' pseudonyms:
// held in memory, or run again with its window (an audit event).
func (c *webConsole) full(ctx context.Context, who string, cs store.Case, traceID string) (*web.CaseTrace, caseParams, error) {
	var p caseParams
	saved, err := c.s.store.CaseTraces(ctx, cs.ID)
	if err != nil {
		return nil, p, err
	}
	var st *store.CaseTrace
	for i := range saved {
		if saved[i].ID == traceID || traceID == "" && i == len(saved)-1 {
			st = &saved[i]
		}
	}
	if st == nil {
		return nil, p, fmt.Errorf("trace %q of case %d: %w", traceID, cs.ID, store.ErrNotFound)
	}
	if err := json.Unmarshal(st.Params, &p); err != nil {
		return nil, p, fmt.Errorf("trace %s: params: %w", st.ID, err)
	}
	if c.s.now().Sub(st.Created) > web.TraceKeep {
		return nil, p, fmt.Errorf("trace %s: %w", st.ID, web.ErrExpired)
	}
	if tr := c.held(st.ID); tr != nil {
		return tr, p, nil
	}
	b, err := hex.DecodeString(p.Pseudonym)
	if err != nil || len(b) != 16 {
		return nil, p, fmt.Errorf("trace %s: params: a pseudonym of %d bytes", st.ID, len(b))
	}
	res, err := c.run(ctx, [16]byte(b), p)
	if err != nil {
		return nil, p, err
	}
	tr := web.CaseTrace{ID: st.ID, Who: st.Who, Created: st.Created, Venue: p.Venue, From: p.From, To: p.To, Result: res, FromCase: p.FromCase}
	if err := c.audit(ctx, store.AuditTrace, who, cs.Ref, "", p.By, tr); err != nil {
		return nil, p, err
	}
	c.hold(tr)
	return &tr, p, nil
}

// CaseTrace implements web.Console.
func (c *webConsole) CaseTrace(ctx context.Context, who string, cs store.Case, traceID string) (*web.CaseTrace, error) {
	tr, _, err := c.full(ctx, who, cs, traceID)
	if err != nil {
		return nil, err
	}
	out := *tr
	out.Result = withoutIdentities(tr.Result)
	for i := range out.Result.Contacts {
		out.Result.Contacts[i].Pseudonym = [16]byte{}
	}
	return &out, nil
}

// Reveal implements web.Console: the chosen contacts' identities are
// opened, the event written, and only then are they given out.
func (c *webConsole) Reveal(ctx context.Context, who string, cs store.Case, traceID string, sel web.RevealSet, reason string) (*web.CaseTrace, int64, error) {
	reason, err := checkTraceText("reason", reason, MinReasonAlnum, MaxReasonBytes)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if c.s.vault == nil {
		return nil, 0, c.s.vaultErr
	}
	tr, p, err := c.full(ctx, who, cs, traceID)
	if err != nil {
		return nil, 0, err
	}
	out := *tr
	res := *tr.Result
	res.Contacts = make([]trace.Contact, 0, len(tr.Result.Contacts))
	for _, ct := range tr.Result.Contacts {
		ct.Name, ct.Phone = "", ""
		res.Contacts = append(res.Contacts, ct)
	}
	out.Result = &res
	chosen := &TraceResponse{Result: &trace.Result{}}
	var at []int
	for i, ct := range res.Contacts {
		if sel.Has(ct) {
			chosen.Contacts = append(chosen.Contacts, ct)
			at = append(at, i)
		}
	}
	if out.Revealed, err = c.s.reveal(ctx, chosen); err != nil {
		return nil, 0, err
	}
	e, err := c.auditID(ctx, store.AuditIdentityRevealed, who, cs.Ref, reason, p.By, out)
	if err != nil {
		return nil, 0, err // the identities opened are dropped
	}
	for j, i := range at {
		res.Contacts[i].Name, res.Contacts[i].Phone = chosen.Contacts[j].Name, chosen.Contacts[j].Phone
	}
	for i := range res.Contacts {
		res.Contacts[i].Pseudonym = [16]byte{}
	}
	leaves, _, err := webAdmin{c.s}.AuditLeaves(ctx, []store.AuditEvent{e})
	if err != nil {
		return nil, 0, fmt.Errorf("reveal: the event is written, its ledger leaf not found: %w", err)
	}
	idx, ok := leaves[e.ID]
	if !ok {
		idx = -1
	}
	c.s.log.Info("identities revealed", "case", cs.ID, "trace", tr.ID, "who", who, "revealed", out.Revealed)
	return &out, idx, nil
}

// FollowUpContacts implements web.Console: the trace's chosen contacts,
// with their pseudonyms, go under follow-up (AddFollowUp) keyed by the
// case's reference.
func (c *webConsole) FollowUpContacts(ctx context.Context, who string, cs store.Case, traceID string, sel web.RevealSet) (int, error) {
	tr, _, err := c.full(ctx, who, cs, traceID)
	if err != nil {
		return 0, err
	}
	added := 0
	for _, ct := range tr.Result.Contacts {
		if !sel.Has(ct) {
			continue
		}
		_, err := c.s.AddFollowUp(ctx, cs.Ref, AddContactRequest{Pseudonym: hex.EncodeToString(ct.Pseudonym[:]),
			Venue: ct.Venue, Exposed: ct.Exposed, Degree: ct.Degree}, who)
		switch {
		case errors.Is(err, store.ErrExists):
		case err != nil:
			return added, fmt.Errorf("follow-up: %w", err)
		default:
			added++
		}
	}
	c.s.log.Info("contacts under follow-up", "case", cs.ID, "trace", tr.ID, "who", who, "added", added)
	return added, nil
}

// refused maps the follow-up's refusals to web.ErrRefused.
func refused(err error) error {
	var te *followup.TransitionError
	if errors.As(err, &te) || errors.Is(err, store.ErrInvalidFollowUp) {
		return fmt.Errorf("%w: %v", web.ErrRefused, err)
	}
	return err
}

// MoveContact implements web.Console. The move is checked first; a
// positive contact's new case is then opened (its person found by the
// pseudonym, its first trace from the day of the move, asymptomatic) and
// the move, naming the new case, made last.
func (c *webConsole) MoveContact(ctx context.Context, who string, cs store.Case, pseudonym, to, newCase string) (store.FollowUp, store.Case, error) {
	p, err := parsePseudonym(pseudonym)
	if err != nil {
		return store.FollowUp{}, store.Case{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	status := followup.Status(to)
	if newCase != "" {
		if newCase, err = checkCase(newCase); err != nil {
			return store.FollowUp{}, store.Case{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
		}
	}
	f, err := c.s.store.FollowUp(ctx, cs.Ref, p)
	if err != nil {
		return store.FollowUp{}, store.Case{}, err
	}
	if err := store.CheckFollowUpMove(f.Status, status, newCase); err != nil {
		return store.FollowUp{}, store.Case{}, refused(err)
	}
	var opened store.Case
	if status == followup.Positive {
		person, err := c.s.store.PersonByPseudonym(ctx, p)
		if err != nil {
			return store.FollowUp{}, store.Case{}, fmt.Errorf("new case %s: %w", newCase, err)
		}
		now := c.s.now().In(daykeys.KST)
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, daykeys.KST)
		opened, err = c.OpenCase(ctx, who, web.CaseRequest{CaseRef: newCase, Person: person.ID, Tested: day,
			Asymptomatic: true, Degree: 2, FromCase: cs.Ref})
		if err != nil {
			return store.FollowUp{}, store.Case{}, fmt.Errorf("new case %s: %w", newCase, err)
		}
	}
	f, err = c.s.SetContactStatus(ctx, cs.Ref, p, StatusRequest{Status: status, NewCase: newCase}, who)
	if err != nil {
		return store.FollowUp{}, opened, refused(err)
	}
	return f, opened, nil
}

// NotifyContacts implements web.Console with the central's sender
// (notify.* of the config: the file sink or the webhook).
func (c *webConsole) NotifyContacts(ctx context.Context, who string, cs store.Case, pseudonyms []string) ([]store.Notification, error) {
	c.senderOnce.Do(func() { c.sender, c.senderErr = c.s.cfg.newNotifier(c.s.now) })
	if c.sender == nil {
		return nil, fmt.Errorf("notifications unavailable: %w", c.senderErr)
	}
	var ps [][16]byte
	for _, h := range pseudonyms {
		p, err := parsePseudonym(h)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", web.ErrInvalid, err)
		}
		ps = append(ps, p)
	}
	ns, err := c.s.NotifyContacts(ctx, c.sender, cs.Ref, ps, who)
	return ns, refused(err)
}

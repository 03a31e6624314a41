package web

import (
	"context"
	"errors"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/trace"
)

// Console is what the investigators' console (/console) asks of the
// central, which implements it (central/web_console.go): it finds the
// case in the identity vault, runs the trace engine, saves the trace with
// the case and writes the audit events (every trace, every reveal) that
// are ledger leaves. Who is the investigator account acting, named in
// them.
type Console interface {
	// OpenCase opens a case under its reference and runs its first
	// trace, saved with it; the trace is an audit event. ErrInvalid for
	// a request the trace API would refuse, store.ErrNotFound when no one
	// is registered with the phone number or person id.
	OpenCase(ctx context.Context, who string, req CaseRequest) (store.Case, error)
	// CaseTrace returns a saved trace of the case (its latest when
	// traceID is ""), without identities: a trace kept in memory, or the
	// saved trace run again with its window (an audit event again).
	// store.ErrNotFound for an unknown trace or one of another case;
	// ErrExpired for one older than the check-ins kept.
	CaseTrace(ctx context.Context, who string, c store.Case, traceID string) (*CaseTrace, error)
	// Reveal fills in the names and phone numbers of the trace's
	// contacts that sel chooses, after writing an identity-revealed audit
	// event (a ledger leaf) that names who, the case reference, the
	// reason and how many; it returns the trace with those identities
	// and the event's ledger index. ErrInvalid for a reason the trace API
	// would refuse.
	Reveal(ctx context.Context, who string, c store.Case, traceID string, sel RevealSet, reason string) (*CaseTrace, int64, error)

	// FollowUpContacts puts the contacts of the case's trace that sel
	// chooses under the follow-up of who (status to-notify), keyed by the
	// case's Ref; contacts already under follow-up are left as they are.
	// It returns how many it added.
	FollowUpContacts(ctx context.Context, who string, c store.Case, traceID string, sel RevealSet) (int, error)
	// MoveContact moves a contact's follow-up (pseudonym: 32 hex digits)
	// to status to, made by who (an audit event). A contact who turns
	// positive needs newCase, the new case's reference: it is opened as a
	// console case linked to c (its first trace runs from the day of the
	// move) and returned; zero otherwise. ErrRefused for a move the
	// follow-up does not allow, ErrInvalid for a malformed pseudonym or
	// reference.
	MoveContact(ctx context.Context, who string, c store.Case, pseudonym, to, newCase string) (store.FollowUp, store.Case, error)
	// NotifyContacts sends the exposure message to contacts of the case
	// (pseudonyms), every to-notify contact when none; each notification
	// is recorded with its state and audited. ErrRefused for a contact
	// that is past being notified.
	NotifyContacts(ctx context.Context, who string, c store.Case, pseudonyms []string) ([]store.Notification, error)
}

// ErrRefused is the error of a follow-up move the follow-up does not
// allow (central/followup), or of a positive move without a new case.
var ErrRefused = errors.New("the follow-up does not allow this move")

// CaseRequest opens a case: who it is (a phone number in any usual
// Korean form, or the person id the administration shows), from when
// (onset, or the test date of an asymptomatic case), how far to follow
// exposure and optional filters of the contacts.
type CaseRequest struct {
	CaseRef      string
	Phone        string
	Person       string
	Onset        time.Time
	Tested       time.Time
	Asymptomatic bool
	Degree       int
	// Venue, when set, keeps the contacts exposed there only; From and
	// To (zero: open) bound the exposures kept.
	Venue    string
	From, To time.Time
	// FromCase is the reference of the case this one is a contact of
	// (a contact who turned positive), "" otherwise.
	FromCase string
}

// CaseTrace is a trace of a case as the console shows it.
type CaseTrace struct {
	ID      string
	Who     string
	Created time.Time
	// Filter is the request's venue and time filters, applied to Result.
	Venue    string
	From, To time.Time
	Result   *trace.Result
	// Revealed is how many contacts' identities Result holds.
	Revealed int
	// FromCase is the reference of the case this case's person was a
	// contact of, "" when none (CaseRequest.FromCase).
	FromCase string
}

// RevealSet chooses the contacts of a reveal: all of them (the zero
// value), those of one degree, or those exposed at one venue.
type RevealSet struct {
	Degree int    // 1–4, or 0
	Venue  string // a venue id, or ""
}

// Has reports whether the set holds the contact.
func (s RevealSet) Has(c trace.Contact) bool {
	return (s.Degree == 0 || c.Degree == s.Degree) && (s.Venue == "" || c.Venue == s.Venue)
}

// TraceKeep is how long a saved trace can be re-opened: as long as the
// check-ins are kept.
const TraceKeep = 28 * 24 * time.Hour

// ErrExpired is the error of a saved trace older than TraceKeep: its
// check-ins are destroyed, it cannot be run again.
var ErrExpired = errors.New("the trace's check-ins are no longer kept")

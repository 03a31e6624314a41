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
}

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

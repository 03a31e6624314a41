package form

import (
	"net/http"

	"github.com/anshim/anshim/internal/text"
)

// Bounds of a reveal's case reference and reason: the letters or digits
// they need at least and their longest, in bytes (the central's
// MinCaseRefAlnum, MaxCaseRefBytes, MinReasonAlnum and MaxReasonBytes,
// which a trace's reveal has too).
const (
	MinCaseRefAlnum = 2
	MaxCaseRef      = 128
	MinRevealAlnum  = 4
	MaxRevealReason = 1000
)

// Reveal is an administrator's request to see a visitor's name and phone
// number: the case it is for and why, both recorded in the audit trail.
type Reveal struct {
	CaseRef string
	Reason  string
}

// NewReveal reads the reveal form of a parsed POST.
func NewReveal(r *http.Request) Reveal {
	return Reveal{CaseRef: value(r, "case_ref"), Reason: value(r, "reason")}
}

// Validate checks the case reference and the reason by the rules of a
// trace's (internal/text: no control or invisible characters, enough
// letters or digits, not too long).
func (f Reveal) Validate() error {
	if len(f.CaseRef) > MaxCaseRef || text.Check(f.CaseRef, MinCaseRefAlnum) != nil {
		return invalid("case_ref", "admin.person.caseref.invalid")
	}
	if len(f.Reason) > MaxRevealReason || text.Check(f.Reason, MinRevealAlnum) != nil {
		return invalid("reason", "admin.person.reason.invalid")
	}
	return nil
}

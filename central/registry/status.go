package registry

import (
	"fmt"
	"strings"
)

// Status is where a venue is in its registration.
type Status string

// The statuses.
const (
	// StatusApplied: registered, waiting for the province's approval.
	StatusApplied Status = "applied"
	// StatusApproved: may enroll kiosks and get a poster.
	StatusApproved Status = "approved"
	// StatusSuspended: no new kiosks or posters; the kiosks it has keep
	// working and their check-ins are still ingested.
	StatusSuspended Status = "suspended"
	// StatusRejected: the province refused the application, with a reason
	// the owner sees (store.Venue.StatusReason). The owner may correct it
	// and submit it again, which moves it back to [StatusApplied]; it never
	// becomes approved without that second review.
	StatusRejected Status = "rejected"
)

// StatusNone is the status of a venue stored before the registry existed,
// without registration details. It moves like [StatusApplied].
const StatusNone Status = ""

// Valid reports whether s is applied, approved, suspended or rejected.
func (s Status) Valid() bool {
	return s == StatusApplied || s == StatusApproved || s == StatusSuspended || s == StatusRejected
}

// String returns the status, or "none" for StatusNone.
func (s Status) String() string {
	if s == StatusNone {
		return "none"
	}
	return string(s)
}

// ParseStatus parses "applied", "approved", "suspended" or "rejected".
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("unknown status %q (want applied, approved, suspended or rejected)", s)
	}
	return st, nil
}

// next returns the statuses a venue of status s may move to.
func (s Status) next() []Status {
	switch s {
	case StatusNone, StatusApplied:
		return []Status{StatusApproved, StatusRejected}
	case StatusSuspended:
		return []Status{StatusApproved}
	case StatusApproved:
		return []Status{StatusSuspended}
	case StatusRejected:
		return []Status{StatusApplied}
	}
	return nil
}

// TransitionError is a change of status that the registry does not allow.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	if !e.To.Valid() {
		return fmt.Sprintf("status: unknown status %q (want applied, approved, suspended or rejected)", string(e.To))
	}
	allowed := "nothing"
	if next := e.From.next(); len(next) > 0 {
		names := make([]string, len(next))
		for i, n := range next {
			names[i] = string(n)
		}
		allowed = strings.Join(names, " or ")
	}
	return fmt.Sprintf("status: a venue cannot go from %s to %s (%s venues can become %s)", e.From, e.To, e.From, allowed)
}

// CheckTransition checks that a venue may move from status from to status
// to: applied → approved → suspended → approved, and applied → rejected →
// applied (the owner resubmits a corrected application, which is reviewed
// again: a rejected venue is never approved directly). Staying where it is is
// allowed (a repeated request changes nothing). A venue stored before the
// registry ([StatusNone]) may be approved or rejected. Its error is a
// [*TransitionError].
func CheckTransition(from, to Status) error {
	if to.Valid() && from == to {
		return nil
	}
	for _, n := range from.next() {
		if n == to {
			return nil
		}
	}
	return &TransitionError{From: from, To: to}
}

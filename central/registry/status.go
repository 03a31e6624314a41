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
)

// StatusNone is the status of a venue stored before the registry existed,
// without registration details. It moves like [StatusApplied].
const StatusNone Status = ""

// Valid reports whether s is applied, approved or suspended.
func (s Status) Valid() bool {
	return s == StatusApplied || s == StatusApproved || s == StatusSuspended
}

// String returns the status, or "none" for StatusNone.
func (s Status) String() string {
	if s == StatusNone {
		return "none"
	}
	return string(s)
}

// ParseStatus parses "applied", "approved" or "suspended".
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("unknown status %q (want applied, approved or suspended)", s)
	}
	return st, nil
}

// next returns the statuses a venue of status s may move to.
func (s Status) next() []Status {
	switch s {
	case StatusNone, StatusApplied, StatusSuspended:
		return []Status{StatusApproved}
	case StatusApproved:
		return []Status{StatusSuspended}
	}
	return nil
}

// TransitionError is a change of status that the registry does not allow.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	if !e.To.Valid() {
		return fmt.Sprintf("status: unknown status %q (want applied, approved or suspended)", string(e.To))
	}
	next := e.From.next()
	allowed := "nothing"
	if len(next) > 0 {
		allowed = string(next[0])
	}
	return fmt.Sprintf("status: a venue cannot go from %s to %s (%s venues can become %s)", e.From, e.To, e.From, allowed)
}

// CheckTransition checks that a venue may move from status from to status
// to: applied → approved → suspended → approved. Staying where it is is
// allowed (a repeated request changes nothing). A venue stored before the
// registry ([StatusNone]) may be approved. Its error is a
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

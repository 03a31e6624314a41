// Package followup is the life of a case's contact after a trace: the
// statuses an investigator moves them through, and which moves are
// allowed.
//
//	to-notify → notified → tested → negative → cleared
//	                              ↘ positive → cleared
//
// A negative contact may be tested again (negative → tested). A contact
// who turns positive becomes a new case, linked to the case they were a
// contact of. Cleared is final. The store keeps who made each move and
// when (store.FollowUp).
package followup

import (
	"fmt"
	"slices"
)

// Status is a contact's follow-up status.
type Status string

// The statuses.
const (
	ToNotify Status = "to-notify" // found by a trace, not yet told
	Notified Status = "notified"  // sent the exposure message
	Tested   Status = "tested"    // tested, result pending
	Negative Status = "negative"
	Positive Status = "positive" // a new case, linked to this one
	Cleared  Status = "cleared"  // follow-up ended
)

// Statuses lists every status in the order of the follow-up.
var Statuses = []Status{ToNotify, Notified, Tested, Negative, Positive, Cleared}

// next holds the allowed moves.
var next = map[Status][]Status{
	ToNotify: {Notified},
	Notified: {Tested},
	Tested:   {Negative, Positive},
	Negative: {Tested, Cleared},
	Positive: {Cleared},
}

// Valid reports whether s is a status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Next returns the statuses s may move to, none for Cleared.
func (s Status) Next() []Status { return slices.Clone(next[s]) }

// TransitionError is a move the follow-up does not allow.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	if !e.To.Valid() {
		return fmt.Sprintf("follow-up: unknown status %q (want one of %v)", e.To, Statuses)
	}
	if len(next[e.From]) == 0 {
		return fmt.Sprintf("follow-up: %s is final", e.From)
	}
	return fmt.Sprintf("follow-up: %s cannot move to %s (only to %v)", e.From, e.To, next[e.From])
}

// CheckTransition returns nil when a contact of status from may move to
// to, a *TransitionError otherwise (also for staying where it is).
func CheckTransition(from, to Status) error {
	if !slices.Contains(next[from], to) {
		return &TransitionError{From: from, To: to}
	}
	return nil
}

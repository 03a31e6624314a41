package followup

import (
	"errors"
	"strings"
	"testing"
)

// Ensure that exactly the moves of the follow-up are allowed, and that a
// refused move says why.
func TestCheckTransition(t *testing.T) {
	allowed := map[[2]Status]bool{
		{ToNotify, Notified}: true,
		{Notified, Tested}:   true,
		{Tested, Negative}:   true,
		{Tested, Positive}:   true,
		{Negative, Tested}:   true,
		{Negative, Cleared}:  true,
		{Positive, Cleared}:  true,
	}
	for _, from := range Statuses {
		for _, to := range append(Statuses[:len(Statuses):len(Statuses)], "lost") {
			err := CheckTransition(from, to)
			if want := allowed[[2]Status{from, to}]; want != (err == nil) {
				t.Errorf("CheckTransition(%s, %s) = %v, want allowed=%v", from, to, err, want)
			}
			var te *TransitionError
			if err != nil && (!errors.As(err, &te) || te.From != from || te.To != to) {
				t.Errorf("CheckTransition(%s, %s) = %#v, want a *TransitionError", from, to, err)
			}
		}
	}
	for _, tc := range []struct {
		from, to Status
		want     string
	}{
		{Cleared, Tested, "cleared is final"},
		{ToNotify, Positive, "to-notify cannot move to positive (only to [notified])"},
		{Tested, "lost", `unknown status "lost"`},
	} {
		if err := CheckTransition(tc.from, tc.to); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckTransition(%s, %s) = %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
	if !Notified.Valid() || Status("lost").Valid() || len(Cleared.Next()) != 0 || len(Tested.Next()) != 2 {
		t.Error("Valid or Next wrong")
	}
}

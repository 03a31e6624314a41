package registry

import (
	"errors"
	"testing"
)

// Ensure that the statuses move applied → approved → suspended → approved,
// applied → rejected → applied, and nowhere else.
func TestCheckTransition(t *testing.T) {
	all := []Status{StatusNone, StatusApplied, StatusApproved, StatusSuspended, StatusRejected, "bogus"}
	allowed := map[[2]Status]bool{
		{StatusNone, StatusApproved}:       true,
		{StatusNone, StatusRejected}:       true,
		{StatusApplied, StatusRejected}:    true,
		{StatusRejected, StatusRejected}:   true,
		{StatusRejected, StatusApplied}:    true,
		{StatusApplied, StatusApplied}:     true,
		{StatusApplied, StatusApproved}:    true,
		{StatusApproved, StatusApproved}:   true,
		{StatusApproved, StatusSuspended}:  true,
		{StatusSuspended, StatusApproved}:  true,
		{StatusSuspended, StatusSuspended}: true,
	}
	for _, from := range all {
		for _, to := range all {
			err := CheckTransition(from, to)
			if want := allowed[[2]Status{from, to}]; (err == nil) != want {
				t.Errorf("CheckTransition(%q, %q) = %v, want allowed %v", from, to, err, want)
			}
			var te *TransitionError
			if err != nil && (!errors.As(err, &te) || te.From != from || te.To != to) {
				t.Errorf("CheckTransition(%q, %q): error %#v", from, to, err)
			}
		}
	}
	if got := CheckTransition(StatusApplied, StatusSuspended).Error(); got != "status: a venue cannot go from applied to suspended (applied venues can become approved or rejected)" {
		t.Errorf("message %q", got)
	}
	if got := CheckTransition(StatusRejected, StatusApproved).Error(); got != "status: a venue cannot go from rejected to approved (rejected venues can become applied)" {
		t.Errorf("message %q", got)
	}
	if got := CheckTransition(StatusApproved, "closed").Error(); got != `status: unknown status "closed" (want applied, approved, suspended or rejected)` {
		t.Errorf("message %q", got)
	}
}

// Ensure that ParseStatus takes the four statuses only.
func TestParseStatus(t *testing.T) {
	for in, want := range map[string]Status{"applied": StatusApplied, " Approved": StatusApproved, "SUSPENDED": StatusSuspended, "rejected": StatusRejected} {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "none", "closed", "approve"} {
		if _, err := ParseStatus(in); err == nil {
			t.Errorf("ParseStatus(%q) succeeded", in)
		}
	}
}

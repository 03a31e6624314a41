package form

import (
	"strings"
	"testing"
)

// Ensure that a review takes approved, rejected and suspended only, and
// that a rejection needs a reason of at least four letters or digits.
func TestReview_Validate(t *testing.T) {
	for _, tc := range []struct {
		f    Review
		want string // the refused field's key, "" for none
	}{
		{Review{Status: "approved"}, ""},
		{Review{Status: "suspended"}, ""},
		{Review{Status: "suspended", Reason: "민원 접수"}, ""},
		{Review{Status: "rejected", Reason: "상호 불일치"}, ""},
		{Review{Status: "rejected", Reason: "bad!"}, "admin.review.reason.required"},
		{Review{Status: "rejected"}, "admin.review.reason.required"},
		{Review{Status: "rejected", Reason: "... !!"}, "admin.review.reason.required"},
		{Review{Status: "rejected", Reason: strings.Repeat("가", 400)}, "admin.review.reason.length"},
		{Review{Status: "applied"}, "admin.review.status.invalid"},
		{Review{Status: ""}, "admin.review.status.invalid"},
	} {
		err := tc.f.Validate()
		got := ""
		if fe, ok := err.(*FieldError); ok {
			got = fe.Key
		} else if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%+v: Validate = %q, want %q", tc.f, got, tc.want)
		}
	}
}

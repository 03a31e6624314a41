package form

import (
	"net/http"
	"unicode"
)

// Review is the administration's decision on a venue: the status it moves
// to and the reason its owner is shown.
type Review struct {
	Status string // approved, rejected, suspended
	Reason string
}

// MaxReason bounds a review's reason, in bytes (the central's
// MaxReasonBytes).
const MaxReason = 1000

// NewReview reads the review form of a parsed POST.
func NewReview(r *http.Request) Review {
	return Review{Status: value(r, "status"), Reason: value(r, "reason")}
}

// Validate checks that the status is one a reviewer sets and that a
// rejection has a reason of at least four letters or digits; a reason is
// at most MaxReason bytes.
func (f Review) Validate() error {
	switch f.Status {
	case "approved", "rejected", "suspended":
	default:
		return invalid("status", "admin.review.status.invalid")
	}
	if len(f.Reason) > MaxReason {
		return invalid("reason", "admin.review.reason.length")
	}
	if f.Status == "rejected" && letters(f.Reason) < 4 {
		return invalid("reason", "admin.review.reason.required")
	}
	return nil
}

// letters counts the letters and digits of s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			n++
		}
	}
	return n
}

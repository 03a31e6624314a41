package form

import (
	"errors"
	"strings"
	"testing"
)

// Ensure that a reveal needs a case reference of two letters or digits
// and a reason of four, printable and not too long, as a trace's reveal.
func TestReveal_Validate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		f     Reveal
		field string // "" when valid
	}{
		{"valid", Reveal{CaseRef: "제주-2026-041", Reason: "확진자 접촉자 연락"}, ""},
		{"no case", Reveal{Reason: "확진자 접촉자 연락"}, "case_ref"},
		{"case of one letter", Reveal{CaseRef: "-A-", Reason: "확진자 접촉자 연락"}, "case_ref"},
		{"case too long", Reveal{CaseRef: strings.Repeat("a", MaxCaseRef+1), Reason: "확진자 접촉자 연락"}, "case_ref"},
		{"case with a control character", Reveal{CaseRef: "C-1\x07", Reason: "확진자 접촉자 연락"}, "case_ref"},
		{"no reason", Reveal{CaseRef: "C-1"}, "reason"},
		{"short reason", Reveal{CaseRef: "C-1", Reason: "왜 ?"}, "reason"},
		{"reason too long", Reveal{CaseRef: "C-1", Reason: strings.Repeat("가", MaxRevealReason)}, "reason"},
		{"reason with an invisible character", Reveal{CaseRef: "C-1", Reason: "contact\u200bcall"}, "reason"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			var fe *FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("Validate = %v, want a FieldError of %s", err, tt.field)
			}
		})
	}
}

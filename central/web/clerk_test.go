package web

import "testing"

// Ensure that MaskPhone shows a Korean mobile number's national form with
// the middle hidden, and never more than the last 4 digits of anything
// else.
func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+821012345678":  "010-****-5678",
		"+82111234567":   "011-***-4567",
		"+82101234":      "****1234",
		"+4915112345678": "+49 ****5678",
		"+8613800138000": "+86 ****8000",
		"+16502530000":   "+1 ****0000",
		"+8210":          "****",
		"":               "****",
		"+82 10-12":      "****",
		"821012345678":   "****5678",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// Ensure that Valid leaves out the revoked cards.
func TestVisitor_Valid(t *testing.T) {
	v := Visitor{Cards: []Pass{{Serial: 1, Revoked: true}, {Serial: 2}, {Serial: 3, Revoked: true}}}
	if got := v.Valid(); len(got) != 1 || got[0].Serial != 2 {
		t.Errorf("Valid = %+v, want card 2", got)
	}
	if (Visitor{}).Valid() != nil {
		t.Error("Valid of no cards is not empty")
	}
}

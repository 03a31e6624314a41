package store

import "testing"

// Ensure that one rule names accounts and API tokens, and that the
// reserved names are refused whatever else holds.
func TestValidAccountName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"kim.jiwoo", true}, {"park_cafe-2", true}, {"ab", true},
		{"a", false}, {"", false}, {"Kim", false}, {"1kim", false}, {"kim jiwoo", false},
		{"kim\u200bjiwoo", false}, {"김지우", false}, {string(make([]byte, 65)), false},
	} {
		if got := ValidAccountName(tc.name); got != tc.ok {
			t.Errorf("ValidAccountName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
	for _, n := range ReservedAccountNames {
		if !ValidAccountName(n) || !ReservedAccountName(n) {
			t.Errorf("%q: valid %v reserved %v, want both", n, ValidAccountName(n), ReservedAccountName(n))
		}
	}
	if ReservedAccountName("kim.jiwoo") {
		t.Error("kim.jiwoo reserved")
	}
}

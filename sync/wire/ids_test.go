package wire

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
)

// Ensure that DeviceID gives the pinned id of a fixed key, and that the id
// is valid.
func TestDeviceID_Golden(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	const want = "k-fe812c12f3ab4ce6" // "k-" + hex(SHA-256(pub))[:16], computed independently
	if got := DeviceID(pub); got != want {
		t.Errorf("DeviceID = %q, want %q", got, want)
	}
	if !ValidDeviceID(DeviceID(pub)) {
		t.Errorf("ValidDeviceID(%q) = false", DeviceID(pub))
	}
}

// Ensure that ValidDeviceID accepts exactly "k-" and 16 lower-case hex
// digits.
func TestValidDeviceID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"k-0123456789abcdef", true},
		{"k-0123456789ABCDEF", false},
		{"k-0123456789abcde", false},
		{"k-0123456789abcdef0", false},
		{"x-0123456789abcdef", false},
		{"k-0123456789abcdeg", false},
		{"", false},
	} {
		if got := ValidDeviceID(tc.id); got != tc.want {
			t.Errorf("ValidDeviceID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// Ensure that ValidVenueID accepts 1 to 64 letters, digits, '-' and '_'
// and nothing that could break a subject.
func TestValidVenueID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"v-1234567891", true},
		{"cafe_Halla-2", true},
		{"a", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"v.1", false},
		{"v*", false},
		{"v>", false},
		{"v 1", false},
		{"카페", false},
	} {
		if got := ValidVenueID(tc.id); got != tc.want {
			t.Errorf("ValidVenueID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

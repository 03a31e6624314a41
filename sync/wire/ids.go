package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MaxVenueIDLen bounds a venue id.
const MaxVenueIDLen = 64

// DeviceID derives a device id from its Ed25519 public key: "k-" and the
// first 16 hex digits of the key's SHA-256. The kiosk names itself with
// it; the central recomputes it from the key a kiosk enrolls with.
func DeviceID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "k-" + hex.EncodeToString(sum[:8])
}

// ValidDeviceID reports whether id has the form DeviceID gives: "k-" and
// 16 lower-case hex digits.
func ValidDeviceID(id string) bool {
	h, ok := strings.CutPrefix(id, "k-")
	if !ok || len(h) != 16 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidVenueID reports whether id can name a venue: 1 to 64 letters,
// digits, '-' and '_'. A venue id is one token of a NATS subject, so it
// holds no '.', '*', '>' or space.
func ValidVenueID(id string) bool {
	if len(id) == 0 || len(id) > MaxVenueIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

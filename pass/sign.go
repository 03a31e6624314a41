package pass

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// KeyIDOf returns the key id of a pass-signing public key: the first 4 bytes,
// big-endian, of its SHA-256.
func KeyIDOf(pub ed25519.PublicKey) uint32 {
	sum := sha256.Sum256(pub)
	return binary.BigEndian.Uint32(sum[:4])
}

// PublicKey is a pass-verification key with its key id.
type PublicKey struct {
	// ID is the key id, KeyIDOf(Key).
	ID uint32
	// Key is the Ed25519 public key.
	Key ed25519.PublicKey
}

// Signer issues passes with a province's pass-signing key.
type Signer struct {
	// Private is the Ed25519 pass-signing key.
	Private ed25519.PrivateKey
}

// PublicKey returns the verification key of s.
func (s Signer) PublicKey() PublicKey {
	pub := s.Private.Public().(ed25519.PublicKey)
	return PublicKey{ID: KeyIDOf(pub), Key: pub}
}

// Issue signs p and returns its pass text: [Prefix] followed by Base45. It
// sets p.KeyID to the id of the signing key. Issued and Expires must be whole
// seconds (use [time.Time.Truncate]) between 1970 and the year 36812, and
// Expires must be after Issued; the zone does not matter.
func (s Signer) Issue(p Pass) (string, error) {
	if len(s.Private) != ed25519.PrivateKeySize {
		return "", errors.New("issue pass: no pass-signing key")
	}
	p.KeyID = s.PublicKey().ID
	var b payload
	if err := p.putBody(b[:bodyLen]); err != nil {
		return "", fmt.Errorf("issue pass: %w", err)
	}
	var m [signedLen]byte
	signedMessage(&m, b[:bodyLen])
	copy(b[bodyLen:], ed25519.Sign(s.Private, m[:]))
	return b.format(), nil
}

// ClockSkew is how far in the future a pass's issue time may be before the
// pass is rejected as not yet valid: a kiosk's clock may be behind.
const ClockSkew = 5 * time.Minute

package checkin

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Hash is a link of a device's hash chain.
type Hash [sha256.Size]byte

// Genesis returns h₀ for a device: SHA-256("anshim-chain-v1\x00" || device).
// Binding the start to the device keeps one device's chain from being
// spliced into another's.
func Genesis(device string) Hash {
	h := sha256.New()
	h.Write([]byte("anshim-chain-v1\x00"))
	h.Write([]byte(device))
	var out Hash
	h.Sum(out[:0])
	return out
}

// Next returns hₙ = SHA-256(hₙ₋₁ || canonical bytes of record n).
func Next(prev Hash, canonical []byte) Hash {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(canonical)
	var out Hash
	h.Sum(out[:0])
	return out
}

// Head is a device-signed statement of its chain: "my record Seq ends the
// chain at Hash".
type Head struct {
	Seq  uint64
	Hash Hash
	Sig  []byte // Ed25519 over HeadMessage
}

// HeadMessage is what a device signs for its chain head.
func HeadMessage(device string, seq uint64, h Hash) []byte {
	m := make([]byte, 0, 16+len(device)+1+8+len(h))
	m = append(m, "anshim-head-v1\x00"...)
	m = append(m, device...)
	m = append(m, 0)
	m = binary.BigEndian.AppendUint64(m, seq)
	return append(m, h[:]...)
}

// SignHead signs the chain head of a device.
func SignHead(key ed25519.PrivateKey, device string, seq uint64, h Hash) Head {
	return Head{Seq: seq, Hash: h, Sig: ed25519.Sign(key, HeadMessage(device, seq, h))}
}

// ErrBadHead means a chain head's signature does not verify.
var ErrBadHead = errors.New("chain head signature does not verify")

// Verify checks the head's signature with the device's public key.
func (h Head) Verify(pub ed25519.PublicKey, device string) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, HeadMessage(device, h.Seq, h.Hash), h.Sig) {
		return fmt.Errorf("head at seq %d: %w", h.Seq, ErrBadHead)
	}
	return nil
}

// MarshalBinary encodes the head as seq(8) || hash(32) || sig(64).
func (h Head) MarshalBinary() ([]byte, error) {
	b := binary.BigEndian.AppendUint64(nil, h.Seq)
	b = append(b, h.Hash[:]...)
	return append(b, h.Sig...), nil
}

// UnmarshalBinary decodes a head written by MarshalBinary.
func (h *Head) UnmarshalBinary(b []byte) error {
	if len(b) != 8+len(h.Hash)+ed25519.SignatureSize {
		return fmt.Errorf("%w: chain head of %d bytes", ErrMalformed, len(b))
	}
	h.Seq = binary.BigEndian.Uint64(b)
	copy(h.Hash[:], b[8:])
	h.Sig = append([]byte(nil), b[8+len(h.Hash):]...)
	return nil
}

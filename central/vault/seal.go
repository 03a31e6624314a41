package vault

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/anshim/anshim/internal/text"
)

// Labels of the keys derived from the KEK (HKDF-SHA256, no salt, the
// label as info). Each key has one use.
const (
	labelIndex = "anshim-vault-blind-index-v1"
	labelSeal  = "anshim-vault-identity-seal-v1"
)

// keys are the vault's keys, derived from the KEK.
type keys struct {
	index [32]byte    // HMAC-SHA256 key of the blind index
	seal  cipher.AEAD // XChaCha20-Poly1305 of the sealed identity
}

func deriveKeys(kek *[32]byte) (*keys, error) {
	if kek == nil || *kek == ([32]byte{}) {
		return nil, errors.New("no key-encryption key")
	}
	ik, err := hkdf.Key(sha256.New, kek[:], nil, labelIndex, 32)
	if err != nil {
		return nil, err
	}
	sk, err := hkdf.Key(sha256.New, kek[:], nil, labelSeal, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(sk)
	if err != nil {
		return nil, err
	}
	k := &keys{seal: aead}
	copy(k.index[:], ik)
	return k, nil
}

// blindIndex returns the blind index of a normalised (E.164) phone number:
// HMAC-SHA256 under the index key. Without the KEK it cannot be computed,
// so a copy of the store cannot be searched for a number.
func (k *keys) blindIndex(e164 string) [32]byte {
	m := hmac.New(sha256.New, k.index[:])
	m.Write([]byte(e164))
	var sum [32]byte
	m.Sum(sum[:0])
	return sum
}

// The sealed identity, version 1:
//
//	sealed    = version (1) ‖ nonce (24) ‖ XChaCha20-Poly1305(plaintext, ad)
//	ad        = "anshim-vault-identity-v1\x00" ‖ version ‖ person id
//	plaintext = len(phone) u8 ‖ phone (E.164) ‖ len(name) u8 ‖ name (UTF-8) ‖ zeros to 256 bytes
//
// The nonce is random. The person id in the associated data binds the
// identity to its person: moved to another person's row, it does not open.
// The padding hides the length of the name: every sealed identity is
// sealedLen bytes.
const (
	sealVersion  = 1
	sealAD       = "anshim-vault-identity-v1\x00"
	plaintextLen = 256
	sealedLen    = 1 + chacha20poly1305.NonceSizeX + plaintextLen + chacha20poly1305.Overhead
	// MaxNameBytes is the longest name the vault stores, in bytes of UTF-8.
	MaxNameBytes = 200
)

func sealAssociated(id string) []byte {
	ad := append([]byte(sealAD), sealVersion)
	return append(ad, id...)
}

// sealIdentity seals a checked name and a normalised phone number for the
// person id, reading the nonce from rand.
func (k *keys) sealIdentity(rand io.Reader, id, name, e164 string) ([]byte, error) {
	if len(e164) > 255 || len(name) > MaxNameBytes || 2+len(e164)+len(name) > plaintextLen {
		return nil, errors.New("seal identity: too long")
	}
	pt := make([]byte, 0, plaintextLen)
	pt = append(pt, byte(len(e164)))
	pt = append(pt, e164...)
	pt = append(pt, byte(len(name)))
	pt = append(pt, name...)
	pt = pt[:plaintextLen] // zeros: make gave them

	out := make([]byte, 1+chacha20poly1305.NonceSizeX, sealedLen)
	out[0] = sealVersion
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("seal identity: nonce: %w", err)
	}
	return k.seal.Seal(out, out[1:], pt, sealAssociated(id)), nil
}

// openIdentity opens a sealed identity of the person id.
func (k *keys) openIdentity(id string, sealed []byte) (name, e164 string, err error) {
	if len(sealed) != sealedLen || sealed[0] != sealVersion {
		return "", "", fmt.Errorf("open identity: %d bytes of version %d, want %d bytes of version %d", len(sealed), firstByte(sealed), sealedLen, sealVersion)
	}
	nonce := sealed[1 : 1+chacha20poly1305.NonceSizeX]
	pt, err := k.seal.Open(nil, nonce, sealed[1+len(nonce):], sealAssociated(id))
	if err != nil {
		return "", "", errors.New("open identity: authentication failed (another key-encryption key, or not this person's)")
	}
	n := int(pt[0])
	if 2+n > len(pt) {
		return "", "", errors.New("open identity: malformed")
	}
	e164, rest := string(pt[1:1+n]), pt[1+n:]
	m := int(rest[0])
	if 1+m > len(rest) || strings.Trim(string(rest[1+m:]), "\x00") != "" {
		return "", "", errors.New("open identity: malformed")
	}
	return string(rest[1 : 1+m]), e164, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// checkName returns the name with surrounding white space removed, or a
// *FieldError: a name is 1 to MaxNameBytes bytes of UTF-8 without control
// characters.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalid("name", "empty")
	case !utf8.ValidString(name):
		return "", invalid("name", "not valid UTF-8")
	case len(name) > MaxNameBytes:
		return "", invalid("name", fmt.Sprintf("longer than %d bytes", MaxNameBytes))
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", invalid("name", "holds control characters")
	}
	if err := text.Check(name, 1); err != nil { // invisible characters, such as U+202E
		return "", invalid("name", "holds "+err.Error())
	}
	return name, nil
}

package province

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The kinds of key update, each with its payload.
const (
	// KindPassKey is a pass verification key; Name is its key id (8 hex
	// digits) and the payload the base64 Ed25519 public key, as the
	// anshim_passkeys bucket held it before updates were signed.
	KindPassKey = "pass-key"
	// KindSealingKey is the record-sealing key; Name is "current" and the
	// payload {"id":"…","key":"base64 X25519"}.
	KindSealingKey = "sealing-key"
	// KindNATSCA is the certificate (PEM) of the CA that the central's NATS
	// servers' certificates chain to; Name is "nats".
	KindNATSCA = "nats-ca"
)

// keyUpdateHeader is the first line of a signed key update.
const keyUpdateHeader = "anshim key update v1"

// keyUpdateContext prefixes the signed message: a root signature over a key
// update can never be taken for a signature of anything else.
const keyUpdateContext = "anshim key update signature v1\x00"

// maxKeyUpdatePayload bounds a key update's payload (a CA certificate is
// the largest).
const maxKeyUpdatePayload = 16 << 10

// KeyUpdate is a piece of key material that the central hands to kiosks
// after enrollment, signed by the province's root key: the kiosk takes it
// only if the root key in its bundle verifies the signature.
//
// Its text form, which [FormatKeyUpdate] writes and [ParseKeyUpdate] reads,
// is
//
//	anshim key update v1
//	kind sealing-key
//	name current
//	issued 2026-03-02T09:00:00Z
//	payload eyJpZCI6ImE…
//	sig 0c1d2e3f <base64 Ed25519 signature>
//
// The signature covers "anshim key update signature v1", a zero byte, and
// every line before the sig line (newlines included); the sig line names
// the root key by its id (see [RootKeyID]).
type KeyUpdate struct {
	// Kind is what the payload is: KindPassKey, KindSealingKey or
	// KindNATSCA (1 to 32 of a-z 0-9 -).
	Kind string
	// Name is the key of the update in its bucket (1 to 64 of A-Z a-z 0-9
	// . - _): a pass key's id, "current" for the sealing key. A kiosk takes
	// an update only under this name, so a signed value cannot be moved to
	// another key.
	Name string
	// Issued is when the update was signed, in whole seconds.
	Issued time.Time
	// Payload is the key material (at most 16 KiB).
	Payload []byte
}

// SignedKeyUpdate is a key update with the root's signature.
type SignedKeyUpdate struct {
	KeyUpdate
	// RootKeyID is the id of the root key that signed it.
	RootKeyID string
	// Signature is the Ed25519 signature of the update's message.
	Signature []byte
}

// check checks the fields of u.
func (u *KeyUpdate) check() error {
	if !token(u.Kind, 32, "abcdefghijklmnopqrstuvwxyz0123456789-") {
		return fmt.Errorf("key update: kind %q: want 1 to 32 of a-z 0-9 -", u.Kind)
	}
	if !token(u.Name, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") {
		return fmt.Errorf("key update: name %q: want 1 to 64 of A-Z a-z 0-9 . - _", u.Name)
	}
	if u.Issued.IsZero() || !u.Issued.Equal(u.Issued.Truncate(time.Second)) || u.Issued.Year() < 2000 || u.Issued.Year() > 9999 {
		return fmt.Errorf("key update: issued %v: want a time in whole seconds", u.Issued)
	}
	if len(u.Payload) == 0 || len(u.Payload) > maxKeyUpdatePayload {
		return fmt.Errorf("key update: payload of %d bytes: want 1 to %d", len(u.Payload), maxKeyUpdatePayload)
	}
	return nil
}

// token reports whether s is 1 to max bytes from allowed.
func token(s string, max int, allowed string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if strings.IndexByte(allowed, c) < 0 {
			return false
		}
	}
	return true
}

// body returns the signed lines of u.
func (u *KeyUpdate) body() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nkind %s\nname %s\nissued %s\npayload %s\n", keyUpdateHeader, u.Kind, u.Name,
		u.Issued.UTC().Format(time.RFC3339), base64.StdEncoding.EncodeToString(u.Payload))
	return b.Bytes()
}

// message returns what the root key signs for a body.
func message(body []byte) []byte {
	return append([]byte(keyUpdateContext), body...)
}

// SignKeyUpdate signs u with the root key of k. It fails with
// [ErrNoRootKey] for keys made before the root key existed.
func (k *Keys) SignKeyUpdate(u KeyUpdate) (*SignedKeyUpdate, error) {
	if k.root == nil {
		return nil, ErrNoRootKey
	}
	u.Issued = u.Issued.UTC().Truncate(time.Second)
	if err := u.check(); err != nil {
		return nil, err
	}
	return &SignedKeyUpdate{
		KeyUpdate: u,
		RootKeyID: k.RootKeyID(),
		Signature: ed25519.Sign(k.root, message(u.body())),
	}, nil
}

// FormatKeyUpdate returns the text form of a signed key update.
func FormatKeyUpdate(s *SignedKeyUpdate) []byte {
	b := s.body()
	return fmt.Appendf(b, "sig %s %s\n", s.RootKeyID, base64.StdEncoding.EncodeToString(s.Signature))
}

// ParseKeyUpdate parses the text form of a signed key update, without
// verifying the signature (see [Bundle.OpenKeyUpdate]). It rejects text
// that [FormatKeyUpdate] would not write byte for byte.
func ParseKeyUpdate(text []byte) (*SignedKeyUpdate, error) {
	if len(text) > 2*maxKeyUpdatePayload+1024 {
		return nil, errors.New("key update: too long")
	}
	if !bytes.HasSuffix(text, []byte("\n")) {
		return nil, errors.New("key update: truncated (no final newline)")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) != 6 || lines[0] != keyUpdateHeader {
		return nil, fmt.Errorf("key update: want 6 lines starting with %q", keyUpdateHeader)
	}
	field := func(i int, name string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], name+" ")
		if !ok {
			return "", fmt.Errorf("key update: line %d: want %q", i+1, name+" …")
		}
		return v, nil
	}
	var s SignedKeyUpdate
	var err error
	if s.Kind, err = field(1, "kind"); err != nil {
		return nil, err
	}
	if s.Name, err = field(2, "name"); err != nil {
		return nil, err
	}
	issued, err := field(3, "issued")
	if err != nil {
		return nil, err
	}
	if s.Issued, err = time.Parse(time.RFC3339, issued); err != nil {
		return nil, fmt.Errorf("key update: issued: %w", err)
	}
	payload, err := field(4, "payload")
	if err != nil {
		return nil, err
	}
	if s.Payload, err = base64.StdEncoding.Strict().DecodeString(payload); err != nil {
		return nil, fmt.Errorf("key update: payload: %w", err)
	}
	sig, err := field(5, "sig")
	if err != nil {
		return nil, err
	}
	id, sigText, ok := strings.Cut(sig, " ")
	if raw, err := hex.DecodeString(id); !ok || err != nil || len(raw) != 4 {
		return nil, errors.New("key update: sig: want a root key id (8 hex digits) and a signature")
	}
	s.RootKeyID = id
	if s.Signature, err = base64.StdEncoding.Strict().DecodeString(sigText); err != nil || len(s.Signature) != ed25519.SignatureSize {
		return nil, errors.New("key update: sig: want a base64 Ed25519 signature")
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	if !bytes.Equal(FormatKeyUpdate(&s), text) {
		return nil, errors.New("key update: not in canonical form")
	}
	return &s, nil
}

// Errors of [Bundle.OpenKeyUpdate] that a kiosk tells apart in its log.
var (
	// ErrUnsigned: the value is not a signed key update at all (for
	// example a bare key, as values were before they were signed).
	ErrUnsigned = errors.New("not a signed key update")
	// ErrBadSignature: the update is not signed by the bundle's root key.
	ErrBadSignature = errors.New("key update not signed by the province's root key")
)

// OpenKeyUpdate parses a signed key update, verifies it with the bundle's
// root key and checks that it is of kind and name. It fails with
// [ErrNoRootKey] for a bundle without a root key, [ErrUnsigned] for text
// that is not a signed key update, and [ErrBadSignature] for a signature
// that the root key does not verify.
func (b *Bundle) OpenKeyUpdate(text []byte, kind, name string) (*KeyUpdate, error) {
	if b.RootKey == nil {
		return nil, ErrNoRootKey
	}
	s, err := ParseKeyUpdate(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsigned, err)
	}
	if s.RootKeyID != RootKeyID(b.RootKey) || !ed25519.Verify(b.RootKey, message(s.body()), s.Signature) {
		return nil, fmt.Errorf("%w (signed by key %s, the bundle's root is %s)", ErrBadSignature, s.RootKeyID, RootKeyID(b.RootKey))
	}
	if s.Kind != kind || s.Name != name {
		return nil, fmt.Errorf("key update: a %s %q, want a %s %q", s.Kind, s.Name, kind, name)
	}
	return &s.KeyUpdate, nil
}

package pass

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"github.com/anshim/anshim/internal/base45"
	"time"
)

// Prefix starts every pass text. It is in the QR code alphanumeric set and
// names the format, so a scanner can tell a pass from any other code.
const Prefix = "AN1:"

// Version is the binary format version that this package writes and reads.
const Version = 1

// Kind says what carries a pass.
type Kind uint8

// The kinds of pass.
const (
	// KindApp is a pass shown on the screen of the visitor's phone.
	KindApp Kind = 1
	// KindCard is a pass printed on a card, for visitors without a smartphone.
	KindCard Kind = 2
)

// String returns "app" or "card", or "kind(N)" for an unknown kind.
func (k Kind) String() string {
	switch k {
	case KindApp:
		return "app"
	case KindCard:
		return "card"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// valid reports whether k is a known kind.
func (k Kind) valid() bool { return k == KindApp || k == KindCard }

// ParseKind parses "app" or "card".
func ParseKind(s string) (Kind, error) {
	switch s {
	case "app":
		return KindApp, nil
	case "card":
		return KindCard, nil
	}
	return 0, fmt.Errorf("unknown pass kind %q (want app or card)", s)
}

// Pass is the content of a visitor pass.
type Pass struct {
	// KeyID identifies the signing key: the first 4 bytes, big-endian, of the
	// SHA-256 of the Ed25519 public key (see [KeyIDOf]).
	KeyID uint32
	// Pseudonym is the person's random 128-bit pseudonym.
	Pseudonym [16]byte
	// Kind says whether the pass is shown by the app or printed on a card.
	Kind Kind
	// Serial is the card serial of a card pass; an app pass may use it as an
	// issue counter.
	Serial uint32
	// Issued is when the pass was issued, to the second, in UTC.
	Issued time.Time
	// Expires is when the pass stops being valid, to the second, in UTC.
	Expires time.Time
}

// String describes p without its pseudonym, for logs.
func (p Pass) String() string {
	return fmt.Sprintf("%v pass serial %d key %08x valid %s to %s", p.Kind, p.Serial, p.KeyID,
		p.Issued.UTC().Format(time.RFC3339), p.Expires.UTC().Format(time.RFC3339))
}

// revocationContext separates revocation ids from every other SHA-256 use.
const revocationContext = "anshim-revocation-v1\x00"

// revocationKey is the binary form of a revocation id.
type revocationKey [16]byte

// revocationKey returns the binary revocation id of p.
func (p *Pass) revocationKey() revocationKey {
	var b [len(revocationContext) + 16 + 1 + 4]byte
	n := copy(b[:], revocationContext)
	n += copy(b[n:], p.Pseudonym[:])
	b[n] = byte(p.Kind)
	binary.BigEndian.PutUint32(b[n+1:], p.Serial)
	sum := sha256.Sum256(b[:])
	return revocationKey(sum[:16])
}

// RevocationID returns the id under which p is listed in a revocation list:
// 32 lower-case hex digits of a SHA-256 over a domain-separation string and the
// pass's pseudonym, kind and serial. It does not depend on the signing key or
// the validity period, so a card keeps its id when it is re-signed; and it
// does not reveal the pseudonym.
func (p *Pass) RevocationID() string {
	k := p.revocationKey()
	return hex.EncodeToString(k[:])
}

// The binary layout of a version 1 pass.
const (
	offVersion   = 0
	offKeyID     = 1
	offPseudonym = 5
	offKind      = 21
	offSerial    = 22
	offIssued    = 26
	offExpires   = 31
	bodyLen      = 36
	payloadLen   = bodyLen + ed25519.SignatureSize // 100
	encodedLen   = payloadLen / 2 * 3              // Base45 characters: 150
	textLen      = len(Prefix) + encodedLen

	// maxUnix is the largest time a 5-byte field holds (year 36812).
	maxUnix = 1<<40 - 1
)

// signatureContext is signed before the body of every pass.
const signatureContext = "anshim-pass-v1\x00"

// signedLen is the length of the message that the signature covers.
const signedLen = len(signatureContext) + bodyLen

// payload is the binary form of a pass: body and signature.
type payload [payloadLen]byte

func putUint40(b []byte, v uint64) {
	_ = b[4]
	b[0], b[1], b[2], b[3], b[4] = byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func uint40(b []byte) uint64 {
	_ = b[4]
	return uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
}

// checkTime returns the Unix seconds of t, which must have no fraction of a
// second and fit the 5-byte field.
func checkTime(name string, t time.Time) (uint64, error) {
	if t.IsZero() {
		return 0, fmt.Errorf("%s time not set", name)
	}
	if t.Nanosecond() != 0 {
		return 0, fmt.Errorf("%s time %s has a fraction of a second", name, t.Format(time.RFC3339Nano))
	}
	u := t.Unix()
	if u < 0 || u > maxUnix {
		return 0, fmt.Errorf("%s time %s out of range", name, t.Format(time.RFC3339))
	}
	return uint64(u), nil
}

// putBody writes the version 1 body of p into b, after checking that p can be
// encoded.
func (p *Pass) putBody(b []byte) error {
	if !p.Kind.valid() {
		return fmt.Errorf("invalid pass kind %d", uint8(p.Kind))
	}
	issued, err := checkTime("issued", p.Issued)
	if err != nil {
		return err
	}
	expires, err := checkTime("expiry", p.Expires)
	if err != nil {
		return err
	}
	if expires <= issued {
		return fmt.Errorf("expiry %s is not after issue time %s",
			p.Expires.UTC().Format(time.RFC3339), p.Issued.UTC().Format(time.RFC3339))
	}
	_ = b[bodyLen-1]
	b[offVersion] = Version
	binary.BigEndian.PutUint32(b[offKeyID:], p.KeyID)
	copy(b[offPseudonym:offKind], p.Pseudonym[:])
	b[offKind] = byte(p.Kind)
	binary.BigEndian.PutUint32(b[offSerial:], p.Serial)
	putUint40(b[offIssued:], issued)
	putUint40(b[offExpires:], expires)
	return nil
}

// signedMessage writes the message that the signature covers into m.
func signedMessage(m *[signedLen]byte, body []byte) {
	copy(m[copy(m[:], signatureContext):], body[:bodyLen])
}

// format returns the pass text of a payload.
func (b *payload) format() string {
	var t [textLen]byte
	copy(t[:], Prefix)
	base45Append(t[len(Prefix):len(Prefix)], b[:])
	return string(t[:])
}

// parse decodes text into b and returns its contents. It checks the structure
// only, not the signature.
func parse(text string, b *payload) (Pass, error) {
	if len(text) < len(Prefix) || text[:len(Prefix)] != Prefix {
		return Pass{}, newError(ReasonMalformed, "no %q prefix", Prefix)
	}
	s := text[len(Prefix):]

	// Read the version first, so that a pass of another version (maybe of
	// another length) is reported as such.
	var version int
	switch {
	case len(s) < 2:
		return Pass{}, newError(ReasonTruncated, "%d of %d characters", len(s), encodedLen)
	case len(s) == 2:
		var v [1]byte
		if _, err := base45DecodeInto(v[:], s); err != nil {
			return Pass{}, newError(ReasonMalformed, "%w", err)
		}
		version = int(v[0])
	default:
		var v [2]byte
		if _, err := base45DecodeInto(v[:], s[:3]); err != nil {
			return Pass{}, newError(ReasonMalformed, "%w", err)
		}
		version = int(v[0])
	}
	if version != Version {
		return Pass{}, newError(ReasonUnsupported, "version %d (want %d)", version, Version)
	}
	if len(s) < encodedLen {
		// Report a bad character before a short length: a damaged text is
		// malformed even when it is also short.
		for i := 0; i < len(s); i++ {
			if !base45.IsAlphabet(s[i]) {
				return Pass{}, newError(ReasonMalformed, "%w", base45InvalidCharError(i))
			}
		}
		return Pass{}, newError(ReasonTruncated, "%d of %d characters", len(s), encodedLen)
	}
	if len(s) > encodedLen {
		return Pass{}, newError(ReasonMalformed, "%d characters after the pass", len(s)-encodedLen)
	}
	if _, err := base45DecodeInto(b[:], s); err != nil {
		return Pass{}, newError(ReasonMalformed, "%w", err)
	}

	p := Pass{
		KeyID:   binary.BigEndian.Uint32(b[offKeyID:]),
		Kind:    Kind(b[offKind]),
		Serial:  binary.BigEndian.Uint32(b[offSerial:]),
		Issued:  time.Unix(int64(uint40(b[offIssued:])), 0).UTC(),
		Expires: time.Unix(int64(uint40(b[offExpires:])), 0).UTC(),
	}
	copy(p.Pseudonym[:], b[offPseudonym:offKind])
	if !p.Kind.valid() {
		return Pass{}, newError(ReasonMalformed, "unknown kind %d", uint8(p.Kind))
	}
	if !p.Expires.After(p.Issued) {
		return Pass{}, newError(ReasonMalformed, "expiry is not after issue time")
	}

	// Strict Base45 decoding and a fixed layout make the encoding unique;
	// check it anyway, since the signature covers the bytes, not the text.
	var e [encodedLen]byte
	if string(base45Append(e[:0], b[:])) != s {
		return Pass{}, newError(ReasonMalformed, "non-canonical encoding")
	}
	return p, nil
}

// Parse parses a pass text without checking its signature, key or validity
// period: use a [Verifier] for that. It returns the pass, the exact message
// that the signature covers (the signature context followed by the binary
// body) and the 64-byte signature. Errors are [*Error] values with reason
// [ReasonMalformed], [ReasonTruncated] or [ReasonUnsupported].
func Parse(text string) (p Pass, signed, sig []byte, err error) {
	var b payload
	p, err = parse(text, &b)
	if err != nil {
		return Pass{}, nil, nil, err
	}
	var m [signedLen]byte
	signedMessage(&m, b[:bodyLen])
	return p, m[:], b[bodyLen:], nil
}

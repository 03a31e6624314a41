// Package displaycode is the format of a kiosk's rotating display code: the
// code a kiosk in display mode shows on its screen for the visitor's app to
// scan. The kiosk signs it with its device key; the central checks the
// signature against the enrolled device, the venue and the period.
//
// # Format (version 1)
//
// The text is "AD1:" followed by the Base45 (RFC 9285) of:
//
//	version   u8   = 1
//	device    u8 length + bytes (1..64)
//	venue     u8 length + bytes (1..64)
//	seconds   u16 big-endian: the period length in seconds (1..3600)
//	period    u64 big-endian: Unix seconds / period length
//	signature 64 bytes: Ed25519 over "anshim-display-v1\x00" || the bytes above
//
// The signature context differs from a pass's, a poster's and a chain
// head's, so no signature of one can pass for another. Parsing is strict:
// a text that does not re-encode to the same bytes is refused.
package displaycode

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/base45"
)

// Prefix starts every display code: in the QR code alphanumeric set, and
// distinct from a pass's "AN1:" and a poster's "AV1:".
const Prefix = "AD1:"

// Version is the binary format version.
const Version = 1

// Limits of the format.
const (
	MaxIDLen      = 64
	MaxPeriodSecs = 3600
	context       = "anshim-display-v1\x00"
)

// Errors of Parse and Verify.
var (
	// ErrMalformed: not a display code, or a damaged one.
	ErrMalformed = errors.New("malformed display code")
	// ErrBadSignature: the signature does not match the device's key.
	ErrBadSignature = errors.New("display code signature does not verify")
)

// Code is the content of a display code.
type Code struct {
	Device string        // the kiosk's device id
	Venue  string        // the venue the kiosk is enrolled at
	Length time.Duration // the period length, whole seconds
	Period uint64        // Unix seconds / Length
}

// PeriodOf returns the number of the period of length d that holds t.
func PeriodOf(t time.Time, d time.Duration) uint64 {
	secs := int64(d / time.Second)
	if secs <= 0 || t.Unix() < 0 {
		return 0
	}
	return uint64(t.Unix() / secs)
}

// Start returns when c's period starts.
func (c Code) Start() time.Time {
	return time.Unix(int64(c.Period)*int64(c.Length/time.Second), 0).UTC()
}

// End returns when c's period ends (the next one starts).
func (c Code) End() time.Time { return c.Start().Add(c.Length) }

func (c Code) check() error {
	secs := c.Length / time.Second
	switch {
	case len(c.Device) == 0 || len(c.Device) > MaxIDLen:
		return fmt.Errorf("%w: device id length %d", ErrMalformed, len(c.Device))
	case len(c.Venue) == 0 || len(c.Venue) > MaxIDLen:
		return fmt.Errorf("%w: venue id length %d", ErrMalformed, len(c.Venue))
	case c.Length%time.Second != 0 || secs < 1 || secs > MaxPeriodSecs:
		return fmt.Errorf("%w: period length %v (want whole seconds, 1s to 1h)", ErrMalformed, c.Length)
	}
	return nil
}

func (c Code) body() []byte {
	b := make([]byte, 0, 1+1+len(c.Device)+1+len(c.Venue)+2+8)
	b = append(b, Version, byte(len(c.Device)))
	b = append(b, c.Device...)
	b = append(b, byte(len(c.Venue)))
	b = append(b, c.Venue...)
	b = binary.BigEndian.AppendUint16(b, uint16(c.Length/time.Second))
	return binary.BigEndian.AppendUint64(b, c.Period)
}

func message(body []byte) []byte {
	return append([]byte(context), body...)
}

// Sign returns the display code text of c signed with the device's key.
func Sign(key ed25519.PrivateKey, c Code) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	if len(key) != ed25519.PrivateKeySize {
		return "", errors.New("display code: no device key")
	}
	body := c.body()
	b := append(body, ed25519.Sign(key, message(body))...)
	return Prefix + base45.Encode(b), nil
}

// Is reports whether text looks like a display code (its prefix).
func Is(text string) bool { return strings.HasPrefix(text, Prefix) }

// Parse decodes a display code without checking its signature: the caller
// looks up the device's key and calls Verify.
func Parse(text string) (Code, error) {
	c, _, _, err := parse(text)
	return c, err
}

func parse(text string) (c Code, body, sig []byte, err error) {
	s, ok := strings.CutPrefix(text, Prefix)
	if !ok {
		return c, nil, nil, fmt.Errorf("%w: no %q prefix", ErrMalformed, Prefix)
	}
	b, err := base45.Decode(s)
	if err != nil {
		return c, nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if base45.Encode(b) != s {
		return c, nil, nil, fmt.Errorf("%w: non-canonical encoding", ErrMalformed)
	}
	r := b
	take := func(n int) []byte {
		if n > len(r) {
			err = fmt.Errorf("%w: truncated", ErrMalformed)
			return make([]byte, n)
		}
		v := r[:n]
		r = r[n:]
		return v
	}
	if v := take(1)[0]; err == nil && v != Version {
		return c, nil, nil, fmt.Errorf("%w: version %d", ErrMalformed, v)
	}
	c.Device = string(take(int(take(1)[0])))
	c.Venue = string(take(int(take(1)[0])))
	c.Length = time.Duration(binary.BigEndian.Uint16(take(2))) * time.Second
	c.Period = binary.BigEndian.Uint64(take(8))
	sig = take(ed25519.SignatureSize)
	if err != nil {
		return Code{}, nil, nil, err
	}
	if len(r) != 0 {
		return Code{}, nil, nil, fmt.Errorf("%w: %d bytes after the signature", ErrMalformed, len(r))
	}
	if err := c.check(); err != nil {
		return Code{}, nil, nil, err
	}
	return c, b[:len(b)-len(sig)], sig, nil
}

// Verify parses text and checks its signature with the device's public
// key. It does not check that the key is the one of c.Device, nor the
// period: the caller knows the enrolled devices and the time.
func Verify(pub ed25519.PublicKey, text string) (Code, error) {
	c, body, sig, err := parse(text)
	if err != nil {
		return Code{}, err
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, message(body), sig) {
		return Code{}, ErrBadSignature
	}
	return c, nil
}

// Fresh reports whether c's period is the period of now or one next to it
// (clock differences between kiosk, phone and central, and a code scanned
// just as it changed).
func (c Code) Fresh(now time.Time) bool {
	cur := PeriodOf(now, c.Length)
	return c.Period+1 >= cur && c.Period <= cur+1
}

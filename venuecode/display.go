package venuecode

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/base45"
)

// DisplayPrefix starts every display code: in the QR code alphanumeric
// set, and distinct from a pass's "AN1:" and a poster's "AV1:".
const DisplayPrefix = "AD1:"

// DisplayVersion is the binary format version of a display code.
const DisplayVersion = 1

// Limits of the display code format.
const (
	MaxIDLen       = 64
	MaxPeriodSecs  = 3600
	displayContext = "anshim-display-v1\x00"
)

// Errors of ParseDisplay and VerifyDisplay.
var (
	// ErrDisplayMalformed: not a display code, or a damaged one.
	ErrDisplayMalformed = errors.New("malformed display code")
	// ErrDisplaySignature: the signature does not match the device's key.
	ErrDisplaySignature = errors.New("display code signature does not verify")
)

// Display is the content of a display code.
type Display struct {
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
func (c Display) Start() time.Time {
	return time.Unix(int64(c.Period)*int64(c.Length/time.Second), 0).UTC()
}

// End returns when c's period ends (the next one starts).
func (c Display) End() time.Time { return c.Start().Add(c.Length) }

func (c Display) check() error {
	secs := c.Length / time.Second
	switch {
	case len(c.Device) == 0 || len(c.Device) > MaxIDLen:
		return fmt.Errorf("%w: device id length %d", ErrDisplayMalformed, len(c.Device))
	case len(c.Venue) == 0 || len(c.Venue) > MaxIDLen:
		return fmt.Errorf("%w: venue id length %d", ErrDisplayMalformed, len(c.Venue))
	case c.Length%time.Second != 0 || secs < 1 || secs > MaxPeriodSecs:
		return fmt.Errorf("%w: period length %v (want whole seconds, 1s to 1h)", ErrDisplayMalformed, c.Length)
	}
	return nil
}

func (c Display) body() []byte {
	b := make([]byte, 0, 1+1+len(c.Device)+1+len(c.Venue)+2+8)
	b = append(b, DisplayVersion, byte(len(c.Device)))
	b = append(b, c.Device...)
	b = append(b, byte(len(c.Venue)))
	b = append(b, c.Venue...)
	b = binary.BigEndian.AppendUint16(b, uint16(c.Length/time.Second))
	return binary.BigEndian.AppendUint64(b, c.Period)
}

func displayMessage(body []byte) []byte {
	return append([]byte(displayContext), body...)
}

// SignDisplay returns the display code text of c signed with the device's
// key.
func SignDisplay(key ed25519.PrivateKey, c Display) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	if len(key) != ed25519.PrivateKeySize {
		return "", errors.New("display code: no device key")
	}
	body := c.body()
	b := append(body, ed25519.Sign(key, displayMessage(body))...)
	return DisplayPrefix + base45.Encode(b), nil
}

// IsDisplay reports whether text looks like a display code (its prefix).
func IsDisplay(text string) bool { return strings.HasPrefix(text, DisplayPrefix) }

// ParseDisplay decodes a display code without checking its signature: the
// caller looks up the device's key and calls VerifyDisplay.
func ParseDisplay(text string) (Display, error) {
	c, _, _, err := parseDisplay(text)
	return c, err
}

func parseDisplay(text string) (c Display, body, sig []byte, err error) {
	s, ok := strings.CutPrefix(text, DisplayPrefix)
	if !ok {
		return c, nil, nil, fmt.Errorf("%w: no %q prefix", ErrDisplayMalformed, DisplayPrefix)
	}
	b, err := base45.Decode(s)
	if err != nil {
		return c, nil, nil, fmt.Errorf("%w: %v", ErrDisplayMalformed, err)
	}
	if base45.Encode(b) != s {
		return c, nil, nil, fmt.Errorf("%w: non-canonical encoding", ErrDisplayMalformed)
	}
	r := b
	take := func(n int) []byte {
		if n > len(r) {
			err = fmt.Errorf("%w: truncated", ErrDisplayMalformed)
			return make([]byte, n)
		}
		v := r[:n]
		r = r[n:]
		return v
	}
	if v := take(1)[0]; err == nil && v != DisplayVersion {
		return c, nil, nil, fmt.Errorf("%w: version %d", ErrDisplayMalformed, v)
	}
	c.Device = string(take(int(take(1)[0])))
	c.Venue = string(take(int(take(1)[0])))
	c.Length = time.Duration(binary.BigEndian.Uint16(take(2))) * time.Second
	c.Period = binary.BigEndian.Uint64(take(8))
	sig = take(ed25519.SignatureSize)
	if err != nil {
		return Display{}, nil, nil, err
	}
	if len(r) != 0 {
		return Display{}, nil, nil, fmt.Errorf("%w: %d bytes after the signature", ErrDisplayMalformed, len(r))
	}
	if err := c.check(); err != nil {
		return Display{}, nil, nil, err
	}
	return c, b[:len(b)-len(sig)], sig, nil
}

// VerifyDisplay parses text and checks its signature with the device's public
// key. It does not check that the key is the one of c.Device, nor the
// period: the caller knows the enrolled devices and the time.
func VerifyDisplay(pub ed25519.PublicKey, text string) (Display, error) {
	c, body, sig, err := parseDisplay(text)
	if err != nil {
		return Display{}, err
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, displayMessage(body), sig) {
		return Display{}, ErrDisplaySignature
	}
	return c, nil
}

// Fresh reports whether c's period is the period of now or one next to it
// (clock differences between kiosk, phone and central, and a code scanned
// just as it changed).
func (c Display) Fresh(now time.Time) bool {
	cur := PeriodOf(now, c.Length)
	return c.Period+1 >= cur && c.Period <= cur+1
}

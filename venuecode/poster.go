package venuecode

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anshim/anshim/internal/base45"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
)

// PosterPrefix starts every poster code. Like a pass's "AN1:" it is in the
// QR code alphanumeric set and names the format, so that an app tells a
// poster from a pass or a kiosk's rotating code.
const PosterPrefix = "AV1:"

// IsPoster reports whether text looks like a poster code (its prefix).
func IsPoster(text string) bool { return strings.HasPrefix(text, PosterPrefix) }

// PosterVersion is the binary format version of a poster code.
const PosterVersion = 1

// The binary layout of a version 1 poster code, before Base45:
//
//	offset size field
//	     0    1 version (1)
//	     1    4 key id of the pass-signing key (see pass.KeyIDOf), big-endian
//	     5    5 issued: Unix seconds, big-endian
//	    10    1 n: length of the venue id, 1 to 64
//	    11    n venue id (see wire.ValidVenueID)
//	  11+n   64 Ed25519 signature of "anshim-poster-v1\x00" || bytes 0..11+n
//
// The signature context differs from a pass's ("anshim-pass-v1\x00"), so
// no poster signature can pass for a pass's and the other way round,
// though both come from the same key.
const (
	posterOffKeyID  = 1
	posterOffIssued = 5
	posterOffLen    = 10
	posterOffVenue  = 11
	posterContext   = "anshim-poster-v1\x00"
	maxUnix40       = 1<<40 - 1
)

// Poster is the content of a poster code.
type Poster struct {
	// KeyID is the id of the pass-signing key that signed it.
	KeyID uint32
	// Venue is the venue's id.
	Venue string
	// Issued is when the poster was made, to the second, in UTC: a venue
	// whose poster was copied gets a new one, and codes issued before it
	// can be refused.
	Issued time.Time
}

// Reasons of a PosterError, the same codes as a pass's (see pass.Reason).
const (
	PosterMalformed    = pass.ReasonMalformed
	PosterTruncated    = pass.ReasonTruncated
	PosterUnsupported  = pass.ReasonUnsupported
	PosterUnknownKey   = pass.ReasonUnknownKey
	PosterBadSignature = pass.ReasonBadSignature
)

// PosterError is the error of a poster code that cannot be parsed or
// verified. Its message never holds the code's text.
type PosterError struct {
	// Reason is one of the Poster reason constants.
	Reason string
	Err    error
}

func (e *PosterError) Error() string {
	if e.Err == nil {
		return "poster: " + e.Reason
	}
	return "poster: " + e.Reason + ": " + e.Err.Error()
}

func (e *PosterError) Unwrap() error { return e.Err }

func posterError(reason, format string, args ...any) error {
	return &PosterError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// IssuePoster returns the poster code of venue, signed by signer (the
// province's current pass-signing key) and issued at now, to the second.
func IssuePoster(signer pass.Signer, venue string, now time.Time) (string, error) {
	if len(signer.Private) != ed25519.PrivateKeySize {
		return "", errors.New("issue poster: no pass-signing key")
	}
	if !wire.ValidVenueID(venue) {
		return "", fmt.Errorf("issue poster: venue id %q: want 1 to 64 letters, digits, '-' or '_'", venue)
	}
	issued := now.Unix()
	if issued < 0 || issued > maxUnix40 {
		return "", fmt.Errorf("issue poster: time %s out of range", now.UTC().Format(time.RFC3339))
	}
	body := posterBody(signer.PublicKey().ID, uint64(issued), venue)
	sig := ed25519.Sign(signer.Private, posterMessage(body))
	return PosterPrefix + string(base45.Append(nil, append(body, sig...))), nil
}

// posterBody returns the signed bytes of a poster code.
func posterBody(keyID uint32, issued uint64, venue string) []byte {
	b := make([]byte, posterOffVenue, posterOffVenue+len(venue)+ed25519.SignatureSize)
	b[0] = PosterVersion
	binary.BigEndian.PutUint32(b[posterOffKeyID:], keyID)
	for i := range 5 {
		b[posterOffIssued+i] = byte(issued >> (8 * (4 - i)))
	}
	b[posterOffLen] = byte(len(venue))
	return append(b, venue...)
}

// posterMessage returns what the signature of body covers.
func posterMessage(body []byte) []byte {
	return append([]byte(posterContext), body...)
}

// ParsePoster parses a poster code without checking its signature: use
// VerifyPoster for that. Parsing is strict: a text is accepted only if it
// is exactly what IssuePoster makes of its contents. Errors are
// [*PosterError] values with reason malformed, truncated or
// unsupported-version.
func ParsePoster(text string) (Poster, error) {
	p, _, err := parsePoster(text)
	return p, err
}

// parsePoster is ParsePoster, returning the signed bytes and the
// signature too (body ‖ signature).
func parsePoster(text string) (Poster, []byte, error) {
	if len(text) < len(PosterPrefix) || text[:len(PosterPrefix)] != PosterPrefix {
		return Poster{}, nil, posterError(PosterMalformed, "no %q prefix", PosterPrefix)
	}
	s := text[len(PosterPrefix):]
	// The version first, so that a code of another version is reported as
	// such whatever its length.
	if len(s) < 2 {
		return Poster{}, nil, posterError(PosterTruncated, "%d characters", len(s))
	}
	head := s
	if len(s) > 3 {
		head = s[:3]
	}
	v, err := base45.Decode(head)
	if err != nil {
		return Poster{}, nil, posterError(PosterMalformed, "%w", err)
	}
	if v[0] != PosterVersion {
		return Poster{}, nil, posterError(PosterUnsupported, "version %d (want %d)", v[0], PosterVersion)
	}
	b, err := base45.Decode(s)
	var inv base45.InvalidCharError
	switch {
	case errors.As(err, &inv), errors.Is(err, base45.ErrOverflow):
		return Poster{}, nil, posterError(PosterMalformed, "%w", err)
	case errors.Is(err, base45.ErrLength):
		// A bad character makes a text malformed even when it is short.
		for i := 0; i < len(s); i++ {
			if !base45.IsAlphabet(s[i]) {
				return Poster{}, nil, posterError(PosterMalformed, "%w", base45.InvalidCharError(i))
			}
		}
		return Poster{}, nil, posterError(PosterTruncated, "%d characters", len(s))
	}
	if len(b) <= posterOffVenue {
		return Poster{}, nil, posterError(PosterTruncated, "%d bytes", len(b))
	}
	n := int(b[posterOffLen])
	if n == 0 || n > 64 {
		return Poster{}, nil, posterError(PosterMalformed, "venue id of %d bytes", n)
	}
	want := posterOffVenue + n + ed25519.SignatureSize
	if len(b) < want {
		return Poster{}, nil, posterError(PosterTruncated, "%d of %d bytes", len(b), want)
	}
	if len(b) > want {
		return Poster{}, nil, posterError(PosterMalformed, "%d bytes after the code", len(b)-want)
	}
	venue := string(b[posterOffVenue : posterOffVenue+n])
	if !wire.ValidVenueID(venue) {
		return Poster{}, nil, posterError(PosterMalformed, "venue id is not 1 to 64 letters, digits, '-' or '_'")
	}
	var issued uint64
	for _, c := range b[posterOffIssued:posterOffLen] {
		issued = issued<<8 | uint64(c)
	}
	p := Poster{
		KeyID:  binary.BigEndian.Uint32(b[posterOffKeyID:]),
		Venue:  venue,
		Issued: time.Unix(int64(issued), 0).UTC(),
	}
	// Strict Base45 makes the encoding unique; check anyway, since the
	// signature covers the bytes, not the text.
	if string(base45.Append(nil, b)) != s {
		return Poster{}, nil, posterError(PosterMalformed, "non-canonical encoding")
	}
	return p, b, nil
}

// VerifyPoster parses a poster code and checks its signature against the
// province's pass keys (all of them: posters outlive key rotations) and
// returns the venue's id. Errors are [*PosterError] values. It does not
// know whether the venue exists or is approved: the central does.
func VerifyPoster(keys []pass.PublicKey, text string) (venue string, err error) {
	p, b, err := parsePoster(text)
	if err != nil {
		return "", err
	}
	split := len(b) - ed25519.SignatureSize
	msg, sig := posterMessage(b[:split]), b[split:]
	known := false
	for _, k := range keys {
		if k.ID != p.KeyID || len(k.Key) != ed25519.PublicKeySize {
			continue
		}
		known = true
		if ed25519.Verify(k.Key, msg, sig) {
			return p.Venue, nil
		}
	}
	if !known {
		return "", posterError(PosterUnknownKey, "key %08x is not a province pass key", p.KeyID)
	}
	return "", posterError(PosterBadSignature, "signature does not match key %08x", p.KeyID)
}

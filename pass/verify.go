package pass

import (
	"crypto/ed25519"
	"time"
)

// Revocations is a set of revoked passes, such as a [*RevocationList].
type Revocations interface {
	// IsRevoked reports whether p is revoked. It must be safe for concurrent
	// use and must not keep p.
	IsRevoked(p *Pass) bool
}

// Verifier checks passes offline against a set of pass keys and an optional
// revocation list. It is safe for concurrent use.
type Verifier struct {
	keys []PublicKey
	rev  Revocations
}

// NewVerifier returns a Verifier that accepts passes signed by any of keys
// (several are valid at once during a key rotation) and rejects those that
// rev reports as revoked. rev may be nil. Keys whose length is not
// [ed25519.PublicKeySize] are ignored.
func NewVerifier(keys []PublicKey, rev Revocations) *Verifier {
	v := &Verifier{rev: rev}
	for _, k := range keys {
		if len(k.Key) == ed25519.PublicKeySize {
			v.keys = append(v.keys, PublicKey{ID: k.ID, Key: append(ed25519.PublicKey(nil), k.Key...)})
		}
	}
	return v
}

// Verify parses text and checks its key, signature and validity at time now,
// then the revocation list, in that order. A pass is valid from [ClockSkew]
// before its issue time up to and including its expiry time. Errors are
// [*Error] values (see [Reason]), and come with a zero Pass.
func (v *Verifier) Verify(text string, now time.Time) (Pass, error) {
	var b payload
	p, err := parse(text, &b)
	if err != nil {
		return Pass{}, err
	}
	var m [signedLen]byte
	signedMessage(&m, b[:bodyLen])
	known, ok := false, false
	for _, k := range v.keys {
		if k.ID == p.KeyID {
			known = true
			if ed25519.Verify(k.Key, m[:], b[bodyLen:]) {
				ok = true
				break
			}
		}
	}
	if !known {
		return Pass{}, newError(ReasonUnknownKey, "key %08x is not in the bundle", p.KeyID)
	}
	if !ok {
		return Pass{}, newError(ReasonBadSignature, "signature does not match key %08x", p.KeyID)
	}
	if now.After(p.Expires) {
		return Pass{}, newError(ReasonExpired, "expired %s", p.Expires.Format(time.RFC3339))
	}
	if now.Before(p.Issued.Add(-ClockSkew)) {
		return Pass{}, newError(ReasonNotYetValid, "issued %s, after %s",
			p.Issued.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if v.revoked(&p) {
		return Pass{}, newError(ReasonRevoked, "revocation id %s", p.RevocationID())
	}
	return p, nil
}

// revoked asks the revocation list about p. A *RevocationList is called
// directly, so that p does not escape to the heap.
func (v *Verifier) revoked(p *Pass) bool {
	switch rev := v.rev.(type) {
	case nil:
		return false
	case *RevocationList:
		return rev.IsRevoked(p)
	default:
		q := *p
		return rev.IsRevoked(&q)
	}
}

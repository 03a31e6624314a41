package pass

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"
)

// testSigner returns a deterministic signer derived from name.
func testSigner(name string) Signer {
	seed := sha256.Sum256([]byte("anshim pass test key " + name))
	return Signer{Private: ed25519.NewKeyFromSeed(seed[:])}
}

var (
	testIssued  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	testExpires = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// testPass returns the card pass of the test vectors.
func testPass() Pass {
	return Pass{
		Pseudonym: [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		Kind:      KindCard,
		Serial:    42,
		Issued:    testIssued,
		Expires:   testExpires,
	}
}

// issue signs p with s or fails the test.
func issue(t testing.TB, s Signer, p Pass) string {
	t.Helper()
	text, err := s.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// decodeText returns the payload bytes of a pass text, which must be a
// Base45 string after the prefix.
func decodeText(t testing.TB, text string) []byte {
	t.Helper()
	b, err := base45Decode(text[len(Prefix):])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRaw signs an arbitrary body with s and returns its pass text, so that
// tests can build validly signed passes that the Signer refuses to make.
func signRaw(s Signer, body []byte) string {
	msg := append([]byte(signatureContext), body...)
	return Prefix + base45Encode(append(append([]byte(nil), body...), ed25519.Sign(s.Private, msg)...))
}

// rawText returns the pass text of raw payload bytes.
func rawText(b []byte) string { return Prefix + base45Encode(b) }

// signNoContext signs body with s without the signature context.
func signNoContext(s Signer, body []byte) []byte { return ed25519.Sign(s.Private, body) }

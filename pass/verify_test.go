package pass

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// Ensure that Verify reports the right reason for every kind of bad pass, and
// accepts passes at the edges of their validity.
func TestVerifier_Verify(t *testing.T) {
	s := testSigner("1")
	other := testSigner("other")
	good := issue(t, s, testPass())
	raw := decodeText(t, good)
	revoked := testPass()
	revoked.Serial = 99
	revokedText := issue(t, s, revoked)
	list, err := NewRevocationList(revoked.RevocationID())
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier([]PublicKey{other.PublicKey(), s.PublicKey()}, list)

	// mutate returns good with its raw payload changed by f, unsigned.
	mutate := func(f func(b []byte)) string {
		b := append([]byte(nil), raw...)
		f(b)
		return rawText(b)
	}
	// resign returns a pass signed by s over a body changed by f.
	resign := func(f func(b []byte)) string {
		b := append([]byte(nil), raw[:bodyLen]...)
		f(b)
		return signRaw(s, b)
	}
	during := testIssued.Add(time.Hour)

	tests := []struct {
		name   string
		text   string
		now    time.Time
		reason string // "" for a valid pass
	}{
		{"valid", good, during, ""},
		{"valid at issue", good, testIssued, ""},
		{"valid at expiry", good, testExpires, ""},
		{"valid within clock skew", good, testIssued.Add(-ClockSkew), ""},
		{"valid in another zone", good, during.In(time.FixedZone("KST", 9*3600)), ""},

		{"empty", "", during, ReasonMalformed},
		{"no prefix", good[len(Prefix):], during, ReasonMalformed},
		{"other prefix", "AN2:" + good[len(Prefix):], during, ReasonMalformed},
		{"lower-case prefix", "an1:" + good[len(Prefix):], during, ReasonMalformed},
		{"lower-case payload", Prefix + strings.ToLower(good[len(Prefix):]), during, ReasonMalformed},
		{"URL", "https://example.com/", during, ReasonMalformed},
		{"leading space", " " + good, during, ReasonMalformed},
		{"trailing newline", good + "\n", during, ReasonMalformed},
		{"trailing bytes", rawText(append(append([]byte(nil), raw...), 0, 0)), during, ReasonMalformed},
		{"trailing character pair", good + "00", during, ReasonMalformed},
		{"bad character", good[:50] + "a" + good[51:], during, ReasonMalformed},
		{"bad character in short text", good[:50] + "a" + good[51:100], during, ReasonMalformed},
		{"base45 overflow", good[:len(good)-3] + "GGW", during, ReasonMalformed},
		{"length 3k+1", good[:len(good)-2], during, ReasonTruncated},
		{"kind zero", resign(func(b []byte) { b[offKind] = 0 }), during, ReasonMalformed},
		{"kind unknown", resign(func(b []byte) { b[offKind] = 3 }), during, ReasonMalformed},
		{"expires before issued", resign(func(b []byte) {
			copy(b[offExpires:], b[offIssued:offIssued+5])
		}), during, ReasonMalformed},

		{"prefix only", Prefix, during, ReasonTruncated},
		{"one character", Prefix + "W", during, ReasonTruncated},
		{"one byte", Prefix + "10", during, ReasonTruncated},
		{"half", good[:len(Prefix)+encodedLen/2], during, ReasonTruncated},
		{"missing one group", good[:len(good)-3], during, ReasonTruncated},
		{"short payload", rawText(raw[:payloadLen-1]), during, ReasonTruncated},
		{"body only", rawText(raw[:bodyLen]), during, ReasonTruncated},

		{"version 0", mutate(func(b []byte) { b[offVersion] = 0 }), during, ReasonUnsupported},
		{"version 2", resign(func(b []byte) { b[offVersion] = 2 }), during, ReasonUnsupported},
		{"version 2 longer", rawText(append([]byte{2}, raw...)), during, ReasonUnsupported},
		{"version 2 one byte", Prefix + base45Encode([]byte{2}), during, ReasonUnsupported},

		{"wrong key", issue(t, testSigner("stranger"), testPass()), during, ReasonUnknownKey},
		{"key id changed", mutate(func(b []byte) { b[offKeyID] ^= 1 }), during, ReasonUnknownKey},

		{"signature flipped", mutate(func(b []byte) { b[payloadLen-1] ^= 1 }), during, ReasonBadSignature},
		{"signature zero", mutate(func(b []byte) { clear(b[bodyLen:]) }), during, ReasonBadSignature},
		{"serial changed", mutate(func(b []byte) { b[offSerial+3]++ }), during, ReasonBadSignature},
		{"pseudonym changed", mutate(func(b []byte) { b[offPseudonym] ^= 0x80 }), during, ReasonBadSignature},
		{"kind changed", mutate(func(b []byte) { b[offKind] = byte(KindApp) }), during, ReasonBadSignature},
		{"expiry extended", mutate(func(b []byte) { b[offExpires+1]++ }), during, ReasonBadSignature},
		{"signed by other key under this id", func() string {
			b := append([]byte(nil), raw[:bodyLen]...)
			return signRaw(other, b)
		}(), during, ReasonBadSignature},
		{"signed without context", func() string {
			b := append([]byte(nil), raw[:bodyLen]...)
			return rawText(append(b, signNoContext(s, b)...))
		}(), during, ReasonBadSignature},

		{"expired", good, testExpires.Add(time.Second), ReasonExpired},
		{"expired long ago", good, testExpires.AddDate(10, 0, 0), ReasonExpired},
		{"not yet valid", good, testIssued.Add(-ClockSkew - time.Second), ReasonNotYetValid},
		{"clock at 1970", good, time.Unix(0, 0), ReasonNotYetValid},

		{"revoked", revokedText, during, ReasonRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(tt.text, tt.now)
			if got := Reason(err); got != tt.reason {
				t.Fatalf("Verify: reason %q (%v), want %q", got, err, tt.reason)
			}
			if err == nil {
				if p.Serial != 42 || p.KeyID != s.PublicKey().ID {
					t.Errorf("Verify = %+v", p)
				}
				return
			}
			if p != (Pass{}) {
				t.Errorf("Verify returned %+v with an error", p)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "pass: "+tt.reason) {
				t.Errorf("message %q does not start with the reason", msg)
			}
			if len(tt.text) > 20 && strings.Contains(msg, tt.text[10:20]) {
				t.Errorf("message %q contains the pass text", msg)
			}
			pseudonym := testPass().Pseudonym
			if strings.Contains(msg, hex.EncodeToString(pseudonym[:6])) {
				t.Errorf("message %q contains the pseudonym", msg)
			}
			// Parse agrees with Verify on structural errors.
			_, _, _, perr := Parse(tt.text)
			switch tt.reason {
			case ReasonMalformed, ReasonTruncated, ReasonUnsupported:
				if Reason(perr) != tt.reason {
					t.Errorf("Parse: reason %q, want %q", Reason(perr), tt.reason)
				}
			default:
				if perr != nil {
					t.Errorf("Parse: %v", perr)
				}
			}
		})
	}
}

// Ensure that passes signed by any key of a rotation verify, and that a
// verifier without the new key reports it as unknown.
func TestVerifier_Rotation(t *testing.T) {
	oldKey, newKey := testSigner("old"), testSigner("new")
	oldText, newText := issue(t, oldKey, testPass()), issue(t, newKey, testPass())
	both := NewVerifier([]PublicKey{oldKey.PublicKey(), newKey.PublicKey()}, nil)
	for _, text := range []string{oldText, newText} {
		if _, err := both.Verify(text, testIssued); err != nil {
			t.Error(err)
		}
	}
	_, err := NewVerifier([]PublicKey{oldKey.PublicKey()}, nil).Verify(newText, testIssued)
	if Reason(err) != ReasonUnknownKey {
		t.Errorf("old verifier: %v, want unknown-key", err)
	}
	// Keys of the wrong length are ignored rather than panicking.
	bad := NewVerifier([]PublicKey{{ID: oldKey.PublicKey().ID, Key: oldKey.PublicKey().Key[:31]}}, nil)
	if _, err := bad.Verify(oldText, testIssued); Reason(err) != ReasonUnknownKey {
		t.Errorf("short key: %v, want unknown-key", err)
	}
	// Changing the caller's slice afterwards does not change the verifier.
	keys := []PublicKey{oldKey.PublicKey()}
	v := NewVerifier(keys, nil)
	keys[0].Key[0] ^= 1
	if _, err := v.Verify(oldText, testIssued); err != nil {
		t.Errorf("verifier shares the caller's key: %v", err)
	}
}

// revokeAll is a Revocations that is not a *RevocationList.
type revokeAll struct{}

func (revokeAll) IsRevoked(*Pass) bool { return true }

// Ensure that any Revocations implementation is consulted.
func TestVerifier_RevocationsInterface(t *testing.T) {
	s := testSigner("1")
	v := NewVerifier([]PublicKey{s.PublicKey()}, revokeAll{})
	if _, err := v.Verify(issue(t, s, testPass()), testIssued); Reason(err) != ReasonRevoked {
		t.Errorf("Verify: %v, want revoked", err)
	}
}

// Ensure that verifying a valid pass does not allocate.
func TestVerifier_Verify_Allocs(t *testing.T) {
	s := testSigner("1")
	text := issue(t, s, testPass())
	list, _ := NewRevocationList(strings.Repeat("ab", 16))
	v := NewVerifier([]PublicKey{s.PublicKey()}, list)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(text, testIssued); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Verify allocates %v times", allocs)
	}
}

func TestReason(t *testing.T) {
	if r := Reason(nil); r != "" {
		t.Errorf("Reason(nil) = %q", r)
	}
	if r := Reason(errors.New("x")); r != "" {
		t.Errorf("Reason(plain) = %q", r)
	}
	wrapped := errors.Join(errors.New("x"), &Error{Reason: ReasonExpired})
	if r := Reason(wrapped); r != ReasonExpired {
		t.Errorf("Reason(wrapped) = %q", r)
	}
	if s := (&Error{Reason: ReasonRevoked}).Error(); s != "pass: revoked" {
		t.Errorf("Error() = %q", s)
	}
}

func BenchmarkVerify(b *testing.B) {
	s := testSigner("1")
	text := issue(b, s, testPass())
	list, _ := NewRevocationList(strings.Repeat("ab", 16))
	v := NewVerifier([]PublicKey{testSigner("old").PublicKey(), s.PublicKey()}, list)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(text, testIssued); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	text := issue(b, testSigner("1"), testPass())
	var buf payload
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(text, &buf); err != nil {
			b.Fatal(err)
		}
	}
}

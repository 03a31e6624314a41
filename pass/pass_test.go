package pass

import (
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// passVectors pin the format: a change to any of them is a change of format
// and needs a new version.
var passVectors = []struct {
	name         string
	key          string // testSigner name
	pass         Pass
	body         string // hex of the 36-byte body
	text         string
	revocationID string
}{
	{
		name: "card",
		key:  "1",
		pass: testPass(),
		body: "01" + "2e938c3c" + "000102030405060708090a0b0c0d0e0f" + "02" + "0000002a" +
			"0067748580" + "006955b900",
		text:         "AN1:W60HTIFQ7X507H0QS00+0J61%H1CT1H+1000.00D20*WE88GAEDKHNJZ5*CJTI5A9E:E2.P0A+B-276E7 PVLOC5PAJLGJ+QOQBWHV$4M:$RQBR292NWM704I$9+UGOIGSMIBHGL45Z0R/K2-P3SBB",
		revocationID: "3f12e26715f8db1282ffc051695a9dc5",
	},
	{
		name: "app",
		key:  "2",
		pass: Pass{
			Pseudonym: [16]byte{0xff, 0xee},
			Kind:      KindApp,
			Serial:    7,
			Issued:    time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
			Expires:   time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		},
		body: "01" + "7c04cadd" + "ffee0000000000000000000000000000" + "01" + "00000007" +
			"0067eb2c80" + "0069cc6000",
		text:         "AN1:K80BR0-2S/3U000000000000000000100000700D20*WT88G*GD66CXYICDUOUVUSTNC4K.M0BPGWD$OUT.4$ALGF0:JEIIN08GFXTFXRAHLYOCP5RUGIC-J$M17.8RR3:7H.5SC-365Q$IE:1D9.4",
		revocationID: "d68e5afb9ad3c2c9abbf2618ad839ef4",
	},
}

// Ensure that issuing, parsing and verifying match the test vectors.
func TestPass_Vectors(t *testing.T) {
	for _, v := range passVectors {
		t.Run(v.name, func(t *testing.T) {
			s := testSigner(v.key)
			text := issue(t, s, v.pass)
			if text != v.text {
				t.Errorf("Issue = %s\nwant    %s", text, v.text)
			}
			if len(text) != textLen {
				t.Errorf("len = %d, want %d", len(text), textLen)
			}
			raw := decodeText(t, v.text)
			if got := hex.EncodeToString(raw[:bodyLen]); got != v.body {
				t.Errorf("body = %s\nwant   %s", got, v.body)
			}
			// Check the signature with the standard library alone.
			msg := append([]byte("anshim-pass-v1\x00"), raw[:bodyLen]...)
			if !ed25519.Verify(s.PublicKey().Key, msg, raw[bodyLen:]) {
				t.Error("signature does not verify over the context and body")
			}

			p, signed, sig, err := Parse(v.text)
			if err != nil {
				t.Fatal(err)
			}
			want := v.pass
			want.KeyID = s.PublicKey().ID
			if !equalPass(p, want) {
				t.Errorf("Parse = %+v, want %+v", p, want)
			}
			if string(signed) != string(msg) || string(sig) != string(raw[bodyLen:]) {
				t.Error("Parse returned the wrong signed message or signature")
			}
			if got := p.RevocationID(); got != v.revocationID {
				t.Errorf("RevocationID = %s, want %s", got, v.revocationID)
			}

			got, err := NewVerifier([]PublicKey{s.PublicKey()}, nil).Verify(v.text, v.pass.Issued)
			if err != nil {
				t.Fatal(err)
			}
			if !equalPass(got, want) {
				t.Errorf("Verify = %+v, want %+v", got, want)
			}
		})
	}
}

// equalPass compares passes, times by instant and zone.
func equalPass(a, b Pass) bool {
	return a.KeyID == b.KeyID && a.Pseudonym == b.Pseudonym && a.Kind == b.Kind &&
		a.Serial == b.Serial && a.Issued.Equal(b.Issued) && a.Expires.Equal(b.Expires) &&
		a.Issued.Location() == time.UTC && a.Expires.Location() == time.UTC
}

// Ensure that the revocation id depends on pseudonym, kind and serial only.
func TestPass_RevocationID(t *testing.T) {
	p := testPass()
	id := p.RevocationID()
	q := p
	q.KeyID, q.Issued, q.Expires = 7, q.Issued.Add(time.Hour), q.Expires.Add(time.Hour)
	if q.RevocationID() != id {
		t.Error("revocation id depends on key or validity")
	}
	for name, change := range map[string]func(*Pass){
		"pseudonym": func(p *Pass) { p.Pseudonym[15] ^= 1 },
		"kind":      func(p *Pass) { p.Kind = KindApp },
		"serial":    func(p *Pass) { p.Serial++ },
	} {
		q := p
		change(&q)
		if q.RevocationID() == id {
			t.Errorf("revocation id does not depend on %s", name)
		}
	}
	if strings.Contains(id, hex.EncodeToString(p.Pseudonym[:8])) {
		t.Error("revocation id contains the pseudonym")
	}
}

// Ensure that String does not reveal the pseudonym.
func TestPass_String(t *testing.T) {
	p := testPass()
	p.Pseudonym = [16]byte{0xab, 0xcd, 0xef, 0x12, 0x34}
	s := p.String()
	if strings.Contains(strings.ToLower(s), "abcdef1234") {
		t.Errorf("String() = %q reveals the pseudonym", s)
	}
	if want := "card pass serial 42 key 00000000 valid 2025-01-01T00:00:00Z to 2026-01-01T00:00:00Z"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
}

func TestKind(t *testing.T) {
	for _, k := range []Kind{KindApp, KindCard} {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	for _, s := range []string{"", "App", "cards", "1"} {
		if _, err := ParseKind(s); err == nil {
			t.Errorf("ParseKind(%q) succeeded", s)
		}
	}
	if s := Kind(9).String(); s != "kind(9)" {
		t.Errorf("Kind(9).String() = %q", s)
	}
}

// Ensure that Issue refuses passes that it cannot encode faithfully.
func TestSigner_Issue_Invalid(t *testing.T) {
	s := testSigner("1")
	for name, change := range map[string]func(*Pass){
		"kind zero":        func(p *Pass) { p.Kind = 0 },
		"kind unknown":     func(p *Pass) { p.Kind = 3 },
		"issued zero":      func(p *Pass) { p.Issued = time.Time{} },
		"expires zero":     func(p *Pass) { p.Expires = time.Time{} },
		"issued fraction":  func(p *Pass) { p.Issued = p.Issued.Add(time.Millisecond) },
		"expires fraction": func(p *Pass) { p.Expires = p.Expires.Add(time.Nanosecond) },
		"before 1970":      func(p *Pass) { p.Issued = time.Unix(-1, 0) },
		"after year 36812": func(p *Pass) { p.Expires = time.Unix(maxUnix+1, 0) },
		"expires at issue": func(p *Pass) { p.Expires = p.Issued },
		"expires before":   func(p *Pass) { p.Expires = p.Issued.Add(-time.Second) },
	} {
		p := testPass()
		change(&p)
		if text, err := s.Issue(p); err == nil {
			t.Errorf("%s: Issue succeeded: %s", name, text)
		}
	}
	if _, err := (Signer{}).Issue(testPass()); err == nil {
		t.Error("Issue without a key succeeded")
	}
}

// Ensure that Issue ignores the zone and KeyID of its argument.
func TestSigner_Issue_Normalises(t *testing.T) {
	s := testSigner("1")
	p := testPass()
	kst := time.FixedZone("KST", 9*3600)
	p.Issued, p.Expires, p.KeyID = p.Issued.In(kst), p.Expires.In(kst), 12345
	if got := issue(t, s, p); got != passVectors[0].text {
		t.Errorf("Issue = %s, want the vector", got)
	}
	// The largest time the format holds.
	p = testPass()
	p.Expires = time.Unix(maxUnix, 0)
	got, _, _, err := Parse(issue(t, s, p))
	if err != nil || got.Expires.Unix() != maxUnix {
		t.Errorf("Parse = %v, %v", got.Expires, err)
	}
}

package venuecode

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/internal/base45"
	"github.com/anshim/anshim/pass"
)

// posterVectors pin the format: codes signed by testSigner("1").
var posterVectors = []struct {
	name   string
	venue  string
	issued time.Time
	text   string
}{
	{"cafe", "jeju-cafe-0042", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), "AV1:B70-5HUL90GD0EA0$1. CR EGPCN.C3W5A46SI6HXIZWIH MXSAK2H1TJM:4THJN6T00MJ MMA3QZ2B/MAZ2%TKCQ8H6E-5EUYP9ZNHNBM:3CZ9$R16W7-BC7/9E.7Y7E/*D90"},
	{"shortest", "v", time.Unix(0, 0).UTC(), "AV1:B70-5HUL9000000E80/H3C0F8%JXTF8ET1/T:*8AC0:QIQ6S6THSX6OFP/ TX$40PA026671T0IWPOMZK4/N-D3S77+8ODU3S5HYC3VMS..T4KI+SN"},
	{"longest", strings.Repeat("Z", 64), time.Unix(1<<40-1, 0).UTC(), "AV1:B70-5HFR9FGWFGW4680JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JB0JBMKBINHV*RCKIEXF+GEE+4LLVZ2KTTBK6DXQGMEIX2BQ1SI.8AEVO*LS4V2Z6:B88+IICASAI:HJE5A-:PNYL$:QGH96IQ0CI60"},
}

func issuePoster(t testing.TB, s pass.Signer, venue string, at time.Time) string {
	t.Helper()
	text, err := IssuePoster(s, venue, at)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// Ensure that IssuePoster makes the pinned codes, and that they parse and
// verify back to their contents.
func TestPoster_Vectors(t *testing.T) {
	s := testSigner("1")
	keys := []pass.PublicKey{s.PublicKey()}
	for _, v := range posterVectors {
		t.Run(v.name, func(t *testing.T) {
			text := issuePoster(t, s, v.venue, v.issued.Add(999*time.Millisecond))
			if text != v.text {
				t.Errorf("IssuePoster = %q, want %q", text, v.text)
			}
			p, err := ParsePoster(v.text)
			if err != nil {
				t.Fatal(err)
			}
			if p.Venue != v.venue || !p.Issued.Equal(v.issued) || p.Issued.Location() != time.UTC || p.KeyID != s.PublicKey().ID {
				t.Errorf("ParsePoster = %+v", p)
			}
			venue, err := VerifyPoster(keys, v.text)
			if err != nil || venue != v.venue {
				t.Errorf("VerifyPoster = %q, %v; want %q", venue, err, v.venue)
			}
			for i := 0; i < len(text); i++ {
				if !strings.ContainsRune(base45.Alphabet+"AV1:", rune(text[i])) {
					t.Fatalf("character %q is not in the QR code alphanumeric set", text[i])
				}
			}
		})
	}
}

// Ensure that IssuePoster refuses what it cannot encode.
func TestIssuePoster_Invalid(t *testing.T) {
	s := testSigner("1")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		signer pass.Signer
		venue  string
		at     time.Time
	}{
		{"no key", pass.Signer{}, "v-1", now},
		{"empty venue", s, "", now},
		{"venue with a dot", s, "a.b", now},
		{"venue of 65", s, strings.Repeat("a", 65), now},
		{"before 1970", s, "v-1", time.Unix(-1, 0)},
		{"after the 5-byte range", s, "v-1", time.Unix(1<<40, 0)},
	} {
		if text, err := IssuePoster(tt.signer, tt.venue, tt.at); err == nil {
			t.Errorf("%s: IssuePoster = %q, want an error", tt.name, text)
		}
	}
}

// Ensure that VerifyPoster accepts a code of any of the province's keys
// (posters outlive a rotation), and refuses one of another key.
func TestVerifyPoster_Keys(t *testing.T) {
	old, cur, stranger := testSigner("1"), testSigner("2"), testSigner("stranger")
	keys := []pass.PublicKey{old.PublicKey(), cur.PublicKey()}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, s := range []pass.Signer{old, cur} {
		if v, err := VerifyPoster(keys, issuePoster(t, s, "v-1", now)); err != nil || v != "v-1" {
			t.Errorf("key %08x: %q, %v", s.PublicKey().ID, v, err)
		}
	}
	_, err := VerifyPoster(keys, issuePoster(t, stranger, "v-1", now))
	if r := posterReason(err); r != PosterUnknownKey {
		t.Errorf("stranger's poster: %v, want %s", err, PosterUnknownKey)
	}
	// A key listed under the stranger's id but not its key.
	liar := []pass.PublicKey{{ID: stranger.PublicKey().ID, Key: cur.PublicKey().Key}}
	if _, err := VerifyPoster(liar, issuePoster(t, stranger, "v-1", now)); posterReason(err) != PosterBadSignature {
		t.Errorf("wrong key under the id: %v, want %s", err, PosterBadSignature)
	}
	if _, err := VerifyPoster(nil, issuePoster(t, cur, "v-1", now)); posterReason(err) != PosterUnknownKey {
		t.Errorf("no keys: %v, want %s", err, PosterUnknownKey)
	}
}

// Ensure that changing any character of a code, to any other character of
// the alphabet, makes it fail.
func TestVerifyPoster_Tampered(t *testing.T) {
	s := testSigner("1")
	keys := []pass.PublicKey{s.PublicKey()}
	text := posterVectors[0].text
	for i := len(PosterPrefix); i < len(text); i++ {
		for j := 0; j < len(base45.Alphabet); j++ {
			c := base45.Alphabet[j]
			if c == text[i] {
				continue
			}
			tampered := text[:i] + string(c) + text[i+1:]
			if v, err := VerifyPoster(keys, tampered); err == nil {
				t.Fatalf("position %d changed to %q: verifies as venue %q", i, c, v)
			}
		}
	}
}

// Ensure that a signature made without the poster's context, such as a
// pass's, does not verify.
func TestVerifyPoster_Context(t *testing.T) {
	s := testSigner("1")
	body := posterBody(s.PublicKey().ID, 1_700_000_000, "v-1")
	for _, msg := range [][]byte{body, append([]byte("anshim-pass-v1\x00"), body...)} {
		text := PosterPrefix + string(base45.Append(nil, append(body, ed25519.Sign(s.Private, msg)...)))
		if _, err := VerifyPoster([]pass.PublicKey{s.PublicKey()}, text); posterReason(err) != PosterBadSignature {
			t.Errorf("signed %q…: %v, want %s", msg[:8], err, PosterBadSignature)
		}
	}
}

// Ensure that damaged codes fail with the right reason and a message
// without the code.
func TestParsePoster_Invalid(t *testing.T) {
	for name, tt := range map[string]struct {
		text   string
		reason string
	}{
		"empty":          {"", PosterMalformed},
		"pass prefix":    {"AN1:" + posterVectors[0].text[4:], PosterMalformed},
		"lower prefix":   {"av1:" + posterVectors[0].text[4:], PosterMalformed},
		"prefix only":    {PosterPrefix, PosterTruncated},
		"one character":  {PosterPrefix + "1", PosterTruncated},
		"two characters": {PosterPrefix + "10", PosterTruncated},
		"cut by one":     {posterVectors[0].text[:len(posterVectors[0].text)-1], PosterTruncated},
		"cut by two":     {posterVectors[0].text[:len(posterVectors[0].text)-2], PosterTruncated},
		"cut at a group": {posterVectors[0].text[:len(PosterPrefix)+60], PosterTruncated},
		"trailing":       {posterVectors[0].text + "000", PosterMalformed},
		"lower case":     {strings.ToLower(posterVectors[0].text), PosterMalformed},
		"space inside":   {posterVectors[0].text[:20] + "\n" + posterVectors[0].text[21:], PosterMalformed},
		"overflow":       {PosterPrefix + "GGW" + posterVectors[0].text[7:], PosterMalformed},
		"version 2":      {rawPoster(func(b []byte) []byte { b[0] = 2; return b }), PosterUnsupported},
		"version 2 cut":  {rawPoster(func(b []byte) []byte { b[0] = 2; return b[:20] }), PosterUnsupported},
		"no venue":       {rawPoster(func(b []byte) []byte { b[posterOffLen] = 0; return b }), PosterMalformed},
		"venue of 65":    {rawPoster(func(b []byte) []byte { b[posterOffLen] = 65; return b }), PosterMalformed},
		"venue too long": {rawPoster(func(b []byte) []byte { b[posterOffLen]--; return b }), PosterMalformed},
		"venue short":    {rawPoster(func(b []byte) []byte { b[posterOffLen]++; return b }), PosterTruncated},
		"venue with dot": {rawPoster(func(b []byte) []byte { b[posterOffVenue+4] = '.'; return b }), PosterMalformed},
		"header only":    {rawPoster(func(b []byte) []byte { return b[:posterOffVenue] }), PosterTruncated},
	} {
		_, err := ParsePoster(tt.text)
		if r := posterReason(err); r != tt.reason {
			t.Errorf("%s: %v, want reason %s", name, err, tt.reason)
		}
		if len(tt.text) > 8 && err != nil && strings.Contains(err.Error(), tt.text[4:]) {
			t.Errorf("%s: error %q holds the code", name, err)
		}
	}
}

// rawPoster returns the code of the first vector's bytes as edit changes
// them, not re-signed.
func rawPoster(edit func(b []byte) []byte) string {
	b, err := base45.Decode(posterVectors[0].text[len(PosterPrefix):])
	if err != nil {
		panic(err)
	}
	return PosterPrefix + string(base45.Append(nil, edit(b)))
}

func posterReason(err error) string {
	var pe *PosterError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return ""
}

// posterSeeds returns the FuzzParsePoster seed corpus, by file name.
func posterSeeds(t testing.TB) map[string]string {
	seeds := map[string]string{
		"empty":      "",
		"prefix":     PosterPrefix,
		"two-chars":  PosterPrefix + "10",
		"pass":       "AN1:W60HTIFQ7X507H0QS00",
		"version-2":  rawPoster(func(b []byte) []byte { b[0] = 2; return b }),
		"no-venue":   rawPoster(func(b []byte) []byte { b[posterOffLen] = 0; return b }),
		"truncated":  posterVectors[0].text[:len(posterVectors[0].text)-2],
		"trailing":   posterVectors[0].text + "00",
		"lower-case": strings.ToLower(posterVectors[0].text),
		"stranger":   issuePoster(t, testSigner("stranger"), "v-1", time.Unix(1, 0)),
	}
	for _, v := range posterVectors {
		seeds["valid-"+v.name] = v.text
	}
	return seeds
}

// FuzzParsePoster checks that ParsePoster never panics, fails only with a
// structural reason and a message free of the input, and accepts only
// codes that re-encode to themselves; and that a code that verifies under
// the test key is exactly what IssuePoster makes of its contents.
func FuzzParsePoster(f *testing.F) {
	for _, seed := range posterSeeds(f) {
		f.Add(seed)
	}
	s := testSigner("1")
	keys := []pass.PublicKey{s.PublicKey()}
	f.Fuzz(func(t *testing.T, text string) {
		p, b, err := parsePoster(text)
		if err != nil {
			switch r := posterReason(err); r {
			case PosterMalformed, PosterTruncated, PosterUnsupported:
			default:
				t.Fatalf("ParsePoster: reason %q: %v", r, err)
			}
			if len(text) > 8 && strings.Contains(err.Error(), text) {
				t.Fatalf("error %q holds the input", err)
			}
			if _, verr := VerifyPoster(keys, text); posterReason(verr) != posterReason(err) {
				t.Fatalf("VerifyPoster: %v, ParsePoster: %v", verr, err)
			}
			return
		}
		if PosterPrefix+string(base45.Append(nil, b)) != text {
			t.Fatalf("re-encoding gives another text than %q", text)
		}
		body := posterBody(p.KeyID, uint64(p.Issued.Unix()), p.Venue)
		if string(body) != string(b[:len(b)-ed25519.SignatureSize]) {
			t.Fatalf("fields %+v re-encode to %x, want %x", p, body, b)
		}
		venue, err := VerifyPoster(keys, text)
		switch {
		case err == nil:
			if venue != p.Venue || issuePoster(t, s, p.Venue, p.Issued) != text {
				t.Fatalf("verified code %q is not IssuePoster's", text)
			}
		case posterReason(err) != PosterUnknownKey && posterReason(err) != PosterBadSignature:
			t.Fatalf("VerifyPoster of a parsed code: %v", err)
		}
	})
}

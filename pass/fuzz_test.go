package pass

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpus under testdata/fuzz")

// parseSeeds returns the FuzzParse seed corpus: valid passes and one of each
// kind of invalid pass, by file name.
func parseSeeds(t testing.TB) map[string]string {
	s := testSigner("1")
	good := issue(t, s, testPass())
	raw := decodeText(t, good)
	resign := func(f func(b []byte)) string {
		b := append([]byte(nil), raw[:bodyLen]...)
		f(b)
		return signRaw(s, b)
	}
	seeds := map[string]string{
		"empty":              "",
		"prefix-only":        Prefix,
		"no-prefix":          good[len(Prefix):],
		"truncated":          good[:len(good)-3],
		"truncated-3k+1":     good[:len(good)-2],
		"trailing":           good + "00",
		"bad-character":      good[:40] + "a" + good[41:],
		"base45-overflow":    good[:len(good)-3] + "GGW",
		"bad-signature":      rawText(append(append([]byte(nil), raw[:payloadLen-1]...), raw[payloadLen-1]^1)),
		"kind-3":             resign(func(b []byte) { b[offKind] = 3 }),
		"version-2":          resign(func(b []byte) { b[offVersion] = 2 }),
		"expires-at-issue":   resign(func(b []byte) { copy(b[offExpires:], b[offIssued:offIssued+5]) }),
		"max-time":           resign(func(b []byte) { copy(b[offExpires:], []byte{0xff, 0xff, 0xff, 0xff, 0xff}) }),
		"wrong-key":          issue(t, testSigner("stranger"), testPass()),
		"valid-app-rotation": issue(t, testSigner("2"), Pass{Kind: KindApp, Serial: 1, Issued: time.Unix(1, 0), Expires: time.Unix(2, 0)}),
	}
	for _, v := range passVectors {
		seeds["valid-"+v.name] = v.text
	}
	return seeds
}

// corpusFile returns a seed in the go test fuzz v1 format.
func corpusFile(s string) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", s)
}

// base45Seeds returns the FuzzBase45 seed corpus: the RFC 9285 vectors, both
// ways, and invalid encodings.
func base45Seeds() map[string]string {
	seeds := map[string]string{
		"overflow-triple": "GGW",
		"overflow-pair":   "V5",
		"lower-case":      "bb8",
		"length-3k+1":     "BB8B",
	}
	for i, v := range base45Vectors {
		seeds[fmt.Sprintf("vector-%d-encoded", i)] = v.encoded
		seeds[fmt.Sprintf("vector-%d-decoded", i)] = v.decoded
	}
	return seeds
}

// Ensure that the checked-in seed corpora match the seeds that the code
// makes; run with -update-corpus to rewrite them.
func TestFuzzCorpus(t *testing.T) {
	checkCorpus(t, "FuzzParse", parseSeeds(t))
	checkCorpus(t, "FuzzBase45", base45Seeds())
}

func checkCorpus(t *testing.T, target string, seeds map[string]string) {
	dir := filepath.Join("testdata", "fuzz", target)
	for name, seed := range seeds {
		path := filepath.Join(dir, name)
		want := corpusFile(seed)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is out of date (%v): run go test -run TestFuzzCorpus -update-corpus", path, err)
		}
	}
}

// FuzzParse checks that Parse never panics, fails only with a structural
// reason and a message free of the input, and accepts only texts that
// re-encode to themselves.
func FuzzParse(f *testing.F) {
	for _, seed := range parseSeeds(f) {
		f.Add(seed)
	}
	s := testSigner("1")
	v := NewVerifier([]PublicKey{s.PublicKey()}, new(RevocationList))
	f.Fuzz(func(t *testing.T, text string) {
		p, signed, sig, err := Parse(text)
		if err != nil {
			switch r := Reason(err); r {
			case ReasonMalformed, ReasonTruncated, ReasonUnsupported:
			default:
				t.Fatalf("Parse: reason %q: %v", r, err)
			}
			if len(text) > 8 && strings.Contains(err.Error(), text) {
				t.Fatalf("error %q contains the input", err)
			}
			if _, verr := v.Verify(text, testIssued); Reason(verr) != Reason(err) {
				t.Fatalf("Verify: %v, Parse: %v", verr, err)
			}
			return
		}
		if !bytes.HasPrefix(signed, []byte(signatureContext)) || len(signed) != signedLen || len(sig) != 64 {
			t.Fatalf("Parse returned signed %x sig %x", signed, sig)
		}
		body := signed[len(signatureContext):]
		if got := rawText(append(append([]byte(nil), body...), sig...)); got != text {
			t.Fatalf("re-encoding gives %q, want %q", got, text)
		}
		var b [bodyLen]byte
		if err := p.putBody(b[:]); err != nil {
			t.Fatalf("putBody(%+v): %v", p, err)
		}
		if !bytes.Equal(b[:], body) {
			t.Fatalf("fields re-encode to %x, want %x", b, body)
		}
		if _, err := v.Verify(text, p.Issued); err != nil {
			switch Reason(err) {
			case ReasonUnknownKey, ReasonBadSignature:
			default:
				t.Fatalf("Verify of a parsed pass: %v", err)
			}
		}
	})
}

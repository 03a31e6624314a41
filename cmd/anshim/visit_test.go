package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/pass"
)

// Ensure that "anshim visit" checks in with a poster code as the app does:
// accepted near the venue, flagged suspect far from it, rejected with a
// reason and a hint for a bad pass, a usage error for bad flags.
func TestVisit(t *testing.T) {
	url, tokenFile, keys := startCentralKeys(t)
	e := testEnv(testNow, "")
	admin := []string{"--central", url, "--admin-token-file", tokenFile}
	e.mustRun(t, append(venueAddArgs("cafe-1", "--status", "approved"), admin...)...)
	poster := strings.TrimSpace(e.mustRun(t, append([]string{"venue", "poster", "--id", "cafe-1"}, admin...)...))

	now := time.Now().UTC().Truncate(time.Second)
	issue := func(serial uint32, expires time.Time) string {
		p := pass.Pass{Kind: pass.KindApp, Serial: serial, Issued: now.Add(-time.Hour), Expires: expires}
		p.Pseudonym[0] = byte(serial)
		text, err := keys.Signer().Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	good := issue(1, now.Add(24*time.Hour))
	passFile := filepath.Join(t.TempDir(), "pass.txt")
	os.WriteFile(passFile, []byte(good+"\n"), 0o600)

	out := e.mustRun(t, "visit", "--central", url, "--pass-file", passFile, "--code", poster, "--lat", "33.4996", "--lon", "126.5312", "--accuracy", "10")
	if !strings.HasPrefix(out, "accepted at venue cafe-1\n") || strings.Contains(out, "flags") {
		t.Errorf("near: %q", out)
	}
	out = e.mustRun(t, "visit", "--central", url, "--pass", issue(2, now.Add(24*time.Hour)), "--code", poster, "--lat", "33.51", "--lon", "126.5312")
	if !strings.Contains(out, "flags:  suspect\n") {
		t.Errorf("far: %q", out)
	}

	code, _, stderr := e.anshim(t, "visit", "--central", url, "--pass", issue(3, now.Add(-time.Minute)), "--code", poster, "--lat", "33.4996", "--lon", "126.5312")
	if code != 1 || !strings.Contains(stderr, "anshim: error: check-in rejected: pass-expired") || !strings.Contains(stderr, "[HTTP 403]") ||
		!strings.Contains(stderr, "anshim: hint: issue a new pass") {
		t.Errorf("expired: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, "visit", "--central", url, "--pass", good, "--code", "AD1:XYZ")
	if code != 1 || !strings.Contains(stderr, "check-in rejected: malformed-code") {
		t.Errorf("bad code: exit %d\n%s", code, stderr)
	}
	for _, args := range [][]string{
		{"visit", "--code", poster},
		{"visit", "--pass", good},
		{"visit", "--pass", good, "--code", poster, "--lat", "33.5"},
		{"visit", "--pass", good, "--pass-file", passFile, "--code", poster},
	} {
		if code, _, stderr := e.anshim(t, args...); code != 2 || !strings.Contains(stderr, "anshim: hint:") {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
}

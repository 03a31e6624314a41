package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/anshim/anshim/province"
)

// Ensure that keygen prints the SHA-256 of the public.json it wrote, that
// a key directory made before the root key is told how to add one, and
// that --add-root adds it once.
func TestKeygen_RootAndBundleSHA256(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	e := testEnv(testNow, "")
	out := e.mustRun(t, "keygen", "--dir", keys)
	bundle, err := os.ReadFile(filepath.Join(keys, province.BundleFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("bundle sha256:     %x (kiosk enroll --bundle-sha256)", sha256.Sum256(bundle)); !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "root key:          ") {
		t.Errorf("no root key line:\n%s", out)
	}

	// As made before the root key existed.
	if err := os.Remove(filepath.Join(keys, province.RootKeyFile)); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := e.anshim(t, "keygen", "--dir", keys)
	if code != 1 || !strings.Contains(stderr, "anshim: hint: these keys have no root signing key: add one with 'anshim keygen --dir "+keys+" --add-root'") {
		t.Errorf("keygen over root-less keys: exit %d\n%s", code, stderr)
	}
	out = e.mustRun(t, "keygen", "--dir", keys, "--add-root")
	k, err := province.Load(keys)
	if err != nil || !k.HasRootKey() || !strings.Contains(out, "added root signing key "+k.RootKeyID()) {
		t.Fatalf("after --add-root: %v\n%s", err, out)
	}
	if code, _, stderr := e.anshim(t, "keygen", "--dir", keys, "--add-root"); code != 1 || !strings.Contains(stderr, "have a root signing key already") {
		t.Errorf("a second --add-root: exit %d\n%s", code, stderr)
	}
}

// Ensure that "anshim device token" prints, on standard error, the whole
// enroll command with the token and the bundle's SHA-256.
func TestDeviceToken_EnrollCommand(t *testing.T) {
	url, tokenFile := startCentral(t)
	e := testEnv(testNow, "")
	flags := []string{"--central", url, "--admin-token-file", tokenFile}
	e.mustRun(t, append(venueAddArgs("cafe-1", "--status", "approved"), flags...)...)
	code, stdout, stderr := e.anshim(t, append([]string{"device", "token", "--venue", "cafe-1"}, flags...)...)
	want := regexp.MustCompile(`on the kiosk: kiosk enroll --central \S+ --token ` + strings.TrimSpace(stdout) + ` --bundle-sha256 [0-9a-f]{64} --data /var/lib/anshim\n`)
	if code != 0 || !want.MatchString(stderr) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

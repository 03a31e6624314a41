package main

import (
	"bytes"
	"context"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"

	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

// testEnv returns an env with a fixed clock and randomness.
func testEnv(now time.Time, stdin string) *env {
	return &env{
		stdin: strings.NewReader(stdin),
		now:   func() time.Time { return now },
		rand:  mathrand.NewChaCha8([32]byte{42}),
	}
}

// anshim runs a command line and returns its exit code and output.
func (e *env) anshim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = e.main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs a command line that must succeed and returns its stdout.
func (e *env) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := e.anshim(t, args...)
	if code != 0 {
		t.Fatalf("anshim %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

var testNow = time.Date(2025, 3, 1, 0, 30, 15, 999, time.UTC) // 09:30:15 KST

// Ensure that the exit code is 0 on success, 1 on an error and 2 on a usage
// error.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	e := testEnv(testNow, "")
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"keygen", "--dir", keys}, 0},
		{[]string{"keygen", "--dir", keys}, 1},
		{[]string{"keygen"}, 2},
		{[]string{"keygen", "--nope"}, 2},
		{[]string{"--help"}, 0},
		{[]string{"pass", "verify", "--help"}, 0},
		{[]string{}, 2},
		{[]string{"nope"}, 2},
		{[]string{"pass"}, 2},
		{[]string{"pass", "verify", "--bundle", filepath.Join(keys, "public.json"), "AN1:"}, 1},
		{[]string{"pass", "verify", "--bundle", filepath.Join(keys, "public.json"), "a", "b"}, 2},
		{[]string{"pass", "issue", "--keys", keys, "--serial", "4294967296"}, 2},
		{[]string{"pass", "issue", "--keys", keys, "--pseudonym", "abc"}, 2},
		{[]string{"pass", "issue", "--keys", filepath.Join(dir, "none")}, 1},
	} {
		code, _, stderr := e.anshim(t, tt.args...)
		if code != tt.code {
			t.Errorf("anshim %s: exit %d, want %d\n%s", strings.Join(tt.args, " "), code, tt.code, stderr)
		}
		if code != 0 && !strings.Contains(stderr, "anshim: error: ") {
			t.Errorf("anshim %s: no error line:\n%s", strings.Join(tt.args, " "), stderr)
		}
		if code != 0 && !strings.Contains(stderr, "anshim: hint: ") {
			t.Errorf("anshim %s: no hint line:\n%s", strings.Join(tt.args, " "), stderr)
		}
	}
}

// Ensure that issue uses the clock and the flags as documented: whole
// seconds, a default expiry of one year, dates as the end of the day in
// Korea.
func TestPassIssue_Times(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	e := testEnv(testNow, "")
	e.mustRun(t, "keygen", "--dir", keys)
	issued := testNow.Truncate(time.Second)
	for _, tt := range []struct {
		flags   []string
		expires time.Time
	}{
		{nil, issued.AddDate(1, 0, 0)},
		{[]string{"--expires", "90d"}, issued.AddDate(0, 0, 90)},
		{[]string{"--expires", "6mo"}, issued.AddDate(0, 6, 0)},
		{[]string{"--expires", "36h"}, issued.Add(36 * time.Hour)},
		{[]string{"--expires", "2025-12-31"}, time.Date(2025, 12, 31, 14, 59, 59, 0, time.UTC)},
		{[]string{"--expires", "2025-12-31T18:00"}, time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC)},
		{[]string{"--expires", "2025-12-31T18:00:00Z"}, time.Date(2025, 12, 31, 18, 0, 0, 0, time.UTC)},
	} {
		text := strings.TrimSpace(e.mustRun(t, append([]string{"pass", "issue", "--keys", keys}, tt.flags...)...))
		p, _, _, err := pass.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Issued.Equal(issued) || !p.Expires.Equal(tt.expires) {
			t.Errorf("%v: issued %v expires %v, want %v %v", tt.flags, p.Issued, p.Expires, issued, tt.expires)
		}
		if p.Kind != pass.KindApp || p.Pseudonym == ([16]byte{}) {
			t.Errorf("%v: pass %+v", tt.flags, p)
		}
	}
}

// Ensure that a tampered pass is reported as bad-signature, and that the
// output for a valid pass does not show the pseudonym.
func TestPassVerify(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	e := testEnv(testNow, "")
	e.mustRun(t, "keygen", "--dir", keys)
	pseudonym := "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	text := strings.TrimSpace(e.mustRun(t, "pass", "issue", "--keys", keys, "--kind", "card", "--serial", "7", "--pseudonym", pseudonym))
	bundle := filepath.Join(keys, province.BundleFile)

	// Verify through standard input, with surrounding white space.
	e = testEnv(testNow.Add(time.Hour), "\n"+text+"\r\n")
	out := e.mustRun(t, "pass", "verify", "--bundle", bundle, "-")
	for _, want := range []string{"valid card pass\n", "serial:         7\n", "issued:         2025-03-01 09:30:15 KST\n", "expires:        2026-03-01 09:30:15 KST\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, pseudonym[:8]) || strings.Contains(out, strings.ToUpper(pseudonym[:8])) {
		t.Errorf("output shows the pseudonym:\n%s", out)
	}

	// Change one character of the signature, keeping the Base45 valid.
	i := len(text) - 3 // first, least significant, character of the last group
	c := strings.IndexByte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", text[i])
	c = c ^ 1
	if c > 44 {
		c = 43
	}
	tampered := text[:i] + string("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"[c]) + text[i+1:]
	code, _, stderr := e.anshim(t, "pass", "verify", "--bundle", bundle, tampered)
	if code != 1 || !strings.Contains(stderr, "anshim: error: pass rejected: bad-signature (") {
		t.Errorf("tampered pass: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, text[10:30]) || strings.Contains(stderr, pseudonym[:8]) {
		t.Errorf("error shows the pass or the pseudonym:\n%s", stderr)
	}
}

// Ensure that --png writes a QR code that gozxing reads back as the pass.
func TestPassIssue_PNG(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	png := filepath.Join(dir, "pass.png")
	e := testEnv(testNow, "")
	e.mustRun(t, "keygen", "--dir", keys)
	text := strings.TrimSpace(e.mustRun(t, "pass", "issue", "--keys", keys, "--kind", "card", "--png", png))
	got, ec, err := decodeQRFile(png)
	if err != nil {
		t.Fatal(err)
	}
	if got != text || ec != "M" {
		t.Errorf("QR code holds %q at level %q, want %q at M", got, ec, text)
	}
	img, err := encodeQR(text, 400)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 400 || b.Dy() != 400 {
		t.Errorf("image is %v, want 400x400", b)
	}
	// The quiet zone: the border is white.
	for x := 0; x < 400; x++ {
		if img.GrayAt(x, 0).Y != 0xff || img.GrayAt(0, x).Y != 0xff {
			t.Fatalf("no quiet zone at %d", x)
		}
	}
	// A pass fills a version 6 symbol at level M in alphanumeric mode, as
	// the pass package documents.
	code, err := encoder.Encoder_encode(text, decoder.ErrorCorrectionLevel_M, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, m := code.GetVersion().GetVersionNumber(), code.GetMode(); v != 6 || m != decoder.Mode_ALPHANUMERIC {
		t.Errorf("QR version %d mode %v, want 6 alphanumeric", v, m)
	}
	if fi, err := os.Stat(png); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("PNG mode: %v, %v", fi.Mode(), err)
	}
}

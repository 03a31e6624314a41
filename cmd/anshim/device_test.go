package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Ensure that "anshim device token" prints a token alone on stdout, and
// that "anshim device list" lists enrolled kiosks.
func TestDeviceToken_List(t *testing.T) {
	url, tokenFile := startCentral(t)
	e := testEnv(testNow, "")
	flags := []string{"--central", url, "--admin-token-file", tokenFile}
	e.mustRun(t, append(venueAddArgs("cafe-1", "--status", "approved"), flags...)...)

	code, stdout, stderr := e.anshim(t, append([]string{"device", "token", "--venue", "cafe-1"}, flags...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}\n$`).MatchString(stdout) {
		t.Errorf("stdout = %q, want the token alone", stdout)
	}
	if !strings.Contains(stderr, "enrollment token for a kiosk of venue cafe-1, valid once until ") {
		t.Errorf("stderr = %q", stderr)
	}
	again := e.mustRun(t, append([]string{"device", "token", "--venue", "cafe-1"}, flags...)...)
	if again == stdout {
		t.Error("two tokens are the same")
	}

	code, _, stderr = e.anshim(t, append([]string{"device", "token", "--venue", "nowhere"}, flags...)...)
	if code != 1 || !strings.Contains(stderr, "(HTTP 404)") ||
		!strings.Contains(stderr, "anshim: hint: register the venue first: 'anshim venue add "+strings.Join(flags, " ")+" --id nowhere ...'") {
		t.Errorf("unknown venue: exit %d\n%s", code, stderr)
	}
	code, _, stderr = e.anshim(t, append([]string{"device", "token"}, flags...)...)
	if code != 2 || !strings.Contains(stderr, "--venue is required") {
		t.Errorf("no venue: exit %d\n%s", code, stderr)
	}

	out := e.mustRun(t, append([]string{"device", "list"}, flags...)...)
	if !strings.HasPrefix(out, "DEVICE") {
		t.Errorf("list = %q", out)
	}
	var devices []any
	if err := json.Unmarshal([]byte(e.mustRun(t, append([]string{"device", "list", "--json"}, flags...)...)), &devices); err != nil || len(devices) != 0 {
		t.Errorf("list --json: %v %v", devices, err)
	}
}

// Ensure that the new commands have --help.
func TestVenueDevice_Help(t *testing.T) {
	e := testEnv(testNow, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "venue "},
		{[]string{"--help"}, "device "},
		{[]string{"venue", "--help"}, "add "},
		{[]string{"venue", "add", "--help"}, "Usage: anshim venue add --central URL"},
		{[]string{"device", "--help"}, "token "},
		{[]string{"device", "token", "--help"}, "Usage: anshim device token --central URL"},
		{[]string{"device", "list", "--help"}, "Usage: anshim device list"},
	} {
		code, stdout, _ := e.anshim(t, tc.args...)
		if code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("anshim %v: exit %d, stdout lacks %q:\n%s", tc.args, code, tc.want, stdout)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// Ensure that `kiosk enroll` installs an enrolled kiosk, and that a bad
// token or an unreachable central end in an error and a hint.
func TestEnrollCommand(t *testing.T) {
	keys, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wire.EnrollRequest
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		if req.Token != "good" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"enrollment token unknown, already used or expired"}`))
			return
		}
		pub, _ := base64.StdEncoding.DecodeString(req.DeviceKey)
		id := wire.DeviceID(ed25519.PublicKey(pub))
		json.NewEncoder(w).Encode(wire.Enrollment{Device: id, Venue: "v-42", Bundle: keys.Bundle(),
			NATSURLs: []string{"nats://127.0.0.1:4222"}, Subject: wire.CheckInSubject("v-42", id), InboxPrefix: wire.InboxPrefix(id)})
	}))
	defer srv.Close()
	enrollRun := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := mainRun(context.Background(), append([]string{"enroll"}, args...), strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	sum, err := keys.Bundle().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	other, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	otherSum, _ := other.Bundle().SHA256()

	// http:// without a pin: nothing authenticates the answer.
	noPin := filepath.Join(t.TempDir(), "k0")
	code, _, errs := enrollRun("--token", "good", "--central", srv.URL, "--data", noPin)
	if code != 1 || !strings.Contains(errs, "kiosk: error: enroll: "+srv.URL+": the central's answer cannot be authenticated") ||
		!strings.Contains(errs, "kiosk: hint: give the central's https:// URL, or pin the province bundle with --bundle-sha256 HEX") {
		t.Errorf("http without a pin: exit %d\n%s", code, errs)
	}
	// A pin of another province's bundle: nothing is written.
	wrong := filepath.Join(t.TempDir(), "k1")
	code, _, errs = enrollRun("--token", "good", "--central", srv.URL, "--data", wrong, "--bundle-sha256", otherSum)
	if code != 1 || !strings.Contains(errs, "does not match --bundle-sha256") || !strings.Contains(errs, "kiosk: hint: the central answered with another province's keys") {
		t.Errorf("wrong pin: exit %d\n%s", code, errs)
	}
	for _, d := range []string{noPin, wrong} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s was written", d)
		}
	}

	dir := filepath.Join(t.TempDir(), "kiosk")
	code, out, errs := enrollRun("--token", "good", "--central", srv.URL, "--data", dir, "--bundle-sha256", sum)
	if code != 0 || !strings.Contains(out, "enrolled for venue v-42") || !strings.Contains(out, "province bundle sha256 "+sum) {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(dir, kiosk.FileBundle)); err != nil || fmt.Sprintf("%x", sha256.Sum256(b)) != sum {
		t.Errorf("the installed bundle does not hash to the pin (%v)", err)
	}
	if _, err := uplink.LoadSettings(filepath.Join(dir, kiosk.FileNATS)); err != nil {
		t.Error(err)
	}

	code, _, errs = enrollRun("--token", "bad", "--central", srv.URL, "--data", filepath.Join(t.TempDir(), "k2"), "--bundle-sha256", sum)
	if code != 1 || !strings.Contains(errs, "kiosk: error: the central refused the enrollment (HTTP 403): enrollment token unknown") ||
		!strings.Contains(errs, "kiosk: hint: the token is unknown, already used or expired") {
		t.Errorf("bad token: exit %d\n%s", code, errs)
	}

	srv.Close()
	code, _, errs = enrollRun("--token", "good", "--central", srv.URL, "--data", filepath.Join(t.TempDir(), "k3"), "--bundle-sha256", sum)
	if code != 1 || !strings.Contains(errs, "kiosk: error: cannot reach the central at") || !strings.Contains(errs, "kiosk: hint: check the --central URL") {
		t.Errorf("unreachable: exit %d\n%s", code, errs)
	}

	if code, _, _ := enrollRun("--token", "good"); code != 2 {
		t.Errorf("missing flags: exit %d, want 2", code)
	}
}

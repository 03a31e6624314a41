package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/enroll"
	"github.com/anshim/anshim/sync/uplink"
)

// Ensure that `kiosk enroll` installs an enrolled kiosk, and that a bad
// token or an unreachable central end in an error and a hint.
func TestEnrollCommand(t *testing.T) {
	keys, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req enroll.Request
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		if req.Token != "good" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"enrollment token unknown, already used or expired"}`))
			return
		}
		pub, _ := base64.StdEncoding.DecodeString(req.DeviceKey)
		id := kiosk.DeviceID(ed25519.PublicKey(pub))
		json.NewEncoder(w).Encode(enroll.Response{Device: id, Venue: "v-42", Bundle: keys.Bundle(),
			NATSURLs: []string{"nats://127.0.0.1:4222"}, Subject: uplink.Subject("v-42", id), InboxPrefix: uplink.InboxPrefix(id)})
	}))
	defer srv.Close()
	enrollRun := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := mainRun(context.Background(), append([]string{"enroll"}, args...), strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	dir := filepath.Join(t.TempDir(), "kiosk")
	code, out, errs := enrollRun("--token", "good", "--central", srv.URL, "--data", dir)
	if code != 0 || !strings.Contains(out, "enrolled for venue v-42") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if _, err := uplink.LoadSettings(filepath.Join(dir, kiosk.FileNATS)); err != nil {
		t.Error(err)
	}

	code, _, errs = enrollRun("--token", "bad", "--central", srv.URL, "--data", filepath.Join(t.TempDir(), "k2"))
	if code != 1 || !strings.Contains(errs, "kiosk: error: the central refused the enrollment (HTTP 403): enrollment token unknown") ||
		!strings.Contains(errs, "kiosk: hint: the token is unknown, already used or expired") {
		t.Errorf("bad token: exit %d\n%s", code, errs)
	}

	srv.Close()
	code, _, errs = enrollRun("--token", "good", "--central", srv.URL, "--data", filepath.Join(t.TempDir(), "k3"))
	if code != 1 || !strings.Contains(errs, "kiosk: error: cannot reach the central at") || !strings.Contains(errs, "kiosk: hint: check the --central URL") {
		t.Errorf("unreachable: exit %d\n%s", code, errs)
	}

	if code, _, _ := enrollRun("--token", "good"); code != 2 {
		t.Errorf("missing flags: exit %d, want 2", code)
	}
}

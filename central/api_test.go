package central

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Ensure that admin routes want the admin token.
func TestAPI_AdminAuth(t *testing.T) {
	ts := startServer(t)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/venues", `{"id":"v1","name":"x"}`},
		{"POST", "/v1/venues/v1/tokens", ``},
		{"GET", "/v1/devices", ``},
		{"POST", "/v1/revocations", `{"id":"00112233445566778899aabbccddeeff"}`},
	} {
		for _, auth := range []string{"", "Bearer ", "Bearer wrong", "Basic " + ts.adminToken, ts.adminToken} {
			req, _ := http.NewRequest(r.method, ts.HTTPURL()+r.path, strings.NewReader(r.body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401", r.method, r.path, auth, resp.StatusCode)
			}
		}
	}
}

// Ensure that malformed and oversized bodies are refused.
func TestAPI_BadBodies(t *testing.T) {
	ts := startServer(t)
	post := func(path, body string) int {
		req, _ := http.NewRequest("POST", ts.HTTPURL()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ts.adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 400 && !bytes.Contains(data, []byte(`"error"`)) {
			t.Errorf("POST %s: error body %q", path, data)
		}
		return resp.StatusCode
	}
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{"/v1/enroll", `{"token":"x","device_key":"x","nkey":"x","extra":1}`, 400},
		{"/v1/enroll", `not json`, 400},
		{"/v1/enroll", `{"token":"x"} {}`, 400},
		{"/v1/enroll", `{"token":"` + strings.Repeat("x", MaxRequestBytes) + `"}`, 413},
		{"/v1/venues", `{"id":"v1"}`, 400},
		{"/v1/venues", `{"id":"a.b","name":"x"}`, 400},
		{"/v1/venues/v1/tokens", `{"ttl":"1h"}`, 400},
	} {
		if got := post(tc.path, tc.body); got != tc.want {
			t.Errorf("POST %s %.40q: %d, want %d", tc.path, tc.body, got, tc.want)
		}
	}
}

// Ensure that /health and /metrics report the central and ingest.
func TestAPI_HealthMetrics(t *testing.T) {
	ts := startServer(t)
	var health map[string]any
	if code := ts.do(t, "GET", "/health", nil, false, &health); code != http.StatusOK || health["status"] != "ok" {
		t.Errorf("health: %d %v", code, health)
	}
	k := ts.enroll(t, "cafe-1")
	nc, _ := k.connect(t, ts.NATSURL())
	js, _ := jetstream.New(nc)
	data, id := k.batches(ts.keys).next(t, 3)
	if _, err := js.Publish(context.Background(), k.enr.Subject, data, jetstream.WithMsgID(id)); err != nil {
		t.Fatal(err)
	}
	ts.waitStored(t, k.enr.Device, 3)

	wants := []string{
		"\nanshim_central_devices_enrolled 1\n",
		"\nanshim_central_checkins_stored 3\n",
		"\nanshim_central_quarantined 0\n",
		"\nanshim_central_enrollments_total 1\n",
		"\nanshim_central_nats_connected 1\n",
		"\nanshim_ingest_batches_total 1\n",
		"\nanshim_ingest_records_stored_total 3\n",
	}
	// Ingest counts a batch just after its commit, which waitStored
	// already sees: read the metrics until they caught up (5 s at most).
	var body []byte
	var missing []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(ts.HTTPURL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("content type %q", ct)
		}
		missing = missing[:0]
		for _, want := range wants {
			if !strings.Contains(string(body), want) {
				missing = append(missing, strings.TrimSpace(want))
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("metrics lack %q:\n%s", missing, body)
	}
	var stats []DeviceStats
	ts.do(t, "GET", "/v1/devices", nil, true, &stats)
	if len(stats) != 1 || stats[0].Records != 3 || stats[0].LastSeq != 3 {
		t.Errorf("devices = %+v", stats)
	}
}

// Ensure that the central's secrets are made once, mode 0600, and that a
// secret others can read is refused.
func TestSecrets(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	cfg, _ := testConfig(t, dir, clock)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.adminToken
	s.Close()
	for _, f := range []string{AdminTokenFile, NKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	if len(tok) != 64 {
		t.Errorf("admin token %q: want 64 hex digits", tok)
	}
	s, err = New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.adminToken != tok {
		t.Error("admin token changed on the second start")
	}
	s.Close()
	os.Chmod(filepath.Join(dir, AdminTokenFile), 0o644)
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("readable admin token: err = %v", err)
	}
}

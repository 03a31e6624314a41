package enroll_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/uplink"
	"github.com/anshim/anshim/sync/wire"
)

// fakeCentral answers POST /v1/enroll as the central does: one token, used
// once (a repeat by the same device gets the same answer).
type fakeCentral struct {
	t      *testing.T
	keys   *province.Keys
	token  string
	mu     sync.Mutex
	used   string // device that used the token
	calls  int
	fail   int // answer 503 to this many requests first
	mangle func(*wire.Enrollment)
}

func newCentral(t *testing.T) (*fakeCentral, *httptest.Server) {
	keys, err := province.Generate(rand.Reader, "jeju")
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeCentral{t: t, keys: keys, token: "3f9c0e6a11b24c5d8e7f60718293a4b5"}
	// HTTPS with a self-signed certificate that options' client trusts.
	srv := httptest.NewTLSServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	return c, srv
}

func (c *fakeCentral) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	if r.Method != http.MethodPost || r.URL.Path != wire.EnrollPath {
		reply(http.StatusNotFound, map[string]string{"error": "no such endpoint"})
		return
	}
	if c.fail > 0 {
		c.fail--
		reply(http.StatusServiceUnavailable, map[string]string{"error": "NATS unavailable"})
		return
	}
	var req wire.EnrollRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		reply(http.StatusBadRequest, map[string]string{"error": "invalid request: " + err.Error()})
		return
	}
	pub, err := base64.StdEncoding.DecodeString(req.DeviceKey)
	if err != nil || len(pub) != ed25519.PublicKeySize || !nkeys.IsValidPublicUserKey(req.NKey) {
		reply(http.StatusBadRequest, map[string]string{"error": "invalid request: keys"})
		return
	}
	id := wire.DeviceID(pub)
	if req.Token != c.token || (c.used != "" && c.used != id) {
		reply(http.StatusForbidden, map[string]string{"error": "enrollment token unknown, already used or expired"})
		return
	}
	c.used = id
	resp := &wire.Enrollment{Device: id, Venue: "v-1234567891", Bundle: c.keys.Bundle(),
		NATSURLs: []string{"nats://central.example:4222"}, Subject: wire.CheckInSubject("v-1234567891", id), InboxPrefix: wire.InboxPrefix(id)}
	if c.mangle != nil {
		c.mangle(resp)
	}
	reply(http.StatusOK, resp)
}

func options(srv *httptest.Server, token, dir string) enroll.Options {
	return enroll.Options{Central: srv.URL, Token: token, Dir: dir, RetryWait: 10 * time.Millisecond, Client: srv.Client()}
}

// Ensure that an enrollment installs a kiosk that `kiosk run` can load:
// device, bundle, outbox, NATS settings and a private NATS key.
func TestEnroll(t *testing.T) {
	c, srv := newCentral(t)
	dir := filepath.Join(t.TempDir(), "kiosk")
	res, err := enroll.Enroll(context.Background(), options(srv, c.token, dir))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := kiosk.LoadDevice(dir)
	if err != nil {
		t.Fatal(err)
	}
	if dev.ID != res.Device.ID || dev.Venue != "v-1234567891" || dev.ID != c.used {
		t.Errorf("device %s of venue %s; enrolled %s", dev.ID, dev.Venue, c.used)
	}
	s, err := uplink.LoadSettings(filepath.Join(dir, kiosk.FileNATS))
	if err != nil {
		t.Fatal(err)
	}
	if s.Subject != wire.CheckInSubject(dev.Venue, dev.ID) || s.InboxPrefix != "_INBOX_"+dev.ID || s.URLs[0] != "nats://central.example:4222" {
		t.Errorf("settings %+v", s)
	}
	seed, err := uplink.LoadSeed(filepath.Join(dir, kiosk.FileNATSKey))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, kiosk.FileNATSKey)); fi.Mode().Perm() != 0o600 {
		t.Errorf("nats.nk mode %v", fi.Mode().Perm())
	}
	if _, err := nkeys.FromSeed(seed); err != nil {
		t.Error(err)
	}
	ob, err := kiosk.OpenOutbox(filepath.Join(dir, kiosk.FileOutbox), dev.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	ob.Close()
	if _, err := province.LoadBundle(filepath.Join(dir, kiosk.FileBundle)); err != nil {
		t.Error(err)
	}
}

// Ensure that refusals, an unreachable central and a wrong answer say what
// happened and install nothing.
func TestEnroll_Errors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(c *fakeCentral, srv *httptest.Server, o *enroll.Options)
		check func(t *testing.T, err error)
	}{
		{"bad token", func(c *fakeCentral, _ *httptest.Server, o *enroll.Options) { o.Token = "nope" }, func(t *testing.T, err error) {
			var r *enroll.RefusedError
			if !errors.As(err, &r) || !r.BadToken() || !strings.Contains(err.Error(), "already used or expired") {
				t.Errorf("error %v", err)
			}
		}},
		{"used token", func(c *fakeCentral, _ *httptest.Server, _ *enroll.Options) { c.used = "k-someoneelse" }, func(t *testing.T, err error) {
			var r *enroll.RefusedError
			if !errors.As(err, &r) || r.Status != http.StatusForbidden {
				t.Errorf("error %v", err)
			}
		}},
		{"unreachable", func(_ *fakeCentral, srv *httptest.Server, o *enroll.Options) {
			srv.Close()
		}, func(t *testing.T, err error) {
			var u *enroll.UnreachableError
			if !errors.As(err, &u) {
				t.Errorf("error %v", err)
			}
		}},
		{"wrong path", func(_ *fakeCentral, srv *httptest.Server, o *enroll.Options) { o.Central = srv.URL + "/elsewhere" }, func(t *testing.T, err error) {
			var r *enroll.RefusedError
			if !errors.As(err, &r) || r.Status != http.StatusNotFound {
				t.Errorf("error %v", err)
			}
		}},
		{"not a URL", func(_ *fakeCentral, _ *httptest.Server, o *enroll.Options) { o.Central = "central.example" }, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "want http(s)://host") {
				t.Errorf("error %v", err)
			}
		}},
		{"another device in the answer", func(c *fakeCentral, _ *httptest.Server, _ *enroll.Options) {
			c.mangle = func(r *wire.Enrollment) { r.Device = "k-0000000000000000" }
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "this kiosk's key makes") {
				t.Errorf("error %v", err)
			}
		}},
		{"no NATS URL in the answer", func(c *fakeCentral, _ *httptest.Server, _ *enroll.Options) {
			c.mangle = func(r *wire.Enrollment) { r.NATSURLs = nil }
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "no NATS server URLs") {
				t.Errorf("error %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newCentral(t)
			dir := filepath.Join(t.TempDir(), "kiosk")
			o := options(srv, c.token, dir)
			tt.setup(c, srv, &o)
			_, err := enroll.Enroll(context.Background(), o)
			tt.check(t, err)
			if _, serr := os.Stat(filepath.Join(dir, kiosk.FileDevice)); serr == nil {
				t.Error("a device was installed")
			}
		})
	}
}

// Ensure that a server error is retried with the same keys, which the
// central answers with the same enrollment.
func TestEnroll_RetriesServerErrors(t *testing.T) {
	c, srv := newCentral(t)
	c.fail = 2
	dir := filepath.Join(t.TempDir(), "kiosk")
	if _, err := enroll.Enroll(context.Background(), options(srv, c.token, dir)); err != nil {
		t.Fatal(err)
	}
	if c.calls != 3 {
		t.Errorf("%d requests, want 3", c.calls)
	}
	c.fail = 5
	_, err := enroll.Enroll(context.Background(), options(srv, c.token, filepath.Join(t.TempDir(), "other")))
	var u *enroll.UnreachableError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "NATS unavailable") {
		t.Errorf("error after every attempt failed: %v", err)
	}
}

// Ensure that a directory that holds an enrolled kiosk is refused before
// the token is used up.
func TestEnroll_AlreadyProvisioned(t *testing.T) {
	c, srv := newCentral(t)
	dir := filepath.Join(t.TempDir(), "kiosk")
	if _, err := enroll.Enroll(context.Background(), options(srv, c.token, dir)); err != nil {
		t.Fatal(err)
	}
	calls := c.calls
	_, err := enroll.Enroll(context.Background(), options(srv, c.token, dir))
	if !errors.Is(err, enroll.ErrEnrolled) || !strings.Contains(err.Error(), "the kiosk is enrolled already") {
		t.Errorf("error %v", err)
	}
	if c.calls != calls {
		t.Error("the central was asked for a directory that holds an enrolled kiosk")
	}
}

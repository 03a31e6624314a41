package central

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// Ensure that a kiosk enrolls with a token and gets what it needs to sync.
func TestEnroll_HappyPath(t *testing.T) {
	ts := startServer(t)
	k := ts.enroll(t, "cafe-1")

	pub := k.key.Public().(ed25519.PublicKey)
	e := k.enr
	if want := wire.DeviceID(pub); e.Device != want {
		t.Errorf("device = %q, want %q", e.Device, want)
	}
	if !regexp.MustCompile(`^k-[0-9a-f]{16}$`).MatchString(e.Device) {
		t.Errorf("device id %q: want k- and 16 hex digits", e.Device)
	}
	if e.Venue != "cafe-1" {
		t.Errorf("venue = %q", e.Venue)
	}
	if want := "anshim.checkins.cafe-1." + e.Device; e.Subject != want {
		t.Errorf("subject = %q, want %q", e.Subject, want)
	}
	if want := "_INBOX_" + e.Device; e.InboxPrefix != want {
		t.Errorf("inbox_prefix = %q, want %q", e.InboxPrefix, want)
	}
	if len(e.NATSURLs) != 1 || e.NATSURLs[0] != ts.NATSURL() {
		t.Errorf("nats_urls = %q, want [%s]", e.NATSURLs, ts.NATSURL())
	}
	got, _ := json.Marshal(e.Bundle)
	want, _ := json.Marshal(ts.keys.Bundle())
	if string(got) != string(want) {
		t.Errorf("bundle = %s\nwant %s", got, want)
	}

	// The store knows the device; the stats list it.
	d, err := ts.store.Device(context.Background(), e.Device)
	if err != nil {
		t.Fatal(err)
	}
	nk, _ := k.nkey.PublicKey()
	if d.Venue != "cafe-1" || d.NKey != nk || !pub.Equal(d.PublicKey) || !d.Enrolled.Equal(ts.clock.Now()) {
		t.Errorf("stored device = %+v", d)
	}
	var stats []DeviceStats
	if code := ts.do(t, "GET", "/v1/devices", nil, true, &stats); code != http.StatusOK {
		t.Fatalf("GET /v1/devices: %d", code)
	}
	if len(stats) != 1 || stats[0].ID != e.Device || stats[0].Venue != "cafe-1" {
		t.Errorf("devices = %+v", stats)
	}
}

// Ensure that the enrollment response decodes as the kiosk reads it: the
// bundle is the province's public bundle object.
func TestEnroll_ResponseJSON(t *testing.T) {
	ts := startServer(t)
	k := newTestKiosk(t)
	tok := ts.addVenueAndToken(t, "cafe-1")
	var raw map[string]json.RawMessage
	if code := ts.do(t, "POST", "/v1/enroll", k.request(tok), false, &raw); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, f := range []string{"device", "venue", "bundle", "nats_urls", "subject", "inbox_prefix"} {
		if _, ok := raw[f]; !ok {
			t.Errorf("response has no %q", f)
		}
	}
	var b province.Bundle
	if err := json.Unmarshal(raw["bundle"], &b); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	if b.Province != "jeju" || b.SealingKeyID != ts.keys.SealingKeyID() {
		t.Errorf("bundle = %+v", b)
	}
}

// Ensure that a token enrolls one device only; the same device retrying
// gets its enrollment again.
func TestEnroll_ReusedToken(t *testing.T) {
	ts := startServer(t)
	tok := ts.addVenueAndToken(t, "cafe-1")
	k1, k2 := newTestKiosk(t), newTestKiosk(t)
	var e1, again wire.Enrollment
	if code := ts.do(t, "POST", "/v1/enroll", k1.request(tok), false, &e1); code != http.StatusOK {
		t.Fatalf("first enrollment: %d", code)
	}
	if code := ts.do(t, "POST", "/v1/enroll", k2.request(tok), false, nil); code != http.StatusForbidden {
		t.Errorf("another device with a used token: status %d, want 403", code)
	}
	if code := ts.do(t, "POST", "/v1/enroll", k1.request(tok), false, &again); code != http.StatusOK {
		t.Errorf("the same device retrying: status %d, want 200", code)
	}
	if again.Device != e1.Device || again.Subject != e1.Subject {
		t.Errorf("retry = %+v, want %+v", again, e1)
	}
	// The same device key with another nkey is not a retry.
	k3 := newTestKiosk(t)
	k3.key = k1.key
	if code := ts.do(t, "POST", "/v1/enroll", k3.request(tok), false, nil); code != http.StatusForbidden {
		t.Errorf("same key, other nkey: status %d, want 403", code)
	}
	devices, err := ts.store.Devices(context.Background())
	if err != nil || len(devices) != 1 {
		t.Errorf("devices = %v, %v; want one", devices, err)
	}
}

// Ensure that an expired token, or an unknown one, enrolls nobody.
func TestEnroll_ExpiredToken(t *testing.T) {
	ts := startServer(t)
	tok := ts.addVenueAndToken(t, "cafe-1")
	ts.clock.Advance(DefaultTokenTTL)
	_, err := ts.Enroll(context.Background(), newTestKiosk(t).request(tok))
	if !errors.Is(err, ErrBadToken) {
		t.Errorf("expired token: err = %v, want ErrBadToken", err)
	}
	if code := ts.do(t, "POST", "/v1/enroll", newTestKiosk(t).request(tok), false, nil); code != http.StatusForbidden {
		t.Errorf("expired token: status %d, want 403", code)
	}
	if code := ts.do(t, "POST", "/v1/enroll", newTestKiosk(t).request("0123456789abcdef0123456789abcdef"), false, nil); code != http.StatusForbidden {
		t.Errorf("unknown token: status %d, want 403", code)
	}

	// Just before expiry, it works.
	tok = ts.addVenueAndToken(t, "cafe-1")
	ts.clock.Advance(DefaultTokenTTL - time.Second)
	if _, err := ts.Enroll(context.Background(), newTestKiosk(t).request(tok)); err != nil {
		t.Errorf("token one second before expiry: %v", err)
	}
}

// Ensure that a malformed nkey or device key is refused without using the
// token up.
func TestEnroll_BadKeys(t *testing.T) {
	ts := startServer(t)
	tok := ts.addVenueAndToken(t, "cafe-1")
	acct, _ := nkeys.CreateAccount()
	acctPub, _ := acct.PublicKey()
	userSeed, _ := newTestKiosk(t).nkey.Seed()
	for _, tc := range []struct {
		name string
		edit func(*wire.EnrollRequest)
	}{
		{"empty nkey", func(r *wire.EnrollRequest) { r.NKey = "" }},
		{"garbage nkey", func(r *wire.EnrollRequest) { r.NKey = "UNOTAKEY" }},
		{"account nkey", func(r *wire.EnrollRequest) { r.NKey = acctPub }},
		{"user seed as nkey", func(r *wire.EnrollRequest) { r.NKey = string(userSeed) }},
		{"nkey with a flipped character", func(r *wire.EnrollRequest) {
			b := []byte(r.NKey)
			b[10] ^= 1
			r.NKey = string(b)
		}},
		{"short device key", func(r *wire.EnrollRequest) { r.DeviceKey = "AAAA" }},
		{"device key not base64", func(r *wire.EnrollRequest) { r.DeviceKey = "not base64!" }},
		{"no token", func(r *wire.EnrollRequest) { r.Token = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newTestKiosk(t).request(tok)
			tc.edit(&req)
			if code := ts.do(t, "POST", "/v1/enroll", req, false, nil); code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
		})
	}
	if code := ts.do(t, "POST", "/v1/enroll", newTestKiosk(t).request(tok), false, nil); code != http.StatusOK {
		t.Errorf("the token after refused requests: status %d, want 200", code)
	}
}

// Ensure that tokens are made only for known venues, and venue ids are
// single NATS subject tokens.
func TestAddVenue_NewToken(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	if _, err := ts.NewToken(ctx, "nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token for an unknown venue: err = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"", "a.b", "a*", "a>", "a b", string(make([]byte, 65))} {
		if _, err := ts.AddVenue(ctx, id, "x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("venue id %q: err = %v, want ErrInvalid", id, err)
		}
	}
	if _, err := ts.AddVenue(ctx, "v1", "  "); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: err = %v, want ErrInvalid", err)
	}
	if _, err := ts.AddVenue(ctx, "v1", "Cafe"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.AddVenue(ctx, "v1", "Cafe"); !errors.Is(err, store.ErrExists) {
		t.Errorf("venue twice: err = %v, want ErrExists", err)
	}
	if code := ts.do(t, "POST", "/v1/venues", testRegistration("v1", ""), true, nil); code != http.StatusConflict {
		t.Errorf("venue twice over HTTP: %d, want 409", code)
	}
	if code := ts.do(t, "POST", "/v1/venues/nowhere/tokens", nil, true, nil); code != http.StatusNotFound {
		t.Errorf("token for an unknown venue over HTTP: %d, want 404", code)
	}
	var tok Token
	if code := ts.do(t, "POST", "/v1/venues/v1/tokens", nil, true, &tok); code != http.StatusCreated {
		t.Fatalf("token: %d", code)
	}
	if want := ts.clock.Now().Add(DefaultTokenTTL); !tok.Expires.Equal(want) || tok.Venue != "v1" || len(tok.Token) != 32 {
		t.Errorf("token = %+v, want expiry %v", tok, want)
	}
}

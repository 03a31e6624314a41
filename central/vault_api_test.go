package central

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
)

// logBuffer collects a server's whole log, for searches.
type logBuffer struct{ logtest.Buffer }

// count returns how many lines of the log hold every one of substrs.
func (b *logBuffer) count(substrs ...string) int { return b.Count(substrs...) }

func (b *logBuffer) waitFor(t *testing.T, n int, substrs ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.count(substrs...) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the log has %d lines with %q, want %d:\n%s", b.count(substrs...), substrs, n, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkNoPersonalData checks that the log holds none of secrets.
func (b *logBuffer) checkNoPersonalData(t *testing.T, secrets ...string) {
	t.Helper()
	log := b.String()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// startLoggedServer starts a central whose whole log, debug level and
// up, goes to the returned buffer (and to the test's log with -v).
func startLoggedServer(t *testing.T, cfg Config, clock *testClock) (*testServer, *logBuffer) {
	t.Helper()
	logs := new(logBuffer)
	var w io.Writer = logs
	if testing.Verbose() {
		w = io.MultiWriter(logs, tWriter{t})
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &testServer{Server: s, clock: clock, cfg: cfg}, logs
}

// post sends an admin POST with a raw body and returns the status and the
// response body.
func (ts *testServer) post(t *testing.T, path, body string, admin bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", ts.HTTPURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if admin {
		req.Header.Set("Authorization", "Bearer "+ts.adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// issued is the answer of POST /v1/persons/{id}/passes.
type issued struct {
	Pass    string    `json:"pass"`
	Kind    string    `json:"kind"`
	Serial  uint32    `json:"serial"`
	Expires time.Time `json:"expires"`
	Revoked []uint32  `json:"revoked"`
}

func (ts *testServer) issue(t *testing.T, id, body string) issued {
	t.Helper()
	var out issued
	var req any
	if body != "" {
		req = map[string]string{"kind": body}
	}
	if code := ts.do(t, "POST", "/v1/persons/"+id+"/passes", req, true, &out); code != http.StatusCreated {
		t.Fatalf("issue %s pass to %s: status %d", body, id, code)
	}
	return out
}

// personalForms are the ways a person's name or number could show.
func personalForms(name, phone string) []string {
	e164, err := vault.NormalizePhone(phone)
	if err != nil {
		panic(err)
	}
	national := "0" + e164[3:]
	return append(strings.Fields(name), name, phone, e164, national, national[1:], national[3:])
}

// Ensure that the vault's routes register a person without echoing the
// number, issue passes that verify, revoke earlier and lost cards through
// the revocation bucket, refuse bad input with errors naming the field,
// and log no personal data.
func TestVaultAPI(t *testing.T) {
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	ts, logs := startLoggedServer(t, cfg, clock)
	const name, phone = "홍길동 Hong", "010-9876-5432"

	code, body := ts.post(t, "/v1/persons", fmt.Sprintf(`{"name":%q,"phone":%q}`, name, phone), true)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %s", code, body)
	}
	var p struct {
		ID      string    `json:"id"`
		Created time.Time `json:"created"`
	}
	ts.decode(t, body, &p)
	if !strings.HasPrefix(p.ID, "p-") || !p.Created.Equal(clock.Now()) {
		t.Fatalf("register = %s", body)
	}
	for _, form := range personalForms(name, phone) {
		if strings.Contains(body, form) {
			t.Errorf("the registration's answer holds %q: %s", form, body)
		}
	}

	// Refusals name the field, without repeating the input.
	for _, tt := range []struct {
		body string
		code int
		want string
	}{
		{`{"name":"Kim","phone":"+82 10 9876 5432"}`, http.StatusConflict, "phone: registered already, as person " + p.ID},
		{`{"name":"Kim","phone":"064-710-2114"}`, http.StatusBadRequest, "phone: not a mobile number"},
		{`{"name":"Kim","phone":"010-1234-567x"}`, http.StatusBadRequest, "phone: only digits"},
		{`{"name":"Kim"}`, http.StatusBadRequest, "phone: empty"},
		{`{"name":" ","phone":"010-1111-2222"}`, http.StatusBadRequest, "name: empty"},
		{`{"name":"Kim","phone":"010-1111-2222","pseudonym":"x"}`, http.StatusBadRequest, "unknown field"},
	} {
		code, body := ts.post(t, "/v1/persons", tt.body, true)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("register %s: %d %s, want %d with %q", tt.body, code, body, tt.code, tt.want)
		}
		if strings.Contains(body, "Kim") || strings.Contains(body, "1111") || strings.Contains(body, "710") {
			t.Errorf("register %s: the answer repeats the input: %s", tt.body, body)
		}
	}

	verifier := pass.NewVerifier(keys.PassKeys(), nil)
	verify := func(text string) pass.Pass {
		t.Helper()
		pp, err := verifier.Verify(text, clock.Now())
		if err != nil {
			t.Fatalf("issued pass does not verify: %v", err)
		}
		return pp
	}
	app := ts.issue(t, p.ID, "")
	ap := verify(app.Pass)
	if app.Kind != "app" || app.Serial != 0 || ap.Kind != pass.KindApp || len(app.Revoked) != 0 {
		t.Errorf("app pass = %+v", app)
	}
	if again := verify(ts.issue(t, p.ID, "app").Pass); again.Pseudonym != ap.Pseudonym {
		t.Error("two app passes of a person carry different pseudonyms")
	}
	card1 := ts.issue(t, p.ID, "card")
	c1 := verify(card1.Pass)
	card2 := ts.issue(t, p.ID, "card")
	c2 := verify(card2.Pass)
	if card1.Serial != 1 || c1.Serial != 1 || card2.Serial != 2 || !slices.Equal(card2.Revoked, []uint32{1}) ||
		c1.Pseudonym != ap.Pseudonym || c2.Kind != pass.KindCard {
		t.Fatalf("cards = %+v, %+v", card1, card2)
	}
	if !card2.Expires.Equal(c2.Expires) || !c2.Expires.Equal(c2.Issued.Add(vault.DefaultPassLifetime)) {
		t.Errorf("card 2 expires %v (pass: %v)", card2.Expires, c2.Expires)
	}

	js, err := jetstream.New(ts.centralConn(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := readBucket(t, js, wire.BucketRevoked); !mapsEqual(got, map[string]string{c1.RevocationID(): "1"}) {
		t.Fatalf("%s after the second card = %v, want card 1's id", wire.BucketRevoked, got)
	}

	// A lost card: revoked, twice without harm; a kiosk then refuses it.
	_, w := watchAll(t, js, wire.BucketRevoked)
	defer w.Stop()
	var rv struct {
		ID           string `json:"id"`
		Serial       uint32 `json:"serial"`
		RevocationID string `json:"revocation_id"`
		Revoked      bool   `json:"revoked"`
	}
	for range 2 {
		code, body = ts.post(t, "/v1/persons/"+p.ID+"/cards/2/revoke", "", true)
		if code != http.StatusOK {
			t.Fatalf("revoke card 2: %d %s", code, body)
		}
		ts.decode(t, body, &rv)
		if rv.ID != p.ID || rv.Serial != 2 || rv.RevocationID != c2.RevocationID() || !rv.Revoked {
			t.Fatalf("revoke card 2 = %s", body)
		}
	}
	if e := nextUpdate(t, w); e.Key() != c2.RevocationID() || string(e.Value()) != "1" {
		t.Errorf("kiosk's watcher saw %s=%q, want card 2 revoked", e.Key(), e.Value())
	}
	revoked := readBucket(t, js, wire.BucketRevoked)
	list, err := pass.NewRevocationList(slices.Collect(maps.Keys(revoked))...)
	if err != nil {
		t.Fatal(err)
	}
	kiosk := pass.NewVerifier(keys.PassKeys(), list)
	for _, tt := range []struct {
		text    string
		revoked bool
	}{{card1.Pass, true}, {card2.Pass, true}, {app.Pass, false}} {
		if _, err := kiosk.Verify(tt.text, clock.Now()); (err != nil) != tt.revoked || tt.revoked && pass.Reason(err) != "revoked" {
			t.Errorf("kiosk's verification of a pass (revoked %v): %v", tt.revoked, err)
		}
	}
	// The next card has the next serial; every earlier card stays revoked.
	if card3 := ts.issue(t, p.ID, "card"); card3.Serial != 3 || len(card3.Revoked) != 0 {
		t.Errorf("card 3 = %+v, want serial 3 revoking nothing new", card3)
	}

	for _, tt := range []struct {
		path, body string
		code       int
		want       string
	}{
		{"/v1/persons/" + p.ID + "/passes", `{"kind":"paper"}`, http.StatusBadRequest, "kind: want app or card"},
		{"/v1/persons/p-0000000000000000/passes", `{"kind":"app"}`, http.StatusNotFound, "not found"},
		{"/v1/persons/" + p.ID + "/cards/0/revoke", ``, http.StatusBadRequest, "serial:"},
		{"/v1/persons/" + p.ID + "/cards/x/revoke", ``, http.StatusBadRequest, "serial:"},
		{"/v1/persons/" + p.ID + "/cards/4294967296/revoke", ``, http.StatusBadRequest, "serial:"},
		{"/v1/persons/" + p.ID + "/cards/9/revoke", ``, http.StatusNotFound, "card 9: not found"},
		{"/v1/persons/p-0000000000000000/cards/1/revoke", ``, http.StatusNotFound, "not found"},
	} {
		if code, body := ts.post(t, tt.path, tt.body, true); code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("POST %s %s: %d %s, want %d with %q", tt.path, tt.body, code, body, tt.code, tt.want)
		}
	}
	for _, path := range []string{"/v1/persons", "/v1/persons/" + p.ID + "/passes", "/v1/persons/" + p.ID + "/cards/1/revoke"} {
		if code, _ := ts.post(t, path, `{}`, false); code != http.StatusUnauthorized {
			t.Errorf("POST %s without the admin token: %d, want 401", path, code)
		}
	}

	logs.waitFor(t, 1, "card revoked", "person="+p.ID, "serial=2")
	secrets := append(personalForms(name, phone), hex.EncodeToString(ap.Pseudonym[:]), app.Pass[len(pass.Prefix):len(pass.Prefix)+40])
	logs.checkNoPersonalData(t, secrets...)
}

func (ts *testServer) decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// Ensure that identities unused for 8 weeks are destroyed when the server
// starts and then daily by the server's clock, the count logged without
// personal data, and that a used identity stays.
func TestVaultAPI_Retention(t *testing.T) {
	defer func(p time.Duration) { periodicPoll = p }(periodicPoll)
	periodicPoll = 5 * time.Millisecond

	clock := newTestClock()
	dir := t.TempDir()
	cfg, keys := testConfig(t, dir, clock)

	// A person registered 9 weeks before the server starts.
	st, err := boltstore.Open(filepath.Join(dir, StoreFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := vault.New(st, keys.KEK(), keys.Signer(), &vault.Options{Now: func() time.Time { return clock.Now().Add(-9 * 7 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := old.Register(t.Context(), "Oldfield Quimby", "011-234-5678")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	ts, logs := startLoggedServer(t, cfg, clock)
	logs.waitFor(t, 1, "destroyed identities unused for 8 weeks", "count=1")
	if code, body := ts.post(t, "/v1/persons/"+gone.ID+"/passes", `{"kind":"app"}`, true); code != http.StatusNotFound || !strings.Contains(body, "identity destroyed") {
		t.Errorf("pass for a destroyed identity: %d %s", code, body)
	}

	register := func(name, phone string) string {
		t.Helper()
		var p struct{ ID string }
		if code := ts.do(t, "POST", "/v1/persons", map[string]string{"name": name, "phone": phone}, true, &p); code != http.StatusCreated {
			t.Fatalf("register: %d", code)
		}
		return p.ID
	}
	idle := register("Idleton Zorba", "010-1111-2222")
	active := register("Activa Yuen", "010-3333-4444")
	// The number of the destroyed identity registers again.
	register("Oldfield Quimby", "011-234-5678")

	// A day later, nothing is 8 weeks old.
	clock.Advance(vaultRetentionEvery)
	logs.waitFor(t, 1, "destroyed identities unused for 8 weeks", "count=0")
	// Six weeks later the active person gets a card; two weeks and a day
	// after that the others are 8 weeks unused.
	clock.Advance(6 * 7 * 24 * time.Hour)
	ts.issue(t, active, "card")
	clock.Advance(2*7*24*time.Hour + time.Hour)
	logs.waitFor(t, 1, "destroyed identities unused for 8 weeks", "count=2")
	if code, body := ts.post(t, "/v1/persons/"+idle+"/passes", `{"kind":"app"}`, true); code != http.StatusNotFound || !strings.Contains(body, "identity destroyed") {
		t.Errorf("pass for the idle person: %d %s", code, body)
	}
	ts.issue(t, active, "app")

	logs.checkNoPersonalData(t, slices.Concat(
		personalForms("Oldfield Quimby", "011-234-5678"),
		personalForms("Idleton Zorba", "010-1111-2222"),
		personalForms("Activa Yuen", "010-3333-4444"),
		[]string{hex.EncodeToString(gone.Pseudonym[:])})...)
}

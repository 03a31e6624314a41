package central

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/appcheckin"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/venuecode"
)

// Ensure that the JetStream errors of a cluster still forming are retried
// at start and the others are not.
func TestTransientJS(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no peers for placement", fmt.Errorf("KV bucket x: %w", &jetstream.APIError{Code: 400, ErrorCode: jsErrNoPeers, Description: "no suitable peers for placement, peer offline"}), true},
		{"temporarily unavailable", &jetstream.APIError{Code: 503, ErrorCode: jsErrClusterNotAvl}, true},
		{"not enabled", jetstream.ErrJetStreamNotEnabled, true},
		{"no responders", fmt.Errorf("account info: %w", nats.ErrNoResponders), true},
		{"timeout", context.DeadlineExceeded, true},
		{"disconnected", nats.ErrDisconnected, true},
		{"bad config", &jetstream.APIError{Code: 400, ErrorCode: 10058, Description: "stream name already in use with a different configuration"}, false},
		{"other", errors.New("permission denied"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transientJS(tt.err); got != tt.want {
				t.Errorf("transientJS(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// Ensure that a second central pointed at a bbolt file in use fails within
// a few seconds, saying that bbolt serves one process and what to do.
func TestOpenStore_BoltInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.db")
	cfg := Config{Data: t.TempDir(), Store: "bolt:" + path}
	first, err := OpenStore(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	second, err := OpenStore(&cfg) // bbolt's flock: per open file, so also within a process
	if err == nil {
		second.Close()
		t.Fatal("a second OpenStore of a bbolt file in use succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the second OpenStore failed after %v, want a few seconds", d)
	}
	for _, want := range []string{"locked by another process", "one central process", "postgres://"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// Ensure that of two centrals on one PostgreSQL store exactly one signs
// the ledger's checkpoints, and that the other takes over within a few
// seconds when it stops.
func TestLedgerSigner_OneOfTwo(t *testing.T) {
	old := leaseEvery
	leaseEvery = 100 * time.Millisecond
	defer func() { leaseEvery = old }()
	a, b := startTwoCentrals(t)
	clock := a.clock

	signers := func() (n int, which *testServer) {
		for _, s := range []*testServer{a, b} {
			if s.SignsLedger() {
				n, which = n+1, s
			}
		}
		return n, which
	}
	waitOne := func(what string) *testServer {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, s := signers()
			if n == 1 {
				// And it stays one.
				time.Sleep(5 * leaseEvery)
				if n2, s2 := signers(); n2 != 1 || s2 != s {
					t.Fatalf("%s: %d signers after %d", what, n2, n)
				}
				return s
			}
			if n > 1 {
				t.Fatalf("%s: both centrals sign the ledger", what)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no central signs the ledger after 10 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	lead := waitOne("at start")
	other := a
	if lead == a {
		other = b
	}
	stopped := time.Now()
	if err := lead.Close(); err != nil {
		t.Fatal(err)
	}
	if lead.SignsLedger() {
		t.Error("a closed central still says it signs the ledger")
	}
	if got := waitOne("after the signer stopped"); got != other {
		t.Fatal("the stopped central signs")
	}
	t.Logf("the other central signs %v after the first stopped", time.Since(stopped).Round(time.Millisecond))
	// It signs: a checkpoint of the shared tree.
	ctx := context.Background()
	if _, _, err := other.CheckpointLedger(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := other.store.LatestCheckpoint(ctx); err != nil {
		t.Fatalf("no checkpoint after the takeover: %v", err)
	}
}

// Ensure that a central learns from the shared store of the kiosks
// another central enrolled and decommissioned (its NATS users and its
// consumer guard need them), and never adds back a device it removed
// itself before the audit event that records it is stored.
func TestRefreshUsers_TwoCentrals(t *testing.T) {
	a, b := startTwoCentrals(t)
	ctx := context.Background()

	k := a.enroll(t, "v-1")
	dev := k.enr.Device
	pub, _ := k.nkey.PublicKey()
	if _, ok := a.deviceNKey(dev); !ok {
		t.Fatal("the enrolling central does not know its kiosk")
	}
	if _, ok := b.deviceNKey(dev); ok {
		t.Fatal("the other central knew the kiosk before reading the store")
	}
	b.knowNKey(ctx, pub) // as the consumer guard does for an unknown creator
	if got, ok := b.deviceNKey(dev); !ok || got != pub {
		t.Fatalf("after reading the store the other central has %q, %v; want %q", got, ok, pub)
	}

	// A device removed here before its audit event is stored stays out.
	a.usersMu.Lock()
	delete(a.users, dev)
	a.usersMu.Unlock()
	if err := a.refreshUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.deviceNKey(dev); ok {
		t.Fatal("refreshUsers added back a device this central had removed")
	}
	if err := a.Decommission(ctx, dev, "stolen"); err != nil {
		t.Fatal(err)
	}
	if err := b.refreshUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.deviceNKey(dev); ok {
		t.Fatal("the other central kept a decommissioned kiosk's NATS user")
	}
}

// Ensure that the web works from any central on one PostgreSQL: sessions
// are in the shared store, so a sign-in at one central is good at the
// other, and a sign-out at the other ends it at both.
func TestWebSession_TwoCentrals(t *testing.T) {
	a, b := startTwoCentrals(t)

	br := signInInvestigator(t, a, "kim.epi")
	br.base = b.HTTPURL()
	if code, loc, page := br.do("GET", "/console", nil); code != http.StatusOK || !strings.Contains(page, "kim.epi") {
		t.Fatalf("the other central's /console with a session of the first: %d → %q", code, loc)
	}
	if code, _, _ := br.do("POST", "/signout", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("sign-out at the other central: %d", code)
	}
	br.base = a.HTTPURL()
	if code, loc, _ := br.do("GET", "/console", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Fatalf("the first central after a sign-out at the other: %d → %q, want 303 → /signin", code, loc)
	}
}

// startTwoCentrals starts two centrals of one province on one new
// PostgreSQL database, each with its own data directory, on one clock.
func startTwoCentrals(t *testing.T) (a, b *testServer) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	clock := newTestClock()
	dir := t.TempDir()
	cfg1, keys := testConfig(t, dir, clock)
	cfg1.Store = dsn
	cfg2 := cfg1
	cfg2.Data, cfg2.Keys = t.TempDir(), filepath.Join(dir, "province")
	a = startServerWith(t, cfg1, keys, clock)
	// As docs/sync.md says: the second central gets a copy of the first's
	// day-key ratchet before its first start.
	dk, err := os.ReadFile(filepath.Join(cfg1.DataOrDefault(), DayKeysFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg2.Data, DayKeysFile), dk, 0o600); err != nil {
		t.Fatal(err)
	}
	return a, startServerWith(t, cfg2, keys, clock)
}

// Ensure that a second central on the store without a copy of the first's
// DATA/daykeys refuses to start, saying what to copy.
func TestDayKeys_SecondCentralWithoutCopy(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	clock := newTestClock()
	dir := t.TempDir()
	cfg1, keys := testConfig(t, dir, clock)
	cfg1.Store = dsn
	startServerWith(t, cfg1, keys, clock)
	cfg2 := cfg1
	cfg2.Data, cfg2.Keys = t.TempDir(), filepath.Join(dir, "province")
	s, err := New(cfg2, nil)
	if err == nil {
		s.Close()
		t.Fatal("a second central with a new DATA/daykeys started on the store")
	}
	if !errors.Is(err, ErrDayKeysMismatch) || !strings.Contains(err.Error(), "copy DATA/daykeys") {
		t.Errorf("error %v: want ErrDayKeysMismatch saying to copy DATA/daykeys", err)
	}
}

// Ensure that the visitor app works across two centrals on one store, as
// behind a load balancer: a code asked for at one is checked at the other
// (the app key comes from the province keys, not from a central's data
// directory), the session made at one serves at the other, a check-in's
// resend at the other is answered as the first time, and the rate limits
// count the events of both centrals (one code per 30 s, five an hour per
// number).
func TestApp_TwoCentrals(t *testing.T) {
	a, b := startTwoCentrals(t)
	ctx := context.Background()
	const phone, e164 = "010-4321-8765", "+821043218765"
	send := func(ts *testServer) int {
		st, _ := ts.app(t, "POST", "/v1/app/codes", "", map[string]any{"phone": phone, "consent": "2026-12-1"})
		return st
	}
	code := a.sendCode(t, phone, e164)
	if st := send(b); st != http.StatusTooManyRequests {
		t.Fatalf("a resend at the other central at once = %d, want 429", st)
	}
	st, s1 := b.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "consent": "2026-12-1", "name": "박제주"})
	if st != http.StatusCreated || s1.Session == "" {
		t.Fatalf("the code sent by one central, verified at the other = %d %+v", st, s1)
	}
	if st, p := a.app(t, "GET", "/v1/app/pass", s1.Session, nil); st != http.StatusOK || p.Pass != s1.Pass {
		t.Fatalf("the other central's session = %d %+v", st, p)
	}

	k := a.enroll(t, "v1")
	cur := displayCode(t, k.key, k.enr.Device, "v1", venuecode.PeriodOf(a.clock.Now(), 30*time.Second))
	st, r := a.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": cur, "client_id": "ha-1"})
	if st != http.StatusOK || r.Result != appcheckin.Accepted {
		t.Fatalf("check-in = %d %+v", st, r)
	}
	if st, r2 := b.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": cur, "client_id": "ha-1"}); st != http.StatusOK || r2.Result != appcheckin.Accepted || !r2.Time.Equal(r.Time) {
		t.Errorf("its resend at the other central = %d %+v, want the first answer", st, r2)
	}
	if s, err := a.store.State(ctx, appcheckin.AppDevice("v1")); err != nil || s.LastSeq != 1 {
		t.Errorf("app device state %+v, %v: want one check-in stored", s, err)
	}

	// Five codes an hour per number, whichever central sends them: one
	// sent above, four more alternating, the sixth refused by both.
	for i, ts := range []*testServer{b, a, b, a} {
		a.clock.Advance(31 * time.Second)
		if st := send(ts); st != http.StatusAccepted {
			t.Fatalf("code %d = %d, want 202", i+2, st)
		}
	}
	a.clock.Advance(31 * time.Second)
	for _, ts := range []*testServer{a, b} {
		if st := send(ts); st != http.StatusTooManyRequests {
			t.Errorf("a sixth code within the hour = %d, want 429", st)
		}
	}
}

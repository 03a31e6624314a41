package central

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/appcheckin"
	"github.com/anshim/anshim/central/audit"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
	"github.com/anshim/anshim/central/store/pgstore"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/notify"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
	"github.com/anshim/anshim/venuecode"
)

// appAnswer is any answer of the app API, decoded loosely.
type appAnswer struct {
	Error      string    `json:"error"`
	Detail     string    `json:"detail"`
	TriesLeft  *int      `json:"tries_left"`
	ExpiresIn  int       `json:"expires_in"`
	Resend     int       `json:"resend_after"`
	Session    string    `json:"session"`
	Pass       string    `json:"pass"`
	Initial    string    `json:"initial"`
	Expires    time.Time `json:"expires"`
	RenewAfter time.Time `json:"renew_after"`
	Consent    string    `json:"consent"`
	Revoked    int       `json:"revoked"`
	Visits     []AppVisit
	Notices    []store.AppNotice `json:"notices"`
}

// app sends a request of the app API with a JSON body (nil: none) and
// the session (empty: none) and returns the status and the answer.
func (ts *testServer) app(t *testing.T, method, path, session string, body any) (int, appAnswer) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.HTTPURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if session != "" {
		req.Header.Set("Authorization", "Bearer "+session)
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
	var a appAnswer
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &a); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	if resp.StatusCode >= 400 && (a.Error == "" || a.Detail == "") {
		t.Errorf("%s %s: %d %q: want an error code and a detail", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, a
}

// codeRE finds the code in the message.
var codeRE = regexp.MustCompile(`^\[안심\] 인증번호 ([0-9]{6}) \(3분 안에 입력하세요\)$`)

// lastCode returns the code of the last message to e164 in the sink.
func (ts *testServer) lastCode(t *testing.T, e164 string) string {
	t.Helper()
	recs, err := notify.ReadSink(filepath.Join(ts.cfg.DataOrDefault(), NotifyFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].To != e164 {
			continue
		}
		m := codeRE.FindStringSubmatch(recs[i].Text)
		if m == nil || !strings.Contains(recs[i].Fallback, m[1]) {
			t.Fatalf("code message %q / %q", recs[i].Text, recs[i].Fallback)
		}
		return m[1]
	}
	t.Fatalf("no message to %s in the sink", e164)
	return ""
}

// sendCode asks for a code and returns it from the sink.
func (ts *testServer) sendCode(t *testing.T, phone, e164 string) string {
	t.Helper()
	if code, a := ts.app(t, "POST", "/v1/app/codes", "", map[string]any{"phone": phone, "consent": "2026-12-1", "lang": "ko"}); code != http.StatusAccepted || a.ExpiresIn != 180 || a.Resend != 30 {
		t.Fatalf("send code = %d %+v", code, a)
	}
	return ts.lastCode(t, e164)
}

// appCheckIn posts a check-in of the app.
func (ts *testServer) appCheckIn(t *testing.T, req map[string]any) (int, appcheckin.Result) {
	t.Helper()
	return ts.postCheckIn(t, req)
}

// Ensure the visitor app's whole flow against a real central: a code sent
// to the notify sink, a wrong code with tries left, the name asked of a
// new number, the session and an app pass that pass.Verify accepts, a
// check-in with a kiosk's display code, its resend answered once, a
// duplicate within the debounce window, offline scans inside and outside
// the period tolerance, an exit, the visits list, a console notification
// in the inbox, the pass revoked by its holder and refused, a second
// verification revoking the pass before, and the account deleted: the
// session ends, the vault no longer finds the number, the audit trail
// records it without personal data.
func TestApp_Flow(t *testing.T) { testAppFlow(t, startServer(t)) }

// TestApp_FlowPostgres is TestApp_Flow on a central whose store is
// PostgreSQL (ANSHIM_TEST_PG; skipped loudly without it, failed under CI).
func TestApp_FlowPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	cfg.Store = dsn
	testAppFlow(t, startServerWith(t, cfg, keys, clock))
}

func testAppFlow(t *testing.T, ts *testServer) {
	ctx := context.Background()
	k := ts.enroll(t, "v1")
	dev := k.enr.Device
	const phone, e164 = "010-1234-5678", "+821012345678"
	verifier := pass.NewVerifier(ts.keys.PassKeys(), nil)

	// Bad requests.
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"phone": "02-123-4567", "consent": "2026-12-1"}, "phone-invalid"},
		{map[string]any{"phone": phone}, "consent-required"},
		{map[string]any{"phone": phone, "consent": "2026-12-1", "lang": "fr"}, "bad-request"},
	} {
		if code, a := ts.app(t, "POST", "/v1/app/codes", "", tc.body); code != http.StatusBadRequest || a.Error != tc.want {
			t.Errorf("codes %v = %d %q, want 400 %q", tc.body, code, a.Error, tc.want)
		}
	}

	code := ts.sendCode(t, "+82 10 1234 5678", e164)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": wrong, "consent": "2026-12-1"}); st != http.StatusUnauthorized || a.Error != "code-wrong" || a.TriesLeft == nil || *a.TriesLeft != 4 {
		t.Fatalf("wrong code = %d %+v, want 401 code-wrong with 4 tries left", st, a)
	}
	if st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "consent": "2026-12-1"}); st != http.StatusConflict || a.Error != "name-required" {
		t.Fatalf("a new number without a name = %d %+v, want 409 name-required", st, a)
	}
	st, s1 := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "consent": "2026-12-1", "name": "김안심"})
	if st != http.StatusCreated || s1.Session == "" || s1.Initial != "김" || s1.Consent != "2026-12-1" {
		t.Fatalf("verify = %d %+v", st, s1)
	}
	now := ts.clock.Now()
	p1, err := verifier.Verify(s1.Pass, now)
	if err != nil || p1.Kind != pass.KindApp || p1.Serial != 1 {
		t.Fatalf("the app pass: %+v, %v", p1, err)
	}
	if !s1.Expires.Equal(p1.Expires) || !s1.RenewAfter.Equal(p1.Issued.Add(p1.Expires.Sub(p1.Issued)*2/3)) {
		t.Errorf("expires %v renew_after %v, want %v and 2/3 of the validity", s1.Expires, s1.RenewAfter, p1.Expires)
	}
	person, err := ts.vault.Lookup(ctx, e164)
	if err != nil || person.Pseudonym != p1.Pseudonym {
		t.Fatalf("the vault: %+v, %v", person, err)
	}
	if acct, err := ts.store.AppAccount(ctx, person.ID); err != nil || acct.Consent != "2026-12-1" {
		t.Fatalf("app account %+v, %v: want the consent recorded", acct, err)
	}
	if st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "consent": "2026-12-1"}); st != http.StatusGone || a.Error != "code-expired" {
		t.Errorf("the code used again = %d %+v, want 410", st, a)
	}
	if st, a := ts.app(t, "GET", "/v1/app/pass", s1.Session, nil); st != http.StatusOK || a.Pass != s1.Pass || a.Session != "" {
		t.Errorf("GET pass = %d %+v, want the same pass", st, a)
	}

	// A check-in with the kiosk's current display code, and its resend.
	cur := func() string {
		return displayCode(t, k.key, dev, "v1", venuecode.PeriodOf(ts.clock.Now(), 30*time.Second))
	}
	t0 := ts.clock.Now()
	st, r := ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": cur(), "lat": 33.5113, "lon": 126.4930, "accuracy": 12, "client_id": "scan-1"})
	if st != http.StatusOK || r.Result != appcheckin.Accepted || r.VenueName != "Cafe v1" || !r.Time.Equal(t0) {
		t.Fatalf("check-in = %d %+v", st, r)
	}
	ts.clock.Advance(20 * time.Second)
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": cur(), "client_id": "scan-1"}); st != http.StatusOK || r.Result != appcheckin.Accepted || !r.Time.Equal(t0) {
		t.Errorf("resend = %d %+v, want the first answer", st, r)
	}
	st, r = ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": cur(), "client_id": "scan-2"})
	if st != http.StatusOK || r.Result != appcheckin.Duplicate || !r.Time.Equal(t0) || r.VenueName != "Cafe v1" {
		t.Errorf("second scan = %d %+v, want duplicate with the first time", st, r)
	}
	appDev := appcheckin.AppDevice("v1")
	if st, err := ts.store.State(ctx, appDev); err != nil || st.LastSeq != 1 {
		t.Fatalf("app device state %+v, %v: want one check-in stored", st, err)
	}

	// Offline: scanned 5 minutes ago with that period's code; and one
	// whose code is 10 minutes older than its claimed time.
	ts.clock.Advance(20 * time.Minute)
	at := ts.clock.Now().Add(-5 * time.Minute).Truncate(time.Second)
	code5 := displayCode(t, k.key, dev, "v1", venuecode.PeriodOf(at, 30*time.Second))
	st, r = ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": code5, "scanned_at": at, "client_id": "scan-3"})
	if st != http.StatusOK || r.Result != appcheckin.Accepted || len(r.Flags) != 0 || !r.Time.Equal(at) {
		t.Errorf("offline scan within tolerance = %d %+v", st, r)
	}
	ts.clock.Advance(20 * time.Minute)
	at2 := ts.clock.Now().Add(-5 * time.Minute).Truncate(time.Second)
	old := displayCode(t, k.key, dev, "v1", venuecode.PeriodOf(at2.Add(-10*time.Minute), 30*time.Second))
	st, r = ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": old, "scanned_at": at2, "client_id": "scan-4"})
	if st != http.StatusOK || r.Result != appcheckin.Accepted || !slices.Equal(r.Flags, []string{appcheckin.FlagLateOffline}) {
		t.Errorf("offline scan outside tolerance = %d %+v, want accepted and flagged late-offline", st, r)
	}
	// Without scanned_at the same stale code is refused, as before.
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": old, "client_id": "scan-5"}); st != http.StatusForbidden || r.Reason != appcheckin.ReasonStalePeriod {
		t.Errorf("stale code online = %d %+v", st, r)
	}
	ts.clock.Advance(time.Minute)
	tExit := ts.clock.Now()
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": cur(), "exit": true, "client_id": "scan-6"}); st != http.StatusOK || r.Result != appcheckin.Accepted {
		t.Errorf("exit = %d %+v", st, r)
	}

	// My visits: newest first; the last entry ends with the exit.
	st, a := ts.app(t, "GET", "/v1/app/visits", s1.Session, nil)
	if st != http.StatusOK || len(a.Visits) != 3 {
		t.Fatalf("visits = %d %+v, want 3", st, a.Visits)
	}
	v := a.Visits[0]
	if !v.Time.Equal(at2) || v.ExitTime == nil || !v.ExitTime.Equal(tExit) || v.How != appcheckin.HowDisplay ||
		!slices.Equal(v.Flags, []string{"late-offline"}) || v.VenueName != "Cafe v1" || v.Address == "" || v.Category != "cafe" {
		t.Errorf("newest visit %+v", v)
	}
	if !a.Visits[1].Time.Equal(at) || a.Visits[1].ExitTime != nil || !a.Visits[2].Time.Equal(t0) {
		t.Errorf("visits %+v, want the offline scan, then the first", a.Visits)
	}

	// An investigator's notification lands in the inbox.
	if _, err := ts.AddFollowUp(ctx, "JJ-2026-31", AddContactRequest{Pseudonym: hex.EncodeToString(person.Pseudonym[:]), Venue: "v1", Exposed: t0}, "kim.epi"); err != nil {
		t.Fatal(err)
	}
	mk, err := ts.cfg.newNotifier(ts.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := ts.NotifyContacts(ctx, mk, "JJ-2026-31", nil, "kim.epi")
	if err != nil || len(ns) != 1 || ns[0].State != store.NotificationSent {
		t.Fatalf("notify = %+v, %v", ns, err)
	}
	st, a = ts.app(t, "GET", "/v1/app/inbox", s1.Session, nil)
	if st != http.StatusOK || len(a.Notices) != 1 {
		t.Fatalf("inbox = %d %+v", st, a.Notices)
	}
	if n := a.Notices[0]; n.ID != ns[0].ID || n.VenueName != "Cafe v1" || n.Day != "2026-03-02" || !strings.Contains(n.Text, "Cafe v1") ||
		!strings.Contains(n.TextEn, "Cafe v1") || strings.Contains(n.Text+n.TextEn, "JJ-2026-31") {
		t.Errorf("notice %+v", n)
	}

	// Lost pass: revoked, refused at once; the pass route says so.
	if st, a := ts.app(t, "POST", "/v1/app/pass/revoke", s1.Session, nil); st != http.StatusOK || a.Revoked != 1 {
		t.Fatalf("revoke = %d %+v", st, a)
	}
	ts.clock.Advance(15 * time.Minute)
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": cur()}); st != http.StatusForbidden || r.Reason != "pass-revoked" {
		t.Errorf("check-in with the revoked pass = %d %+v", st, r)
	}
	if st, a := ts.app(t, "GET", "/v1/app/pass", s1.Session, nil); st != http.StatusGone || a.Error != "pass-revoked" {
		t.Errorf("GET pass after revoke = %d %+v", st, a)
	}

	// Verifying again (no name: registered) gives a new pass and ends the
	// old session; verifying once more revokes that pass.
	ts.clock.Advance(time.Minute)
	st, s2 := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": ts.sendCode(t, phone, e164)})
	if st != http.StatusCreated || s2.Consent != "2026-12-1" {
		t.Fatalf("verify again = %d %+v", st, s2)
	}
	p2, err := verifier.Verify(s2.Pass, ts.clock.Now())
	if err != nil || p2.Serial != 2 || p2.Pseudonym != p1.Pseudonym {
		t.Fatalf("second pass %+v, %v", p2, err)
	}
	if st, a := ts.app(t, "GET", "/v1/app/visits", s1.Session, nil); st != http.StatusUnauthorized || a.Error != "session-invalid" {
		t.Errorf("the old session = %d %+v", st, a)
	}
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s2.Pass, "code": cur()}); st != http.StatusOK || r.Result != appcheckin.Accepted {
		t.Errorf("check-in with the new pass = %d %+v", st, r)
	}
	ts.clock.Advance(time.Minute)
	st, s3 := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": ts.sendCode(t, phone, e164), "consent": "2026-12-2"})
	if st != http.StatusCreated || s3.Consent != "2026-12-2" {
		t.Fatalf("verify a third time = %d %+v", st, s3)
	}
	ts.clock.Advance(15 * time.Minute)
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s2.Pass, "code": cur()}); st != http.StatusForbidden || r.Reason != "pass-revoked" {
		t.Errorf("check-in with the pass a new verification replaced = %d %+v", st, r)
	}

	// A kiosk reads both revocations from the revoked bucket, which it
	// follows; the current pass is not in it.
	nc, _ := k.connect(t, ts.NATSURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	revoked := readBucket(t, js, wire.BucketRevoked)
	for serial, want := range map[uint32]bool{1: true, 2: true, 3: false} {
		if _, ok := revoked[vault.AppRevocationID(p1.Pseudonym, serial)]; ok != want {
			t.Errorf("app pass %d in the kiosks' revoked bucket: %v, want %v", serial, ok, want)
		}
	}

	// Delete the account.
	if st, _ := ts.app(t, "DELETE", "/v1/app/account", s3.Session, nil); st != http.StatusNoContent {
		t.Fatalf("delete account = %d", st)
	}
	if st, a := ts.app(t, "GET", "/v1/app/inbox", s3.Session, nil); st != http.StatusUnauthorized || a.Error != "session-invalid" {
		t.Errorf("the session after deletion = %d %+v", st, a)
	}
	if _, err := ts.vault.Lookup(ctx, e164); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the vault still finds the number: %v", err)
	}
	if _, err := ts.vault.Person(ctx, person.ID); !errors.Is(err, store.ErrDestroyed) {
		t.Errorf("person after deletion: %v, want destroyed", err)
	}
	if ns, _ := ts.store.AppNotices(ctx, person.ID); len(ns) != 0 {
		t.Errorf("the inbox kept %d notices", len(ns))
	}
	ts.clock.Advance(15 * time.Minute)
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s3.Pass, "code": cur()}); st != http.StatusForbidden || r.Reason != "pass-revoked" {
		t.Errorf("check-in after deletion = %d %+v", st, r)
	}
	events, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range events {
		if e.Kind != AuditAppAccountDeleted {
			continue
		}
		found = true
		var d AppDeletedDetail
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil || d.PassesRevoked != 1 || len(d.PersonSHA256) != 64 {
			t.Errorf("audit detail %q: %v", e.Detail, err)
		}
		for _, secret := range []string{person.ID, "1234", "김안심", hex.EncodeToString(person.Pseudonym[:])} {
			if strings.Contains(e.Detail+e.Who+e.CaseRef+e.Reason, secret) {
				t.Errorf("the audit event holds %q", secret)
			}
		}
	}
	if !found {
		t.Error("no audit event of the deletion")
	}
	// The sink holds the codes, never a name.
	raw, _ := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), NotifyFile))
	if strings.Contains(string(raw), "김안심") {
		t.Error("the sink holds the name")
	}

	// The data audit finds the app's check-ins, exits and offline scans
	// in order with their ledger leaves.
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	var view store.AuditView
	if where := ts.cfg.StoreOrDefault(); strings.HasPrefix(where, "postgres") {
		view, err = pgstore.OpenAuditView(ctx, where)
	} else {
		view, err = boltstore.OpenAuditView(strings.TrimPrefix(where, "bolt:"), time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	rep, err := audit.Run(ctx, view, nil)
	if err != nil || !rep.OK() || rep.Records != 5 {
		t.Errorf("data audit: %d records, findings %v, %v; want 5 and none", rep.Records, rep.Findings, err)
	}
}

// Ensure the code's limits with the server's clock: one send per 30 s
// and five an hour per number, twenty an hour per client address;
// expiry after 3 minutes; five wrong tries end the code.
func TestApp_CodeLimits(t *testing.T) {
	ts := startServer(t)
	send := func(phone string) (int, appAnswer) {
		return ts.app(t, "POST", "/v1/app/codes", "", map[string]any{"phone": phone, "consent": "2026-12-1"})
	}
	const phone, e164 = "010-2222-3333", "+821022223333"
	if st, _ := send(phone); st != http.StatusAccepted {
		t.Fatalf("first send = %d", st)
	}
	if st, a := send(phone); st != http.StatusTooManyRequests || a.Error != "rate-limited" {
		t.Errorf("resend at once = %d %+v, want 429", st, a)
	}
	for i := 2; i <= 5; i++ {
		ts.clock.Advance(31 * time.Second)
		if st, _ := send(phone); st != http.StatusAccepted {
			t.Fatalf("send %d = %d", i, st)
		}
	}
	ts.clock.Advance(31 * time.Second)
	if st, _ := send(phone); st != http.StatusTooManyRequests {
		t.Errorf("sixth send within the hour = %d, want 429", st)
	}
	ts.clock.Advance(time.Hour)
	code := ts.sendCode(t, phone, e164)

	// Expiry: 3 minutes.
	ts.clock.Advance(3 * time.Minute)
	if st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "name": "이"}); st != http.StatusGone || a.Error != "code-expired" {
		t.Errorf("expired code = %d %+v", st, a)
	}

	// Five wrong tries end it, the right code too after them.
	ts.clock.Advance(time.Minute)
	code = ts.sendCode(t, phone, e164)
	wrong := "000000"
	if code == wrong {
		wrong = "999999"
	}
	for left := 4; left >= 0; left-- {
		st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": wrong, "name": "이"})
		if st != http.StatusUnauthorized || a.TriesLeft == nil || *a.TriesLeft != left {
			t.Fatalf("wrong try = %d %+v, want %d left", st, a, left)
		}
	}
	if st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "name": "이"}); st != http.StatusGone || a.Error != "code-expired" {
		t.Errorf("the right code after 5 wrong = %d %+v, want 410", st, a)
	}

	// Per client address: 20 an hour, whatever the numbers.
	ts.clock.Advance(time.Hour)
	n := 0
	for i := 0; ; i++ {
		st, _ := send(fmt.Sprintf("010-5555-%04d", i))
		if st == http.StatusTooManyRequests {
			break
		}
		if st != http.StatusAccepted {
			t.Fatalf("send = %d", st)
		}
		if n++; n > 20 {
			t.Fatalf("%d codes sent from one address in the hour", n)
		}
	}
	if n != 20 {
		t.Errorf("%d codes from one address before 429, want 20", n)
	}
}

// Ensure that the pass is renewed after 2/3 of its validity (same
// serial, a later expiry) and not before, and that a session is renewed
// on use while an unused one ends after 400 days.
func TestApp_Renewal(t *testing.T) {
	ts := startServer(t)
	const phone, e164 = "010-7777-8888", "+821077778888"
	st, s1 := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": ts.sendCode(t, phone, e164), "name": "Jane Doe"})
	if st != http.StatusCreated || s1.Initial != "J" {
		t.Fatalf("verify = %d %+v", st, s1)
	}
	// In steps of 60 days, as a phone that opens the app now and then.
	for ts.clock.Now().Before(s1.RenewAfter.Add(-60 * 24 * time.Hour)) {
		ts.clock.Advance(60 * 24 * time.Hour)
		if st, a := ts.app(t, "GET", "/v1/app/pass", s1.Session, nil); st != http.StatusOK || a.Pass != s1.Pass {
			t.Fatalf("before renew_after: %d %+v, want the same pass", st, a)
		}
	}
	ts.clock.Advance(ts.clock.Now().Sub(s1.RenewAfter).Abs() + time.Second)
	st, a := ts.app(t, "GET", "/v1/app/pass", s1.Session, nil)
	if st != http.StatusOK || a.Pass == s1.Pass || !a.Expires.After(s1.Expires) || !a.RenewAfter.After(ts.clock.Now()) {
		t.Fatalf("after renew_after: %d %+v", st, a)
	}
	p, err := pass.NewVerifier(ts.keys.PassKeys(), nil).Verify(a.Pass, ts.clock.Now())
	if err != nil || p.Serial != 1 {
		t.Fatalf("renewed pass %+v, %v: want serial 1", p, err)
	}
	if st, b := ts.app(t, "GET", "/v1/app/pass", s1.Session, nil); st != http.StatusOK || b.Pass != a.Pass {
		t.Errorf("GET again = %d, want the renewed pass again", st)
	}
	ts.clock.Advance(appSessionLife - time.Hour)
	if st, _ := ts.app(t, "GET", "/v1/app/pass", s1.Session, nil); st == http.StatusUnauthorized {
		t.Error("a session used 400 days ago minus an hour has ended")
	}
	ts.clock.Advance(appSessionLife)
	if st, a := ts.app(t, "GET", "/v1/app/pass", s1.Session, nil); st != http.StatusUnauthorized || a.Error != "session-invalid" {
		t.Errorf("a session unused for 400 days = %d %+v", st, a)
	}
}

// Ensure that the check-in refuses a bad client id and an offline scan
// older than appcheckin.MaxScanAge, and records a scan claiming a time
// to come at now, flagged.
func TestApp_CheckInOffline(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	k := ts.enroll(t, "v1")
	p, err := ts.vault.Register(ctx, "홍길동", "010-4444-5555")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := ts.vault.AppPass(ctx, p.ID, 1, ts.clock.Now(), ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := ts.clock.Now()
	code := displayCode(t, k.key, k.enr.Device, "v1", venuecode.PeriodOf(now, 30*time.Second))
	for _, tc := range []struct {
		name   string
		req    map[string]any
		status int
		reason string
	}{
		{"client id with a space", map[string]any{"client_id": "a b"}, 400, appcheckin.ReasonBadClientID},
		{"client id too long", map[string]any{"client_id": strings.Repeat("x", 65)}, 400, appcheckin.ReasonBadClientID},
		{"too old", map[string]any{"scanned_at": now.Add(-28 * 24 * time.Hour)}, 403, appcheckin.ReasonScanTooOld},
	} {
		req := map[string]any{"pass": iss.Text, "code": code}
		for k, v := range tc.req {
			req[k] = v
		}
		if st, r := ts.appCheckIn(t, req); st != tc.status || r.Reason != tc.reason {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, st, r, tc.status, tc.reason)
		}
	}
	st, r := ts.appCheckIn(t, map[string]any{"pass": iss.Text, "code": code, "scanned_at": now.Add(time.Hour)})
	if st != http.StatusOK || !r.Time.Equal(now) || !slices.Equal(r.Flags, []string{appcheckin.FlagLateOffline}) {
		t.Errorf("a scan from the future = %d %+v, want recorded now, flagged", st, r)
	}
	if got := vault.AppRevocationID(p.Pseudonym, 1); got == vault.AppRevocationID(p.Pseudonym, 2) {
		t.Error("app passes of two serials share a revocation id")
	}
}

// Ensure that the visits list says how each check-in was made: the app's
// pass at a kiosk, a card at a kiosk, a poster scanned by the app, and an
// exit without its entry; and that it leaves out another person's.
func TestApp_VisitsHow(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	const phone, e164 = "010-6666-7777", "+821066667777"
	st, s1 := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": ts.sendCode(t, phone, e164), "name": "최방문"})
	if st != http.StatusCreated {
		t.Fatalf("verify = %d %+v", st, s1)
	}
	me, err := ts.vault.Lookup(ctx, e164)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ts.vault.Register(ctx, "남", "010-8888-9999")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"v-k", "v-p"} {
		if code := ts.do(t, "POST", "/v1/venues", testRegistration(id, registry.StatusApproved), true, nil); code != http.StatusCreated {
			t.Fatalf("add venue %s: %d", id, code)
		}
	}
	if err := ts.store.AddDevice(ctx, store.Device{ID: "k-v-k", Venue: "v-k", NKey: "UKVK", Enrolled: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	now := ts.clock.Now()
	kioskAt := func(personID string, seq uint64, kind pass.Kind, ck checkin.Kind, at time.Time) {
		t.Helper()
		p, err := ts.vault.Person(ctx, personID)
		if err != nil {
			t.Fatal(err)
		}
		day := daykeys.DayOf(at)
		pers := checkin.Personal{Pseudonym: p.Pseudonym, PassKind: uint8(kind)}
		sealed, err := ts.dayKeys.Seal(day, pers.AppendBinary(nil), daykeys.AD("k-v-k", seq))
		if err != nil {
			t.Fatal(err)
		}
		tag, _ := ts.dayKeys.Tag(day, p.Pseudonym)
		r := store.CheckIn{Device: "k-v-k", Seq: seq, Venue: "v-k", Kind: ck, RawWall: at, Time: at, Quality: 1, Sealed: sealed, Tag: tag, Received: at}
		if _, err := ts.store.Ingest(ctx, store.Batch{Device: "k-v-k", Records: []store.CheckIn{r}, LastSeq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	kioskAt(me.ID, 1, pass.KindApp, checkin.Entry, now.Add(-5*time.Hour))
	kioskAt(me.ID, 2, pass.KindCard, checkin.Entry, now.Add(-3*time.Hour))
	kioskAt(me.ID, 3, pass.KindCard, checkin.Exit, now.Add(-2*time.Hour)) // ends the card's stay
	kioskAt(me.ID, 4, pass.KindCard, checkin.Exit, now.Add(-30*time.Hour))
	kioskAt(other.ID, 5, pass.KindApp, checkin.Entry, now.Add(-4*time.Hour))

	var poster Poster
	if code := ts.do(t, "POST", "/v1/venues/v-p/poster", nil, true, &poster); code != http.StatusCreated {
		t.Fatalf("poster: %d", code)
	}
	if st, r := ts.appCheckIn(t, map[string]any{"pass": s1.Pass, "code": poster.Poster, "lat": 33.5113, "lon": 126.4930, "accuracy": 10}); st != http.StatusOK || r.Result != appcheckin.Accepted {
		t.Fatalf("poster check-in = %d %+v", st, r)
	}

	st, a := ts.app(t, "GET", "/v1/app/visits", s1.Session, nil)
	if st != http.StatusOK {
		t.Fatalf("visits = %d", st)
	}
	var got []string
	for _, v := range a.Visits {
		e := "-"
		if v.ExitTime != nil {
			e = v.ExitTime.Sub(now).String()
		}
		got = append(got, v.Venue+" "+v.How+" "+v.Time.Sub(now).String()+" "+e)
	}
	want := []string{"v-p app-poster 0s -", "v-k card -3h0m0s -2h0m0s", "v-k kiosk -5h0m0s -", "v-k exit -30h0m0s -"}
	if !slices.Equal(got, want) {
		t.Errorf("visits\n%q\nwant\n%q", got, want)
	}
}

// Ensure that retention drops inbox notices and check-in receipts with
// their days, and expired codes and sessions.
func TestApp_Retention(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	now := ts.clock.Now()
	if err := ts.store.AddAppNotice(ctx, store.AppNotice{ID: "n-1", Person: "p-1", Sent: now}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.PutAppReceipt(ctx, store.AppReceipt{Client: [32]byte{1}, Device: "app-v", Seq: 1, Venue: "v", How: "exit", Time: now, Created: now}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.AddAppSession(ctx, store.AppSession{Hash: [32]byte{2}, Person: "p-1", Created: now, LastUsed: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.RunRetention(ctx, now.Add(27*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ns, _ := ts.store.AppNotices(ctx, "p-1"); len(ns) != 1 {
		t.Fatalf("a notice 27 days old was dropped")
	}
	if _, err := ts.RunRetention(ctx, now.Add(29*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ns, _ := ts.store.AppNotices(ctx, "p-1"); len(ns) != 0 {
		t.Errorf("a notice 29 days old was kept")
	}
	if _, err := ts.store.AppReceipt(ctx, [32]byte{1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a receipt 29 days old: %v, want dropped", err)
	}
	if _, err := ts.store.AppSession(ctx, [32]byte{2}, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired session: %v, want dropped", err)
	}
}

// Ensure that a name the vault would refuse (too long, invisible
// characters, blank) is answered name-invalid before the code is used, so that
// the same code then verifies with a good name.
func TestApp_NameRefused(t *testing.T) {
	ts := startServer(t)
	const phone, e164 = "010-3030-4040", "+821030304040"
	code := ts.sendCode(t, phone, e164)
	for _, name := range []string{strings.Repeat("가", appMaxNameRunes+1), "김\u200b안심", "  "} {
		st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "name": name})
		if st != http.StatusBadRequest || a.Error != "name-invalid" {
			t.Errorf("name %q = %d %+v, want 400 name-invalid", name, st, a)
		}
	}
	if st, a := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": phone, "code": code, "name": "김안심"}); st != http.StatusCreated {
		t.Errorf("the same code with a good name = %d %+v", st, a)
	}
}

// Ensure that a visitor with a phone from abroad verifies with it, as
// written with its country code, and that a number that is no mobile of
// its country is refused with the app's phone-invalid answer.
func TestApp_NumberFromAbroad(t *testing.T) {
	ts := startServer(t)
	const phone, e164 = "+86 138 0013 8000", "+8613800138000"
	code := ts.sendCode(t, phone, e164)
	st, s := ts.app(t, "POST", "/v1/app/sessions", "", map[string]any{"phone": "0086 13800138000", "code": code, "consent": "2026-12-1", "name": "Li Wei"})
	if st != http.StatusCreated || s.Session == "" || s.Initial != "L" {
		t.Fatalf("verify from abroad = %d %+v", st, s)
	}
	p, err := pass.NewVerifier(ts.keys.PassKeys(), nil).Verify(s.Pass, ts.clock.Now())
	if err != nil || p.Kind != pass.KindApp {
		t.Fatalf("the app pass: %+v, %v", p, err)
	}
	if person, err := ts.vault.Lookup(context.Background(), "+86-138-0013-8000"); err != nil || person.Pseudonym != p.Pseudonym {
		t.Errorf("the vault by the number from abroad: %+v, %v", person, err)
	}
	for _, bad := range []string{"+86 10 1234 5678", "+44 20 7946 0958", "+999 1234 5678"} {
		if st, a := ts.app(t, "POST", "/v1/app/codes", "", map[string]any{"phone": bad, "consent": "2026-12-1"}); st != http.StatusBadRequest || a.Error != "phone-invalid" {
			t.Errorf("codes for %s = %d %+v, want 400 phone-invalid", bad, st, a)
		}
	}
}

// Ensure that the app's per-address code limit counts the visitors behind
// a trusted proxy by X-Forwarded-For, each apart, and that without a
// trusted proxy the header changes nothing (a client cannot write its way
// out of the limit).
func TestApp_BehindProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			clock := newTestClock()
			cfg, keys := testConfig(t, t.TempDir(), clock)
			if trusted {
				cfg.TrustedProxies = []string{"127.0.0.1", "::1"}
			}
			ts := startServerWith(t, cfg, keys, clock)
			send := func(i int, from string) int {
				body := fmt.Sprintf(`{"phone":"010-5000-%04d","consent":"2026-12-1"}`, i)
				req, _ := http.NewRequest("POST", ts.HTTPURL()+"/v1/app/codes", strings.NewReader(body))
				req.Header.Set("X-Forwarded-For", "198.51.100.77, "+from)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for i := range 20 { // the address's hour: 20 codes
				if st := send(i, "203.0.113.10"); st != http.StatusAccepted {
					t.Fatalf("code %d = %d", i+1, st)
				}
			}
			if st := send(20, "203.0.113.10"); st != http.StatusTooManyRequests {
				t.Errorf("a 21st code from one visitor's address = %d, want 429", st)
			}
			want := http.StatusAccepted // another visitor behind the proxy
			if !trusted {
				want = http.StatusTooManyRequests // the header is not believed
			}
			if st := send(21, "203.0.113.11"); st != want {
				t.Errorf("a code from another forwarded address = %d, want %d", st, want)
			}
		})
	}
}

package central

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anshim/anshim/central/followup"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/logtest"
	"github.com/anshim/anshim/notify"
)

// bearer sends a JSON request with a bearer token and decodes a 2xx
// answer into out; it returns the status.
func (ts *testServer) bearer(t *testing.T, token, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.HTTPURL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	return resp.StatusCode
}

// followUpFixture is a central with a venue, a case and a contact in the
// vault, and an investigator's token.
type followUpFixture struct {
	ts      *testServer
	token   string
	contact string // the contact's pseudonym, hex
	exposed time.Time
}

func newFollowUpFixture(t *testing.T, ts *testServer) *followUpFixture {
	t.Helper()
	ctx := withAccount(context.Background(), fileAdmin)
	if err := ts.store.AddVenue(ctx, store.Venue{ID: "v-cafe-1", Name: "카페 한라", Created: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.vault.Register(ctx, "Lee Casey", "010-1111-2222"); err != nil { // the case
		t.Fatal(err)
	}
	p, err := ts.vault.Register(ctx, "Kim Minji", "010-1234-5678") // the contact
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.AddAPIToken(ctx, "kim.jiwoo", "investigator")
	if err != nil {
		t.Fatal(err)
	}
	return &followUpFixture{ts: ts, token: tok.Token, contact: hex.EncodeToString(p.Pseudonym[:]),
		exposed: time.Date(2026, 2, 28, 16, 30, 0, 0, time.UTC)} // 1 March, 01:30 KST
}

// Ensure that an investigator puts a contact under follow-up, notifies
// them (the message lands in the file sink with the venue and the KST
// date, without the case's reference or identity), that the contact is
// then notified with who and when, that moves are checked (409), that a
// positive contact becomes a new case, that the follow-up list is the
// investigator's, and that every notification and move is audited.
func TestFollowUp_NotifyAndStatus(t *testing.T) {
	ts := startServer(t)
	fx := newFollowUpFixture(t, ts)
	const caseRef = "JJ-2026-17"
	var f FollowUpInfo
	if code := ts.bearer(t, fx.token, "POST", "/v1/cases/"+caseRef+"/contacts",
		AddContactRequest{Pseudonym: fx.contact, Venue: "v-cafe-1", Exposed: fx.exposed, Degree: 1}, &f); code != 201 {
		t.Fatalf("add contact = %d", code)
	}
	if f.Status != followup.ToNotify || f.Investigator != "kim.jiwoo" || f.Pseudonym != fx.contact {
		t.Fatalf("added follow-up %+v", f)
	}
	for _, tc := range []struct {
		name string
		req  AddContactRequest
		want int
	}{
		{"again", AddContactRequest{Pseudonym: fx.contact, Venue: "v-cafe-1", Exposed: fx.exposed}, 409},
		{"bad pseudonym", AddContactRequest{Pseudonym: "zz", Venue: "v-cafe-1", Exposed: fx.exposed}, 400},
		{"unknown venue", AddContactRequest{Pseudonym: strings.Repeat("0", 32), Venue: "v-none", Exposed: fx.exposed}, 404},
		{"no time", AddContactRequest{Pseudonym: strings.Repeat("0", 32), Venue: "v-cafe-1"}, 400},
	} {
		if code := ts.bearer(t, fx.token, "POST", "/v1/cases/"+caseRef+"/contacts", tc.req, nil); code != tc.want {
			t.Errorf("%s: add contact = %d, want %d", tc.name, code, tc.want)
		}
	}
	if code := ts.bearer(t, fx.token, "POST", "/v1/cases/"+caseRef+"/contacts/"+fx.contact+"/status",
		StatusRequest{Status: followup.Tested}, nil); code != 409 {
		t.Fatalf("to-notify → tested = %d, want 409", code)
	}

	ts.clock.Advance(time.Minute)
	var ns []NotificationInfo
	if code := ts.bearer(t, fx.token, "POST", "/v1/cases/"+caseRef+"/notify", nil, &ns); code != 200 {
		t.Fatalf("notify = %d", code)
	}
	if len(ns) != 1 || ns[0].State != store.NotificationSent || len(ns[0].Attempts) != 1 || ns[0].Pseudonym != fx.contact || ns[0].Who != "kim.jiwoo" {
		t.Fatalf("notifications %+v", ns)
	}
	recs, err := notify.ReadSink(filepath.Join(ts.cfg.DataOrDefault(), NotifyFile))
	if err != nil || len(recs) != 1 {
		t.Fatalf("sink = %+v, %v", recs, err)
	}
	m := recs[0]
	if m.To != "+821012345678" || m.Ref != ns[0].ID || m.ID != ns[0].Receipt ||
		m.Text != "2026년 3월 1일 카페 한라를 방문하신 분은 가까운 선별진료소에서 검사를 받으시기 바랍니다" ||
		!strings.Contains(m.Fallback, "카페 한라 on 1 Mar 2026") {
		t.Fatalf("sink record %+v", m)
	}
	raw, _ := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), NotifyFile))
	for _, secret := range []string{caseRef, "Lee Casey", "1111-2222", "11112222", "Kim Minji"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the sink holds %q", secret)
		}
	}
	if fi, err := os.Stat(filepath.Join(ts.cfg.DataOrDefault(), NotifyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("sink mode %v, %v", fi.Mode(), err)
	}
	// Nobody is left to notify.
	if code := ts.bearer(t, fx.token, "POST", "/v1/cases/"+caseRef+"/notify", nil, &ns); code != 200 || len(ns) != 0 {
		t.Fatalf("notify again = %d, %+v; want nobody", code, ns)
	}

	steps := []struct {
		req  StatusRequest
		want int
	}{
		{StatusRequest{Status: followup.Tested}, 200},
		{StatusRequest{Status: followup.Positive}, 409}, // no new case
		{StatusRequest{Status: followup.Cleared}, 409},
		{StatusRequest{Status: "lost"}, 409},
		{StatusRequest{Status: followup.Positive, NewCase: "JJ-2026-18"}, 200},
	}
	for _, st := range steps {
		ts.clock.Advance(time.Hour)
		if code := ts.bearer(t, fx.token, "POST", "/v1/cases/"+caseRef+"/contacts/"+fx.contact+"/status", st.req, &f); code != st.want {
			t.Fatalf("move to %s = %d, want %d", st.req.Status, code, st.want)
		}
	}
	if f.Status != followup.Positive || f.NewCase != "JJ-2026-18" || len(f.History) != 4 {
		t.Fatalf("follow-up after the moves %+v", f)
	}
	for i, want := range []followup.Status{followup.ToNotify, followup.Notified, followup.Tested, followup.Positive} {
		if h := f.History[i]; h.To != want || h.Who != "kim.jiwoo" || h.At.IsZero() {
			t.Errorf("history[%d] = %+v, want to %s by kim.jiwoo", i, h, want)
		}
	}
	if !f.History[3].At.After(f.History[2].At) {
		t.Errorf("history times %v, %v not increasing", f.History[2].At, f.History[3].At)
	}

	var list []FollowUpInfo
	if code := ts.bearer(t, fx.token, "GET", "/v1/followups", nil, &list); code != 200 || len(list) != 1 || list[0].Case != caseRef {
		t.Fatalf("GET /v1/followups = %d, %+v", code, list)
	}
	if code := ts.do(t, "GET", "/v1/followups", nil, true, &list); code != 200 || len(list) != 0 {
		t.Fatalf("the admin's follow-ups = %d, %+v; want none (the list is per account)", code, list)
	}

	events, err := ts.store.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range events {
		if e.Kind == AuditContactNotified || e.Kind == AuditFollowUpStatus {
			kinds[e.Kind]++
			if e.Who != "kim.jiwoo" || e.CaseRef != caseRef || strings.Contains(e.Detail, fx.contact) || strings.Contains(e.Detail, "+8210") {
				t.Errorf("audit event %+v", e)
			}
		}
	}
	if kinds[AuditContactNotified] != 1 || kinds[AuditFollowUpStatus] != 3 {
		t.Errorf("audit events %v, want 1 notification and 3 moves", kinds)
	}
}

// Ensure that a central whose gateway always fails records every attempt
// and the notification failed, leaves the contact to notify, and never
// logs the phone number.
func TestFollowUp_WebhookGivesUp(t *testing.T) {
	var calls atomic.Int32
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer gw.Close()
	clock := newTestClock()
	dir := t.TempDir()
	cfg, keys := testConfig(t, dir, clock)
	auth := filepath.Join(dir, "gateway.auth")
	if err := os.WriteFile(auth, []byte("Bearer gw-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Notify = NotifyConfig{WebhookURL: gw.URL, AuthFile: auth, MaxAttempts: 3}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs logtest.Buffer
	s, err := New(cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := &testServer{Server: s, clock: clock, keys: keys, cfg: cfg}
	fx := newFollowUpFixture(t, ts)
	if code := ts.bearer(t, fx.token, "POST", "/v1/cases/JJ-2026-17/contacts",
		AddContactRequest{Pseudonym: fx.contact, Venue: "v-cafe-1", Exposed: fx.exposed}, nil); code != 201 {
		t.Fatalf("add contact = %d", code)
	}
	var ns []NotificationInfo
	if code := ts.bearer(t, fx.token, "POST", "/v1/cases/JJ-2026-17/notify",
		NotifyRequest{Pseudonyms: []string{fx.contact}}, &ns); code != 200 {
		t.Fatalf("notify = %d", code)
	}
	if len(ns) != 1 || ns[0].State != store.NotificationFailed || len(ns[0].Attempts) != 3 || calls.Load() != 3 ||
		!strings.Contains(ns[0].Error, "503") {
		t.Fatalf("notifications %+v after %d calls; want failed after 3 attempts", ns, calls.Load())
	}
	stored, err := ts.store.Notifications(context.Background(), "JJ-2026-17")
	if err != nil || len(stored) != 1 || len(stored[0].Attempts) != 3 || stored[0].State != store.NotificationFailed {
		t.Fatalf("stored notifications %+v, %v", stored, err)
	}
	if logs.Count("notification failed", "kim.jiwoo") != 1 {
		t.Errorf("no WARN line of the failed notification in the log:\n%s", logs.String())
	}
	for _, secret := range []string{"1234-5678", "12345678", "Kim Minji", "gw-secret", "카페"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	var p [16]byte
	hex.Decode(p[:], []byte(fx.contact))
	if f, err := ts.store.FollowUp(context.Background(), "JJ-2026-17", p); err != nil || f.Status != followup.ToNotify {
		t.Fatalf("follow-up %+v, %v; want still to-notify", f, err)
	}
}

// Ensure that the notify block is validated, naming the field at fault.
func TestConfig_Notify(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    NotifyConfig
		want string // "" for valid
	}{
		{"default", NotifyConfig{}, ""},
		{"file", NotifyConfig{File: "/srv/notify.jsonl"}, ""},
		{"webhook", NotifyConfig{WebhookURL: "https://sms.example/send", AuthFile: "/etc/anshim/sms.auth", Body: `{"to":{{json .To}}}`, MaxAttempts: 8}, ""},
		{"local http", NotifyConfig{WebhookURL: "http://127.0.0.1:9000/send"}, ""},
		{"both", NotifyConfig{File: "x", WebhookURL: "https://sms.example/send"}, "choose one"},
		{"plain http", NotifyConfig{WebhookURL: "http://sms.example/send"}, "notify.webhook_url: want https"},
		{"credentials in URL", NotifyConfig{WebhookURL: "https://u:p@sms.example/send"}, "notify.auth_file"},
		{"broken body", NotifyConfig{WebhookURL: "https://sms.example/send", Body: "{{json .To"}, "notify.body"},
		{"attempts", NotifyConfig{WebhookURL: "https://sms.example/send", MaxAttempts: 50}, "notify.max_attempts"},
		{"auth without webhook", NotifyConfig{AuthFile: "/etc/x"}, "only with notify.webhook_url"},
	} {
		c := Config{Notify: tc.n}
		err := c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate = %v, want %q", tc.name, err, tc.want)
		}
	}
	if got := (&Config{Data: "/d"}).NotifyFileOrDefault(); got != "/d/notify.jsonl" {
		t.Errorf("NotifyFileOrDefault = %q", got)
	}
}

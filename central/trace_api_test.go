package central

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
)

// traceCall sends a request to the tracing routes with the token (none
// when ""), and decodes a successful answer into out.
func (ts *testServer) traceCall(t *testing.T, method, path, token string, body any, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, ts.HTTPURL()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
	}
	return resp.StatusCode, string(data)
}

// checkInAt stores a check-in of the person at the venue's kiosk, sealed
// and tagged with the server's day keys as ingest does.
func (ts *testServer) checkInAt(t *testing.T, personID, venue string, seq uint64, kind checkin.Kind, at time.Time) {
	t.Helper()
	ctx := context.Background()
	p, err := ts.vault.Person(ctx, personID)
	if err != nil {
		t.Fatal(err)
	}
	dev := "k-" + venue
	day := daykeys.DayOf(at)
	pers := checkin.Personal{Pseudonym: p.Pseudonym, PassKind: 1}
	sealed, err := ts.dayKeys.Seal(day, pers.AppendBinary(nil), daykeys.AD(dev, seq))
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := ts.dayKeys.Tag(day, p.Pseudonym)
	r := store.CheckIn{Device: dev, Seq: seq, Venue: venue, Kind: kind, RawWall: at, Time: at, Quality: 1, Sealed: sealed, Tag: tag, Received: at}
	if _, err := ts.store.Ingest(ctx, store.Batch{Device: dev, Records: []store.CheckIn{r}, LastSeq: seq}); err != nil {
		t.Fatal(err)
	}
}

// Ensure that traces want the investigator's or the admin's token, name
// contacts by reference only, reveal identities only with a reason and a
// case reference, and that a reveal leaves an audit event without personal
// data.
func TestTraceAPI_Reveal(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	adminTok, err := os.ReadFile(ts.AdminTokenFile())
	if err != nil {
		t.Fatal(err)
	}
	invTok, err := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), InvestigatorTokenFile))
	if err != nil {
		t.Fatalf("investigator token: %v", err)
	}
	admin, inv := strings.TrimSpace(string(adminTok)), strings.TrimSpace(string(invTok))

	register := func(name, phone string) string {
		var p struct{ ID string }
		if code := ts.do(t, "POST", "/v1/persons", map[string]string{"name": name, "phone": phone}, true, &p); code != http.StatusCreated {
			t.Fatalf("register %s: %d", name, code)
		}
		return p.ID
	}
	caseID := register("김확진", "010-1111-2222")
	contactID := register("=HYPERLINK(\"x\")", "010-3333-4444")
	register("이무관", "010-5555-6666")
	if err := ts.store.AddVenue(ctx, store.Venue{ID: "v-cafe", Name: "cafe", Category: registry.Cafe, DefaultStay: 45, Created: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.AddDevice(ctx, store.Device{ID: "k-v-cafe", Venue: "v-cafe", NKey: "UKCAFE", Enrolled: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	kst := daykeys.KST
	ts.checkInAt(t, caseID, "v-cafe", 1, checkin.Entry, time.Date(2026, 3, 2, 10, 0, 0, 0, kst))
	ts.checkInAt(t, contactID, "v-cafe", 2, checkin.Entry, time.Date(2026, 3, 2, 10, 20, 0, 0, kst))

	req := TraceRequest{Phone: "010-1111-2222", Onset: "2026-03-03", CaseRef: "JJ-2026-17"}
	for _, tok := range []string{"", "wrong"} {
		if code, body := ts.traceCall(t, "POST", "/v1/traces", tok, req, nil); code != http.StatusUnauthorized {
			t.Errorf("token %q: %d %s, want 401", tok, code, body)
		}
	}
	var plain TraceResponse
	if code, body := ts.traceCall(t, "POST", "/v1/traces", admin, req, &plain); code != http.StatusCreated {
		t.Fatalf("trace: %d %s", code, body)
	}
	if len(plain.Contacts) != 1 || plain.Contacts[0].Name != "" || plain.Contacts[0].OverlapMinutes != 25 || plain.Revealed != 0 {
		t.Fatalf("trace = %+v", plain)
	}
	for _, bad := range []TraceRequest{
		{Phone: "010-1111-2222", Onset: "2026-03-03", Reveal: true, CaseRef: "JJ-2026-17"},
		{Phone: "010-1111-2222", Onset: "2026-03-03", Reveal: true, Reason: "close contact"},
		{Phone: "010-1111-2222", CaseRef: "JJ-2026-17"},
		{Phone: "010-1111-2222", Onset: "3 March", CaseRef: "JJ-2026-17"},
		{Phone: "010-1111-2222", Onset: "2026-03-03", Degree: 5, CaseRef: "JJ-2026-17"},
		{Onset: "2026-03-03", CaseRef: "JJ-2026-17"},
		{Phone: "010-1111-2222", Onset: "2026-03-03"},
	} {
		if code, body := ts.traceCall(t, "POST", "/v1/traces", inv, bad, nil); code != http.StatusBadRequest {
			t.Errorf("%+v: %d %s, want 400", bad, code, body)
		}
	}
	if code, _ := ts.traceCall(t, "POST", "/v1/traces", inv, TraceRequest{Phone: "010-9999-9999", Onset: "2026-03-03", CaseRef: "JJ-2026-17"}, nil); code != http.StatusNotFound {
		t.Errorf("unknown case: %d, want 404", code)
	}
	if ev, _ := ts.store.Audit(ctx); len(ev) != 1 || ev[0].Kind != store.AuditTrace || ev[0].Who != "admin" || ev[0].CaseRef != "JJ-2026-17" {
		t.Fatalf("audit after one trace by the admin: %+v", ev)
	}

	req.Reveal, req.Reason, req.CaseRef = true, "close contact of a confirmed case", "JJ-2026-17"
	var revealed TraceResponse
	if code, body := ts.traceCall(t, "POST", "/v1/traces", inv, req, &revealed); code != http.StatusCreated {
		t.Fatalf("reveal: %d %s", code, body)
	}
	if c := revealed.Contacts; len(c) != 1 || c[0].Name != "=HYPERLINK(\"x\")" || c[0].Phone != "+821033334444" || revealed.Revealed != 1 {
		t.Fatalf("reveal = %+v", revealed)
	}
	events, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[1].Kind != store.AuditIdentityRevealed || events[1].Who != "investigator" ||
		events[1].CaseRef != "JJ-2026-17" || events[1].Reason != "close contact of a confirmed case" {
		t.Fatalf("audit = %+v", events)
	}
	var detail TraceDetail
	if err := json.Unmarshal([]byte(events[1].Detail), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Revealed != 1 || detail.Contacts != 1 || detail.Trace != revealed.ID || detail.CaseRefSHA256 != sha256Hex("JJ-2026-17") {
		t.Errorf("audit detail = %s", events[1].Detail)
	}
	for _, secret := range []string{"HYPERLINK", "3333", "4444", "김확진", "1111", "close contact", "JJ-2026"} {
		if strings.Contains(events[1].Detail, secret) {
			t.Errorf("audit detail %s holds %q", events[1].Detail, secret)
		}
	}

	var again TraceResponse
	if code, body := ts.traceCall(t, "GET", "/v1/traces/"+revealed.ID, admin, nil, &again); code != http.StatusOK {
		t.Fatalf("GET: %d %s", code, body)
	}
	if len(again.Contacts) != 1 || again.Contacts[0].Name != "" || again.Contacts[0].Phone != "" || again.CaseRef != "JJ-2026-17" {
		t.Errorf("GET = %+v, want the trace without identities", again)
	}
	if code, _ := ts.traceCall(t, "GET", "/v1/traces/t-0000", inv, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET unknown: %d, want 404", code)
	}
	if code, _ := ts.traceCall(t, "GET", "/v1/traces/"+revealed.ID, "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("GET without a token: %d, want 401", code)
	}
}

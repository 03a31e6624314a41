package central

import (
	"context"
	"encoding/json"
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
	"github.com/anshim/anshim/ledger"
)

// adminFileToken returns the central's DATA/admin.token.
func (ts *testServer) adminFileToken(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(ts.AdminTokenFile())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// addAPIToken makes a named token over HTTP with the admin token and
// returns its secret.
func (ts *testServer) addAPIToken(t *testing.T, name, role string) string {
	t.Helper()
	var tok NewAPIToken
	if code, body := ts.traceCall(t, "POST", "/v1/api-tokens", ts.adminFileToken(t), map[string]string{"name": name, "role": role}, &tok); code != http.StatusCreated {
		t.Fatalf("add token %s: %d %s", name, code, body)
	}
	if tok.Name != name || tok.Role != role || len(tok.Token) != 64 {
		t.Fatalf("add token %s = %+v", name, tok)
	}
	return tok.Token
}

// traceFixture registers a case and a contact who met at a cafe and
// returns a trace request for the case.
func traceFixture(t *testing.T, ts *testServer) TraceRequest {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, p := range [][2]string{{"김확진", "010-1111-2222"}, {"박접촉", "010-3333-4444"}} {
		var out struct{ ID string }
		if code := ts.do(t, "POST", "/v1/persons", map[string]string{"name": p[0], "phone": p[1]}, true, &out); code != http.StatusCreated {
			t.Fatalf("register %s: %d", p[0], code)
		}
		ids = append(ids, out.ID)
	}
	if err := ts.store.AddVenue(ctx, store.Venue{ID: "v-cafe", Name: "cafe", Category: registry.Cafe, DefaultStay: 45, Created: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.AddDevice(ctx, store.Device{ID: "k-v-cafe", Venue: "v-cafe", NKey: "UKCAFE", Enrolled: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	ts.checkInAt(t, ids[0], "v-cafe", 1, checkin.Entry, time.Date(2026, 3, 2, 10, 0, 0, 0, daykeys.KST))
	ts.checkInAt(t, ids[1], "v-cafe", 2, checkin.Entry, time.Date(2026, 3, 2, 10, 20, 0, 0, daykeys.KST))
	return TraceRequest{Phone: "010-1111-2222", Onset: "2026-03-03", CaseRef: "JJ-2026-0042"}
}

// auditEvents returns the audit trail of kind.
func (ts *testServer) auditEvents(t *testing.T, kind string) []store.AuditEvent {
	t.Helper()
	all, err := ts.store.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// Ensure that a trace without reveal is an audit event, and a ledger leaf,
// naming the named token's account, with the case reference in clear in
// the audit store and only its hash in the leaf.
func TestTraceAudit_NoReveal(t *testing.T) {
	ts := startServer(t)
	req := traceFixture(t, ts)
	kim := ts.addAPIToken(t, "kim.jiwoo", RoleInvestigator)
	var resp TraceResponse
	if code, body := ts.traceCall(t, "POST", "/v1/traces", kim, req, &resp); code != http.StatusCreated {
		t.Fatalf("trace: %d %s", code, body)
	}
	if len(resp.Contacts) != 1 || resp.Contacts[0].Name != "" {
		t.Fatalf("trace = %+v", resp)
	}
	ev := ts.auditEvents(t, store.AuditTrace)
	if len(ev) != 1 || ev[0].Who != "kim.jiwoo" || ev[0].CaseRef != "JJ-2026-0042" || ev[0].Reason != "" {
		t.Fatalf("trace events = %+v", ev)
	}
	var d TraceDetail
	if err := json.Unmarshal([]byte(ev[0].Detail), &d); err != nil {
		t.Fatal(err)
	}
	if d.Trace != resp.ID || d.Contacts != 1 || d.Revealed != 0 || d.By != "phone" || d.CaseRefSHA256 != sha256Hex("JJ-2026-0042") || d.ReasonSHA256 != "" {
		t.Fatalf("detail %s", ev[0].Detail)
	}
	leaf := ts.leafOf(t, ev[0])
	if !strings.Contains(leaf, "\nkind trace\nwho kim.jiwoo\n") || strings.Contains(leaf, "JJ-2026") {
		t.Fatalf("leaf %q", leaf)
	}
	if n := len(ts.auditEvents(t, store.AuditIdentityRevealed)); n != 0 {
		t.Fatalf("%d reveal events after a trace without reveal", n)
	}
}

// leafOf returns the ledger leaf of an audit event, checking that it
// parses as that event.
func (ts *testServer) leafOf(t *testing.T, e store.AuditEvent) string {
	t.Helper()
	ctx := context.Background()
	size, err := ts.store.LedgerSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := ts.store.LedgerLeaves(ctx, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leaves {
		p, err := ledger.ParseLeaf(l)
		if err != nil {
			t.Fatal(err)
		}
		if ev, ok := p.(*ledger.Event); ok && ev.ID == e.ID {
			if ev.Who != e.Who || ev.Kind != e.Kind || ev.Detail != e.Detail {
				t.Fatalf("leaf %+v of event %+v", ev, e)
			}
			return string(l)
		}
	}
	t.Fatalf("no leaf for audit event %d", e.ID)
	return ""
}

// Ensure that reasons and case references of invisible characters, too
// few letters or digits, or control characters are refused before any
// tracing, and leave no audit event.
func TestTrace_RefusesInvisibleText(t *testing.T) {
	ts := startServer(t)
	req := traceFixture(t, ts)
	inv := ts.addAPIToken(t, "lee.seoyeon", RoleInvestigator)
	for _, tt := range []struct {
		name            string
		caseRef, reason string
		reveal          bool
		want            string
	}{
		{"zero-width-space reason", "JJ-2026-0042", "\u200b", true, "reason: an invisible character (U+200B) at byte 0"},
		{"zero-width spaces around a reason", "JJ-2026-0042", "\u200b\u200b\u200b", true, "U+200B"},
		{"BOM reason", "JJ-2026-0042", "\ufeffclose contact", true, "reason: an invisible character (U+FEFF)"},
		{"reason of punctuation", "JJ-2026-0042", "... !!", true, "reason: 0 letters or digits, want at least 4"},
		{"short reason", "JJ-2026-0042", "ok", true, "want at least 4"},
		{"reason with a line break", "JJ-2026-0042", "close\ncontact", true, "reason: a line break"},
		{"no reason for a reveal", "JJ-2026-0042", "", true, "reason: missing"},
		{"zero-width case ref", "\u200b", "", false, "case_ref: an invisible character (U+200B)"},
		{"RLO in a case ref", "JJ-\u202e2400", "", false, "case_ref: an invisible character (U+202E)"},
		{"case ref of one digit", "7", "", false, "case_ref: 1 letters or digits, want at least 2"},
		{"no case ref", "", "close contacts", false, "case_ref: missing"},
		{"long case ref", strings.Repeat("J", 129), "", false, "case_ref: 129 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			r.CaseRef, r.Reason, r.Reveal = tt.caseRef, tt.reason, tt.reveal
			code, body := ts.traceCall(t, "POST", "/v1/traces", inv, r, nil)
			if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s, want 400 with %q", code, body, tt.want)
			}
			if strings.ContainsAny(body, "\u200b\u202e\ufeff") {
				t.Fatalf("the error echoes the invisible character: %q", body)
			}
		})
	}
	if ev, _ := ts.store.Audit(context.Background()); len(ts.auditEvents(t, store.AuditTrace))+len(ts.auditEvents(t, store.AuditIdentityRevealed)) != 0 {
		t.Fatalf("audit after refused traces: %+v", ev)
	}
}

// Ensure that a reveal's event keeps the reason and case reference in the
// audit store and that its ledger leaf holds the reason's SHA-256 but not
// the reason, nor any revealed identity.
func TestReveal_LeafHoldsReasonHash(t *testing.T) {
	ts := startServer(t)
	req := traceFixture(t, ts)
	kim := ts.addAPIToken(t, "kim.jiwoo", RoleInvestigator)
	req.Reveal, req.Reason = true, "  밀접접촉자 검사 안내 close contacts  "
	var resp TraceResponse
	if code, body := ts.traceCall(t, "POST", "/v1/traces", kim, req, &resp); code != http.StatusCreated {
		t.Fatalf("reveal: %d %s", code, body)
	}
	if resp.Revealed != 1 || resp.Contacts[0].Name != "박접촉" {
		t.Fatalf("reveal = %+v", resp)
	}
	ev := ts.auditEvents(t, store.AuditIdentityRevealed)
	const reason = "밀접접촉자 검사 안내 close contacts" // trimmed
	if len(ev) != 1 || ev[0].Who != "kim.jiwoo" || ev[0].Reason != reason || ev[0].CaseRef != "JJ-2026-0042" {
		t.Fatalf("reveal events = %+v", ev)
	}
	leaf := ts.leafOf(t, ev[0])
	if !strings.Contains(leaf, `"reason_sha256":"`+sha256Hex(reason)+`"`) || !strings.Contains(leaf, `"revealed":1`) {
		t.Fatalf("leaf %q lacks the reason's hash or the count", leaf)
	}
	for _, secret := range []string{"밀접", "close contacts", "JJ-2026", "박접촉", "3333", "김확진"} {
		if strings.Contains(leaf, secret) {
			t.Errorf("leaf %q holds %q", leaf, secret)
		}
	}
	if n := len(ts.auditEvents(t, store.AuditTrace)); n != 0 {
		t.Fatalf("a reveal also wrote %d trace events, want one identity-revealed event only", n)
	}
}

// Ensure that two investigators' tokens give two names in the audit
// trail, that the token files keep working as "admin" and "investigator",
// and that a revoked token is refused at once while the others work.
func TestAPIToken_NamesAndRevoke(t *testing.T) {
	ts := startServer(t)
	req := traceFixture(t, ts)
	invFile, err := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), InvestigatorTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	toks := map[string]string{
		"kim.jiwoo":    ts.addAPIToken(t, "kim.jiwoo", RoleInvestigator),
		"lee.seoyeon":  ts.addAPIToken(t, "lee.seoyeon", RoleInvestigator),
		"investigator": strings.TrimSpace(string(invFile)),
		"admin":        ts.adminFileToken(t),
	}
	for _, name := range []string{"kim.jiwoo", "lee.seoyeon", "investigator", "admin"} {
		if code, body := ts.traceCall(t, "POST", "/v1/traces", toks[name], req, nil); code != http.StatusCreated {
			t.Fatalf("trace by %s: %d %s", name, code, body)
		}
	}
	var who []string
	for _, e := range ts.auditEvents(t, store.AuditTrace) {
		who = append(who, e.Who)
	}
	if strings.Join(who, ",") != "kim.jiwoo,lee.seoyeon,investigator,admin" {
		t.Fatalf("trace events by %v", who)
	}
	added := ts.auditEvents(t, store.AuditTokenAdded)
	if len(added) != 2 || added[0].Who != "admin" || !strings.Contains(added[0].Detail, `"name":"kim.jiwoo"`) {
		t.Fatalf("token-added events %+v", added)
	}

	// An investigator's token does not reach admin routes.
	if code, body := ts.traceCall(t, "GET", "/v1/api-tokens", toks["kim.jiwoo"], nil, nil); code != http.StatusForbidden {
		t.Fatalf("investigator on an admin route: %d %s, want 403", code, body)
	}
	// Revoke kim's token with a named admin token.
	boss := ts.addAPIToken(t, "park.admin", RoleAdmin)
	var info APITokenInfo
	if code, body := ts.traceCall(t, "POST", "/v1/api-tokens/kim.jiwoo/revoke", boss, nil, &info); code != http.StatusOK || info.Revoked.IsZero() {
		t.Fatalf("revoke: %d %s", code, body)
	}
	code, body := ts.traceCall(t, "POST", "/v1/traces", toks["kim.jiwoo"], req, nil)
	if code != http.StatusUnauthorized || !strings.Contains(body, "the token of kim.jiwoo was revoked") {
		t.Fatalf("revoked token: %d %s, want 401", code, body)
	}
	if code, body := ts.traceCall(t, "POST", "/v1/traces", toks["lee.seoyeon"], req, nil); code != http.StatusCreated {
		t.Fatalf("another token after the revocation: %d %s", code, body)
	}
	revoked := ts.auditEvents(t, store.AuditTokenRevoked)
	if len(revoked) != 1 || revoked[0].Who != "park.admin" || !strings.Contains(revoked[0].Detail, `"name":"kim.jiwoo"`) {
		t.Fatalf("token-revoked events %+v", revoked)
	}
	// Revoking again changes nothing and writes no event; the name is not
	// given out again.
	if code, _ := ts.traceCall(t, "POST", "/v1/api-tokens/kim.jiwoo/revoke", boss, nil, nil); code != http.StatusOK {
		t.Fatalf("revoking again: %d", code)
	}
	if n := len(ts.auditEvents(t, store.AuditTokenRevoked)); n != 1 {
		t.Fatalf("%d revocation events after revoking twice", n)
	}
	for _, tt := range []struct {
		name, role string
		code       int
	}{
		{"kim.jiwoo", RoleInvestigator, http.StatusConflict},
		{"admin", RoleAdmin, http.StatusConflict},
		{"investigator", RoleInvestigator, http.StatusConflict},
		{"Kim Jiwoo", RoleInvestigator, http.StatusBadRequest},
		{"kim\u200bjiwoo", RoleInvestigator, http.StatusBadRequest},
		{"choi", "business", http.StatusBadRequest},
	} {
		if code, body := ts.traceCall(t, "POST", "/v1/api-tokens", boss, map[string]string{"name": tt.name, "role": tt.role}, nil); code != tt.code {
			t.Errorf("add %q %s: %d %s, want %d", tt.name, tt.role, code, body, tt.code)
		}
	}
	var list []APITokenInfo
	if code, body := ts.traceCall(t, "GET", "/v1/api-tokens", boss, nil, &list); code != http.StatusOK {
		t.Fatalf("list: %d %s", code, body)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
	}
	if strings.Join(names, ",") != "admin,investigator,kim.jiwoo,lee.seoyeon,park.admin" || list[2].Revoked.IsZero() || !list[3].Revoked.IsZero() || list[4].CreatedBy != "admin" {
		t.Fatalf("list = %+v", list)
	}
	if strings.Contains(body, toks["lee.seoyeon"]) {
		t.Fatal("the list shows a token")
	}
}

// Ensure that venue names and addresses with bidi controls or zero-width
// characters are refused over HTTP, and that a registry change names the
// admin account that made it.
func TestVenue_InvisibleTextRefused(t *testing.T) {
	ts := startServer(t)
	boss := ts.addAPIToken(t, "park.admin", RoleAdmin)
	for _, tt := range []struct {
		name string
		edit func(r *registry.Registration)
		want string
	}{
		{"RLO in the name", func(r *registry.Registration) { r.Name = "Cafe \u202eallaH" }, "name: holds an invisible character (U+202E)"},
		{"zero-width name", func(r *registry.Registration) { r.Name = "\u200b" }, "name: holds an invisible character (U+200B)"},
		{"LRI in the address", func(r *registry.Registration) { r.Address = "제주시 \u2066중앙로 1" }, "address: holds an invisible character (U+2066)"},
	} {
		reg := testRegistration("v-bidi", registry.StatusApproved)
		tt.edit(&reg)
		if code, body := ts.traceCall(t, "POST", "/v1/venues", boss, reg, nil); code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tt.name, code, body, tt.want)
		}
	}
	if code, body := ts.traceCall(t, "POST", "/v1/venues", boss, testRegistration("v-ok", registry.StatusApproved), nil); code != http.StatusCreated {
		t.Fatalf("a clean registration: %d %s", code, body)
	}
	ev := ts.auditEvents(t, store.AuditVenueRegistered)
	if len(ev) != 1 || ev[0].Who != "park.admin" || !strings.Contains(ev[0].Detail, "v-ok") {
		t.Fatalf("venue-registered events %+v", ev)
	}
	if leaf := ts.leafOf(t, ev[0]); !strings.Contains(leaf, "\nwho park.admin\n") {
		t.Fatalf("leaf %q", leaf)
	}
}

// Ensure that POST /v1/venues/{id}/debounce sets, turns off and resets a
// venue's window, refuses bad windows, and that each change is an audit
// event naming the admin account.
func TestVenueDebounce_API(t *testing.T) {
	ts := startServer(t)
	boss := ts.addAPIToken(t, "park.admin", RoleAdmin)
	if code, body := ts.traceCall(t, "POST", "/v1/venues", boss, testRegistration("v-deb", registry.StatusApproved), nil); code != http.StatusCreated {
		t.Fatalf("add venue: %d %s", code, body)
	}
	for _, tt := range []struct {
		window  string
		code    int
		seconds int
	}{
		{"30s", http.StatusOK, 30},
		{"30s", http.StatusOK, 30}, // no change: no event
		{"off", http.StatusOK, -1},
		{"15m", http.StatusOK, 900},
		{"default", http.StatusOK, 0},
		{"1.5s", http.StatusBadRequest, 0},
		{"25h", http.StatusBadRequest, 0},
		{"0s", http.StatusBadRequest, 0},
		{"-5s", http.StatusBadRequest, 0},
		{"soon", http.StatusBadRequest, 0},
		{"", http.StatusBadRequest, 0},
	} {
		var v store.Venue
		code, body := ts.traceCall(t, "POST", "/v1/venues/v-deb/debounce", boss, map[string]string{"window": tt.window}, &v)
		if code != tt.code || (code == http.StatusOK && v.DebounceSeconds != tt.seconds) {
			t.Errorf("window %q: %d %s, want %d with %d s", tt.window, code, body, tt.code, tt.seconds)
		}
	}
	if code, _ := ts.traceCall(t, "POST", "/v1/venues/v-none/debounce", boss, map[string]string{"window": "30s"}, nil); code != http.StatusNotFound {
		t.Errorf("unknown venue: %d, want 404", code)
	}
	if code, _ := ts.traceCall(t, "POST", "/v1/venues/v-deb/debounce", "", map[string]string{"window": "30s"}, nil); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	ev := ts.auditEvents(t, store.AuditVenueDebounce)
	var changes []string
	for _, e := range ev {
		if e.Who != "park.admin" {
			t.Errorf("event %+v does not name park.admin", e)
		}
		var d struct{ From, To int }
		var raw map[string]int
		json.Unmarshal([]byte(e.Detail), &raw)
		d.From, d.To = raw["from_seconds"], raw["to_seconds"]
		changes = append(changes, FormatDebounceWindow(d.From)+"→"+FormatDebounceWindow(d.To))
	}
	if got := strings.Join(changes, " "); got != "default→30s 30s→off off→15m 15m→default" {
		t.Fatalf("debounce events: %s", got)
	}
}

package central

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/ledgerstore"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
)

// adminBrowser is an HTTP client signed in to a central's web as an admin.
type adminBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (b *adminBrowser) do(method, path string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf", b.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(data)); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

// signInAdmin adds the admin account name to ts's web and signs it in.
func signInAdmin(t *testing.T, ts *testServer, name string) *adminBrowser {
	t.Helper()
	return signInAs(t, ts, web.NewAccount{Name: name, Role: web.RoleAdmin, Phone: "010-1111-2222", Password: "admin people password"}, "/admin")
}

// revealEvents returns the identity-revealed audit events.
func revealEvents(t *testing.T, ts *testServer) []store.AuditEvent {
	t.Helper()
	all, err := ts.store.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		if e.Kind == store.AuditIdentityRevealed {
			out = append(out, e)
		}
	}
	return out
}

// Ensure, against a real central, that an admin finds a visitor by any
// usual form of their phone number and sees their pseudonymous id and
// card passes but never their name or number; that a reveal without a
// good case reference or reason reveals nothing and writes nothing; that
// a reveal shows the name and number once and writes exactly one
// identity-revealed event naming the account with the hashes of the case
// and reason; that revoking a card puts its revocation id in the KV
// bucket kiosks watch, with an audit event; and that the audit page
// shows each event's ledger leaf index, the index of the store's leaf.
func TestAdminPeople_SearchRevealRevoke(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	const name, phone = "김민지", "010-9876-5432"
	p, err := ts.vault.Register(ctx, name, phone)
	if err != nil {
		t.Fatal(err)
	}
	card, err := ts.vault.IssuePass(ctx, p.ID, pass.KindCard, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := signInAdmin(t, ts, "lee.admin")
	hidden := func(page string) {
		t.Helper()
		for _, s := range []string{name, "9876", "821098765432"} {
			if strings.Contains(page, s) {
				t.Fatalf("the page shows %q before any reveal", s)
			}
		}
	}

	for _, tt := range []struct {
		phone, where string
		code         int
	}{
		{"01098765432", "/admin/people/" + p.ID, http.StatusSeeOther},
		{"+82 10-9876-5432", "/admin/people/" + p.ID, http.StatusSeeOther},
		{"010-5555-1234", "", http.StatusNotFound},
		{"not a number", "", http.StatusBadRequest},
	} {
		code, where, page := b.do("POST", "/admin/people", url.Values{"phone": {tt.phone}})
		if code != tt.code || where != tt.where {
			t.Errorf("search %q = %d → %q, want %d → %q", tt.phone, code, where, tt.code, tt.where)
		}
		hidden(page)
	}
	code, _, page := b.do("GET", "/admin/people/"+p.ID, nil)
	if code != http.StatusOK || !strings.Contains(page, p.ID) || !strings.Contains(page, `id="revoke-1"`) {
		t.Fatalf("person page = %d %s", code, page)
	}
	hidden(page)

	for _, bad := range []url.Values{
		{"case_ref": {"C"}, "reason": {"contact tracing call"}},
		{"case_ref": {"JJ-2026-041"}, "reason": {"why"}},
	} {
		code, _, page := b.do("POST", "/admin/people/"+p.ID+"/reveal", bad)
		if code != http.StatusBadRequest {
			t.Errorf("reveal %v = %d, want 400", bad, code)
		}
		hidden(page)
	}
	if ev := revealEvents(t, ts); len(ev) != 0 {
		t.Fatalf("refused reveals wrote %d audit events", len(ev))
	}
	const caseRef, reason = "JJ-2026-041", "밀접 접촉자 연락을 위해"
	code, _, page = b.do("POST", "/admin/people/"+p.ID+"/reveal", url.Values{"case_ref": {caseRef}, "reason": {reason}})
	if code != http.StatusOK || !strings.Contains(page, name) || !strings.Contains(page, "821098765432") {
		t.Fatalf("reveal = %d, the page does not show the identity: %s", code, page)
	}
	ev := revealEvents(t, ts)
	if len(ev) != 1 {
		t.Fatalf("a reveal wrote %d identity-revealed events, want 1", len(ev))
	}
	var d PersonRevealDetail
	if err := json.Unmarshal([]byte(ev[0].Detail), &d); err != nil {
		t.Fatal(err)
	}
	if ev[0].Who != "lee.admin" || d.CaseRefSHA256 != sha256Hex(caseRef) || d.ReasonSHA256 != sha256Hex(reason) ||
		d.PersonSHA256 != sha256Hex(p.ID) || ev[0].CaseRef != caseRef || ev[0].Reason != reason {
		t.Fatalf("reveal event = %+v", ev[0])
	}
	if strings.Contains(ev[0].Detail, name) || strings.Contains(ev[0].Detail, p.ID) || strings.Contains(ev[0].Detail, "9876") {
		t.Fatalf("the ledger leaf's detail names whom: %s", ev[0].Detail)
	}
	if code, _, page := b.do("GET", "/admin/people/"+p.ID, nil); code != http.StatusOK {
		t.Fatalf("person page after the reveal = %d", code)
	} else {
		hidden(page) // shown once
	}

	code, where, _ := b.do("POST", "/admin/people/"+p.ID+"/cards/1/revoke", url.Values{})
	if code != http.StatusSeeOther || where != "/admin/people/"+p.ID+"?revoked=1" {
		t.Fatalf("revoke = %d → %q", code, where)
	}
	if code, _, _ := b.do("POST", "/admin/people/"+p.ID+"/cards/9/revoke", url.Values{}); code != http.StatusNotFound {
		t.Errorf("revoke of an unknown card = %d, want 404", code)
	}
	js, err := jetstream.New(ts.centralConn(t))
	if err != nil {
		t.Fatal(err)
	}
	pp := pass.Pass{Pseudonym: p.Pseudonym, Kind: pass.KindCard, Serial: card.Serial}
	if got := readBucket(t, js, wire.BucketRevoked); got[pp.RevocationID()] != wire.RevokedValue {
		t.Fatalf("the revocation KV holds %v, not card 1's %s", got, pp.RevocationID())
	}
	if _, _, page := b.do("GET", "/admin/people/"+p.ID+"?revoked=1", nil); strings.Contains(page, `id="revoke-1"`) || !strings.Contains(page, `id="revoked"`) {
		t.Fatalf("the person page after the revocation: %s", page)
	}

	all, err := ts.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _, page = b.do("GET", "/admin/audit", nil)
	leafRE := regexp.MustCompile(`id="leaf-(\d+)" data-leaf="(\d+)"`)
	shown := map[uint64]int64{}
	for _, m := range leafRE.FindAllStringSubmatch(page, -1) {
		id, _ := strconv.ParseUint(m[1], 10, 64)
		shown[id], _ = strconv.ParseInt(m[2], 10, 64)
	}
	revoked := false
	for _, e := range all {
		idx, ok := shown[e.ID]
		if !ok {
			t.Errorf("the audit page shows no leaf for event %d (%s)", e.ID, e.Kind)
			continue
		}
		leaves, err := ts.store.LedgerLeaves(ctx, idx, idx+1)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ledgerstore.EventLeaf(e)
		if string(leaves[0]) != string(want) {
			t.Errorf("event %d (%s): leaf %d is %q, not the event's", e.ID, e.Kind, idx, leaves[0])
		}
		revoked = revoked || e.Kind == AuditPassRevoked && e.Who == "lee.admin"
	}
	if !revoked {
		t.Error("no pass-revoked audit event naming lee.admin")
	}
}

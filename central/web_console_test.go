package central

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/pgstore/pgtest"
	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/checkin"
)

// signInInvestigator adds the investigator account name to ts's web and
// signs it in.
func signInInvestigator(t *testing.T, ts *testServer, name string) *adminBrowser {
	t.Helper()
	return signInAs(t, ts, web.NewAccount{Name: name, Role: web.RoleInvestigator, Phone: "010-1111-3333", Password: "investigator password"}, "/console")
}

// Ensure, against a real central, that an investigator opens a case by
// phone number and sees the contacts the trace API finds (hidden names,
// the venue's name, the overlap), the per-venue summary and the
// timeline; that a reveal of one degree with a reason shows the name and
// the ledger index of exactly one identity-revealed event naming the
// account and the case reference; that the CSV holds the contact without
// identities; and that a closed case leaves the list.
func TestConsole_OpenRevealExport(t *testing.T) { testConsoleOpenRevealExport(t, startServer(t)) }

// Ensure the same on PostgreSQL, whose store gives the console only the
// venues a trace names (VenuesByID) instead of every venue.
func TestConsole_OpenRevealExportPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	clock := newTestClock()
	cfg, keys := testConfig(t, t.TempDir(), clock)
	cfg.Store = dsn
	testConsoleOpenRevealExport(t, startServerWith(t, cfg, keys, clock))
}

func testConsoleOpenRevealExport(t *testing.T, ts *testServer) {
	seedCafeCase(t, ts)

	invTok, err := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), InvestigatorTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	var api TraceResponse
	if code, body := ts.traceCall(t, "POST", "/v1/traces", strings.TrimSpace(string(invTok)),
		TraceRequest{Phone: "010-1111-2222", Onset: "2026-03-03", CaseRef: "JJ-2026-17"}, &api); code != http.StatusCreated {
		t.Fatalf("trace API: %d %s", code, body)
	}

	b := signInInvestigator(t, ts, "kim.epi")
	code, loc, body := b.do("POST", "/console/cases", url.Values{"case_ref": {"JJ-2026-17"}, "phone": {"010 1111 2222"}, "onset": {"2026-03-03"}, "degree": {"2"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		t.Fatalf("open case = %d %q %s", code, loc, body)
	}
	code, _, page := b.do("GET", loc, nil)
	if code != http.StatusOK {
		t.Fatalf("case page = %d", code)
	}
	rows := regexp.MustCompile(`<tr class="contact" data-ref="(C\d+)">`).FindAllStringSubmatch(page, -1)
	if len(rows) != len(api.Contacts) || len(rows) != 1 || rows[0][1] != api.Contacts[0].Ref {
		t.Fatalf("contacts rows %v, the trace API found %+v", rows, api.Contacts)
	}
	for _, want := range []string{"한라카페", `class="minutes">25<`, "1 → C1"} {
		if !strings.Contains(page, want) && !strings.Contains(page, strings.Replace(want, "1 → C1", "★ → C1", 1)) {
			t.Errorf("the contacts table lacks %q", want)
		}
	}
	if strings.Contains(page, "박접촉") || strings.Contains(page, "3333") {
		t.Fatal("the contacts table shows an identity before a reveal")
	}
	_, _, venues := b.do("GET", loc+"?tab=venues", nil)
	if !regexp.MustCompile(`data-venue="v-cafe">(?s:.*?)class="count">1<`).MatchString(venues) {
		t.Errorf("the per-venue summary lacks the cafe with 1 contact")
	}
	// The graph tab: the trace's contact graph as inline SVG, one node for
	// the contact, no identity, no script or inline style.
	_, _, gp := b.do("GET", loc+"?tab=graph", nil)
	if !strings.Contains(gp, `class="tracegraph"`) || !strings.Contains(gp, `role="img"`) || !strings.Contains(gp, "C1") {
		t.Errorf("the graph tab lacks the contact graph")
	}
	if strings.Contains(gp, "박접촉") || strings.Contains(gp, "<script") || strings.Contains(gp, "style=") {
		t.Error("the graph tab shows an identity, a script or an inline style")
	}
	_, _, tl := b.do("GET", loc+"?tab=timeline", nil)
	if !strings.Contains(tl, "2026-03-02") || !strings.Contains(tl, "10:00–10:45") {
		t.Errorf("the timeline lacks the case's stay 10:00–10:45 on 2026-03-02")
	}

	before := len(revealEvents(t, ts))
	if code, _, _ := b.do("POST", loc+"/reveal", url.Values{"set": {"d1"}, "reason": {"x"}}); code != http.StatusBadRequest {
		t.Errorf("reveal without a reason = %d, want 400", code)
	}
	code, _, rev := b.do("POST", loc+"/reveal", url.Values{"set": {"d1"}, "reason": {"밀접 접촉자 연락"}})
	if code != http.StatusOK || !strings.Contains(rev, "박접촉") || !strings.Contains(rev, `id="leaf"`) {
		t.Fatalf("reveal = %d, name or leaf missing", code)
	}
	ev := revealEvents(t, ts)
	if len(ev) != before+1 || ev[len(ev)-1].Who != "kim.epi" || ev[len(ev)-1].CaseRef != "JJ-2026-17" || !strings.Contains(ev[len(ev)-1].Detail, `"revealed":1`) {
		t.Fatalf("reveal events %+v", ev[before:])
	}

	code, _, csv := b.do("GET", loc+"/contacts.csv", nil)
	if code != http.StatusOK || !strings.HasPrefix(csv, "ref,degree,venue") || !strings.Contains(csv, "C1,1,v-cafe") || strings.Contains(csv, "박접촉") {
		t.Errorf("CSV = %d %q", code, csv)
	}
	if code, _, rep := b.do("GET", loc+"/report", nil); code != http.StatusOK || !strings.Contains(rep, `id="case-report"`) {
		t.Errorf("report = %d", code)
	}
	if code, _, _ := b.do("POST", loc+"/close", url.Values{}); code != http.StatusSeeOther {
		t.Errorf("close = %d", code)
	}
	if _, _, list := b.do("GET", "/console", nil); strings.Contains(list, "JJ-2026-17") {
		t.Error("a closed case is still listed")
	}
}

// seedCafeCase registers a case (김확진) and a contact (박접촉) who enter
// 한라카페 (v-cafe, default stay 45 min) at 10:00 and 10:20 KST on
// 2026-03-02: one degree-1 contact with a 25-minute overlap.
func seedCafeCase(t *testing.T, ts *testServer) (caseP, contact vault.Person) {
	t.Helper()
	ctx := context.Background()
	caseP, err := ts.vault.Register(ctx, "김확진", "010-1111-2222")
	if err != nil {
		t.Fatal(err)
	}
	contact, err = ts.vault.Register(ctx, "박접촉", "010-3333-4444")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.AddVenue(ctx, store.Venue{ID: "v-cafe", Name: "한라카페", Address: "제주시 중앙로 1", Category: registry.Cafe, DefaultStay: 45, Created: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.AddDevice(ctx, store.Device{ID: "k-v-cafe", Venue: "v-cafe", NKey: "UKCAFE", Enrolled: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	kst := daykeys.KST
	ts.checkInAt(t, caseP.ID, "v-cafe", 1, checkin.Entry, time.Date(2026, 3, 2, 10, 0, 0, 0, kst))
	ts.checkInAt(t, contact.ID, "v-cafe", 2, checkin.Entry, time.Date(2026, 3, 2, 10, 20, 0, 0, kst))
	return caseP, contact
}

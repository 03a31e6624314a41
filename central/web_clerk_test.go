package central

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/poster"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
)

// signInClerk adds the clerk account name to ts's web and signs it in;
// it checks that the sign-in lands on /clerk.
func signInClerk(t *testing.T, ts *testServer, name string) *adminBrowser {
	t.Helper()
	return signInAs(t, ts, web.NewAccount{Name: name, Role: web.RoleClerk, Phone: "010-1212-3434", Password: "clerk cards password"}, "/clerk")
}

// cardPass renders a card PDF with pdftoppm and returns the pass text its
// QR code holds (the test fails, in CI too, without pdftoppm: make deps).
func cardPass(t *testing.T, pdf []byte) string {
	t.Helper()
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm not installed: make deps installs poppler-utils")
	}
	return decodePDFQR(t, pdftoppm, pdf, 300, poster.CardQRBox, 0)
}

// auditOf returns the audit events of kind.
func auditOf(t *testing.T, ts *testServer, kind string) []store.AuditEvent {
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

// Ensure, against a real central, that a clerk lands on /clerk after
// signing in; registers a visitor by name and phone number (a bad number
// refused without being shown back) and from then on sees their initial
// and masked number only; prints a card whose PDF holds a card pass of
// the visitor that pass.Verify accepts; that printing again issues card
// 2 and revokes card 1 on the administration's path (the revocation KV
// bucket kiosks watch, a pass-revoked event naming the clerk), after
// which card 1's PDF is gone (410); that the same number registered again
// or searched finds the same visitor; and that a clerk is refused the
// administration, the console and the business portal.
func TestClerkPages(t *testing.T) {
	ts := startServer(t)
	b := signInClerk(t, ts, "choi.clerk")

	if code, _, page := b.do("GET", "/clerk", nil); code != http.StatusOK || !strings.Contains(page, `id="register-form"`) || !strings.Contains(page, `id="find-form"`) {
		t.Fatalf("GET /clerk = %d", code)
	}
	for _, tt := range []struct {
		name, phone string
		want        int
	}{
		{"", "010-2468-1357", http.StatusBadRequest},
		{"김민수", "02-2468-1357", http.StatusBadRequest},
		{"김\u202e민수", "010-2468-1357", http.StatusBadRequest},
	} {
		code, _, page := b.do("POST", "/clerk/visitors", url.Values{"name": {tt.name}, "phone": {tt.phone}})
		if code != tt.want || !strings.Contains(page, `role="alert"`) || strings.Contains(page, "2468") {
			t.Errorf("register %q %q = %d, want %d with an error and the number not shown back", tt.name, tt.phone, code, tt.want)
		}
	}

	code, loc, _ := b.do("POST", "/clerk/visitors", url.Values{"name": {"김민수"}, "phone": {"010-2468-1357"}})
	m := regexp.MustCompile(`^/clerk/visitors/(p-[0-9a-f]{16})\?registered=new$`).FindStringSubmatch(loc)
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("register = %d → %q", code, loc)
	}
	id := m[1]
	p, err := ts.vault.Lookup(context.Background(), "01024681357")
	if err != nil || p.ID != id {
		t.Fatalf("the vault has %v, %v; want person %s", p.ID, err, id)
	}
	if ev := auditOf(t, ts, AuditVisitorRegistered); len(ev) != 1 || ev[0].Who != "choi.clerk" || strings.Contains(ev[0].Detail, id) {
		t.Fatalf("visitor-registered events %+v: want one naming the clerk, the person only hashed", ev)
	}
	masked := func(page string) {
		t.Helper()
		if !strings.Contains(page, `id="initial"><strong>김</strong><`) || !strings.Contains(page, "010-****-1357") {
			t.Errorf("the visitor page lacks the initial or the masked number")
		}
		for _, s := range []string{"민수", "2468", "01024681357", "+82"} {
			if strings.Contains(page, s) {
				t.Errorf("the visitor page shows %q", s)
			}
		}
	}
	code, _, page := b.do("GET", loc, nil)
	if code != http.StatusOK || !strings.Contains(page, `id="registered"`) || !strings.Contains(page, `id="no-cards"`) {
		t.Fatalf("visitor page = %d", code)
	}
	masked(page)

	// Card 1.
	code, loc, _ = b.do("POST", "/clerk/visitors/"+id+"/cards", url.Values{})
	if code != http.StatusSeeOther || loc != "/clerk/visitors/"+id+"?printed=1" {
		t.Fatalf("print = %d → %q", code, loc)
	}
	_, _, page = b.do("GET", loc, nil)
	masked(page)
	if !strings.Contains(page, `id="card-pdf" href="/clerk/visitors/`+id+`/cards/1/card.pdf"`) {
		t.Fatal("the page after printing offers no PDF of card 1")
	}
	pdf := func(serial string) (int, string, []byte) {
		t.Helper()
		resp, err := b.c.Get(b.base + "/clerk/visitors/" + id + "/cards/" + serial + "/card.pdf")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), body
	}
	code, ctype, card1 := pdf("1")
	if code != http.StatusOK || ctype != "application/pdf" || !strings.HasPrefix(string(card1), "%PDF-") {
		t.Fatalf("card 1 PDF = %d %s", code, ctype)
	}
	text1 := cardPass(t, card1)
	verifier := pass.NewVerifier([]pass.PublicKey{ts.keys.Signer().PublicKey()}, nil)
	pp, err := verifier.Verify(text1, ts.clock.Now())
	if err != nil || pp.Kind != pass.KindCard || pp.Serial != 1 || pp.Pseudonym != p.Pseudonym {
		t.Fatalf("card 1's QR code: %v, %v; want a valid card pass 1 of the visitor", pp, err)
	}
	if _, _, again := pdf("1"); cardPass(t, again) != text1 {
		t.Error("printing card 1 again gives another pass")
	}

	// Card 2 replaces card 1.
	code, loc, _ = b.do("POST", "/clerk/visitors/"+id+"/cards", url.Values{})
	if code != http.StatusSeeOther || loc != "/clerk/visitors/"+id+"?printed=2&revoked=1" {
		t.Fatalf("print again = %d → %q", code, loc)
	}
	js, err := jetstream.New(ts.centralConn(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := readBucket(t, js, wire.BucketRevoked); got[pp.RevocationID()] != wire.RevokedValue {
		t.Fatalf("the revocation KV holds %v, not card 1's %s", got, pp.RevocationID())
	}
	rev := auditOf(t, ts, AuditPassRevoked)
	if len(rev) != 1 || rev[0].Who != "choi.clerk" || !strings.Contains(rev[0].Detail, `"serial":1`) {
		t.Fatalf("pass-revoked events %+v: want card 1's naming the clerk", rev)
	}
	issued := auditOf(t, ts, AuditCardIssued)
	if len(issued) != 2 || issued[1].Who != "choi.clerk" {
		t.Fatalf("card-issued events %+v", issued)
	}
	var d struct {
		Serial  uint32   `json:"serial"`
		Revoked []uint32 `json:"revoked"`
	}
	if err := json.Unmarshal([]byte(issued[1].Detail), &d); err != nil || d.Serial != 2 || len(d.Revoked) != 1 || d.Revoked[0] != 1 {
		t.Fatalf("card 2's event detail %s (%v)", issued[1].Detail, err)
	}
	_, _, page = b.do("GET", loc, nil)
	masked(page)
	if !strings.Contains(page, `id="card-1" data-revoked="true"`) || !strings.Contains(page, `id="card-2" data-revoked="false"`) {
		t.Error("the visitor page does not show card 1 revoked and card 2 valid")
	}
	if code, _, _ := pdf("1"); code != http.StatusGone {
		t.Errorf("card 1 PDF after card 2 = %d, want 410", code)
	}
	if code, _, _ := pdf("9"); code != http.StatusNotFound {
		t.Errorf("card 9 PDF = %d, want 404", code)
	}
	code, _, card2 := pdf("2")
	if code != http.StatusOK {
		t.Fatalf("card 2 PDF = %d", code)
	}
	if pp2, err := verifier.Verify(cardPass(t, card2), ts.clock.Now()); err != nil || pp2.Serial != 2 || pp2.Pseudonym != p.Pseudonym {
		t.Fatalf("card 2's QR code: %v, %v", pp2, err)
	}

	// The same number again, in another form; a search.
	code, loc, _ = b.do("POST", "/clerk/visitors", url.Values{"name": {"김민수"}, "phone": {"+82 10 2468 1357"}})
	if code != http.StatusSeeOther || loc != "/clerk/visitors/"+id+"?registered=already" {
		t.Errorf("register a registered number = %d → %q", code, loc)
	}
	if ev := auditOf(t, ts, AuditVisitorRegistered); len(ev) != 1 {
		t.Errorf("%d visitor-registered events, want 1", len(ev))
	}
	for _, tt := range []struct {
		phone string
		code  int
		loc   string
	}{
		{"01024681357", http.StatusSeeOther, "/clerk/visitors/" + id},
		{"010-9999-0000", http.StatusNotFound, ""},
		{"12345", http.StatusBadRequest, ""},
	} {
		code, loc, page := b.do("POST", "/clerk/find", url.Values{"phone": {tt.phone}})
		if code != tt.code || loc != tt.loc || (code != http.StatusSeeOther && !strings.Contains(page, `id="find-error"`)) {
			t.Errorf("find %q = %d → %q, want %d → %q", tt.phone, code, loc, tt.code, tt.loc)
		}
	}

	// A clerk is refused every other web system.
	for _, path := range []string{"/admin", "/admin/people", "/console", "/business"} {
		if code, _, _ := b.do("GET", path, nil); code != http.StatusForbidden {
			t.Errorf("GET %s as a clerk = %d, want 403", path, code)
		}
	}
	if code, _, _ := b.do("POST", "/admin/people/"+id+"/cards/2/revoke", url.Values{}); code != http.StatusForbidden {
		t.Errorf("the admin's revoke as a clerk = %d, want 403", code)
	}
}

// Ensure that a clerk registers a visitor from abroad by the number they
// carry, sees it masked with its country code, and finds them by it.
func TestClerk_NumberFromAbroad(t *testing.T) {
	ts := startServer(t)
	b := signInClerk(t, ts, "choi.clerk")
	code, loc, _ := b.do("POST", "/clerk/visitors", url.Values{"name": {"Li Wei"}, "phone": {"+86 138 0013 8000"}})
	m := regexp.MustCompile(`^/clerk/visitors/(p-[0-9a-f]{16})\?registered=new$`).FindStringSubmatch(loc)
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("register from abroad = %d → %q", code, loc)
	}
	_, _, page := b.do("GET", loc, nil)
	if !strings.Contains(page, `id="masked-phone">&#43;86 ****8000<`) || strings.Contains(page, "13800138000") || strings.Contains(page, "Li Wei") {
		t.Errorf("the visitor page does not show the number masked with its country code, or shows the number or name:\n%s", page)
	}
	if code, loc, _ := b.do("POST", "/clerk/find", url.Values{"phone": {"0086 138-0013-8000"}}); code != http.StatusSeeOther || loc != "/clerk/visitors/"+m[1] {
		t.Errorf("find from abroad = %d → %q", code, loc)
	}
	if code, _, page := b.do("POST", "/clerk/visitors", url.Values{"name": {"Li Wei"}, "phone": {"+86 10 2468 5555"}}); code != http.StatusBadRequest || strings.Contains(page, "2468") {
		t.Errorf("a landline abroad = %d, want 400 without the number shown back", code)
	}
}

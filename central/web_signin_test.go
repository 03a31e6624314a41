package central

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/anshim/anshim/central/web"
)

// signInAs adds the account a to ts's web and signs it in through
// /signin, as a browser does; the sign-in must send it to home.
func signInAs(t *testing.T, ts *testServer, a web.NewAccount, home string) *adminBrowser {
	t.Helper()
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wb.AddAccount(withAccount(context.Background(), fileAdmin), a, "admin"); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &adminBrowser{t: t, base: ts.HTTPURL(), c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.do("GET", "/signin", nil)
	if code, loc, _ := b.do("POST", "/signin", url.Values{"name": {a.Name}, "password": {a.Password}}); code != http.StatusSeeOther || loc != home {
		t.Fatalf("sign-in as %s = %d → %q, want 303 → %s", a.Role, code, loc, home)
	}
	b.do("GET", home, nil)
	return b
}

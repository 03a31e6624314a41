package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// Ensure that every answer of the web, pages, errors, redirects and
// files, carries the security headers, and HSTS only under TLS.
func TestSecurityHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		s := newSite(t, Options{TLS: tls})
		c := s.client()
		for _, path := range []string{"/", "/signin", "/admin", "/static/css/base.css", "/business/venues/v-x"} {
			resp, _ := s.get(c, path)
			for h, want := range map[string]string{
				"Content-Security-Policy": ContentSecurityPolicy,
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("TLS %v: GET %s: %s = %q, want %q", tls, path, h, got, want)
				}
			}
			if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != tls {
				t.Errorf("TLS %v: GET %s: Strict-Transport-Security = %q", tls, path, got)
			}
		}
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(ContentSecurityPolicy, want) || strings.Contains(ContentSecurityPolicy, "unsafe-inline") {
				t.Errorf("CSP %q lacks %q or allows unsafe-inline", ContentSecurityPolicy, want)
			}
		}
		// The session cookie's flags.
		resp := s.signIn(c, "kim.jiwoo", testPassword)
		var sess *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == SessionCookie {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure != tls || len(sess.Value) < 43 {
			t.Errorf("TLS %v: session cookie %+v: want HttpOnly, SameSite=Lax, Secure %v, 32 random bytes", tls, sess, tls)
		}
	}
}

// externalScript is a script element that loads a file of the site and
// holds nothing.
var externalScript = regexp.MustCompile(`<script type="module" src="/static/[a-z0-9/._-]+"></script>`)

// Ensure that no page has an inline script or style, which the CSP would
// block: every page's HTML is checked.
func TestNoInlineScriptOrStyle(t *testing.T) {
	s := newSite(t, Options{})
	c := s.client()
	check := func(path string) {
		_, body := s.get(c, path)
		// A script from a file (the app's module) is allowed; one in the page is not.
		body = externalScript.ReplaceAllString(body, "")
		for _, bad := range []string{"<script", "<style", " style=", " onclick=", " onload=", "javascript:"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s has %q", path, bad)
			}
		}
	}
	for _, p := range []string{"/", "/signin", "/signup", "/app", "/?lang=en"} {
		check(p)
	}
	s.signIn(c, "park.cafe", testPassword)
	check("/business")
}

// Ensure that a form posted without the CSRF token, with a wrong one, or
// with another session's is refused 403 and changes nothing; that the
// right token works; and that a cross-origin post is refused.
func TestCSRF(t *testing.T) {
	s := newSite(t, Options{})
	c := s.client()
	good := s.csrf(c, "/signin")
	form := func(tok string) url.Values {
		v := url.Values{"name": {"kim.jiwoo"}, "password": {testPassword}}
		if tok != "" {
			v.Set("csrf", tok)
		}
		return v
	}
	for _, tt := range []struct {
		name string
		tok  string
	}{{"no token", ""}, {"wrong token", strings.Repeat("x", 43)}, {"token cut short", good[:20]}} {
		resp, body := s.post(c, "/signin", form(tt.tok))
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Set-Cookie") != "" && strings.Contains(resp.Header.Get("Set-Cookie"), SessionCookie) {
			t.Errorf("sign-in with %s = %d, want 403 and no session", tt.name, resp.StatusCode)
		}
		if !strings.Contains(body, "양식이 만료") {
			t.Errorf("sign-in with %s: the page does not say why", tt.name)
		}
	}
	// Another browser's token does not pass with this browser's cookie.
	other := s.client()
	if resp, _ := s.post(c, "/signin", form(s.csrf(other, "/signin"))); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with another browser's token = %d, want 403", resp.StatusCode)
	}
	if resp, _ := s.post(c, "/signin", form(good)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the right token = %d, want 303", resp.StatusCode)
	}
	// Signed in, the session's token: sign-out refuses the signed-out one.
	if resp, _ := s.post(c, "/signout", url.Values{"csrf": {good}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out with the signed-out token = %d, want 403", resp.StatusCode)
	}
	if resp, _ := s.get(c, "/console"); resp.StatusCode != http.StatusOK {
		t.Fatalf("still signed in after a refused sign-out: GET /console = %d", resp.StatusCode)
	}
	// A cross-origin post with a good token is refused by the browser
	// headers alone.
	req, _ := http.NewRequest("POST", s.srv.URL+"/signout", strings.NewReader(url.Values{"csrf": {s.csrf(c, "/console")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-out = %d, want 403", resp.StatusCode)
	}
	if resp, _ := s.post(c, "/signout", url.Values{"csrf": {s.csrf(c, "/console")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out with the session's token = %d, want 303", resp.StatusCode)
	}
	if resp, _ := s.get(c, "/console"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out GET /console = %d, want 303 to the sign-in page", resp.StatusCode)
	}
}

// Ensure that five failed sign-ins in a row lock an account for 15
// minutes, during which even the right password is refused; that the
// failures and the lockout are audit events naming the account; and that
// the account signs in again after the lockout.
func TestLockout(t *testing.T) {
	s := newSite(t, Options{AddressBurst: 100})
	c := s.client()
	for i := range 4 {
		if resp := s.signIn(c, "kim.jiwoo", "wrong password "+string(rune('a'+i))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp := s.signIn(c, "kim.jiwoo", "wrong password e"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fifth failure = %d, want 429 (locked)", resp.StatusCode)
	}
	s.clock.Add(14 * time.Minute)
	resp := s.signIn(c, "kim.jiwoo", testPassword)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the right password while locked = %d (Retry-After %q), want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.clock.Add(time.Minute + time.Second)
	if resp := s.signIn(c, "kim.jiwoo", testPassword); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console" {
		t.Fatalf("after the lockout = %d to %q, want 303 to /console", resp.StatusCode, resp.Header.Get("Location"))
	}
	events, err := s.st.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range events {
		if e.Who == "kim.jiwoo" {
			counts[e.Kind]++
		}
		if strings.Contains(e.Detail, testPassword) || strings.Contains(e.Detail, "wrong password") {
			t.Errorf("audit event %+v holds a password", e)
		}
	}
	if counts[store.AuditSignInFailed] != 5 || counts[store.AuditAccountLocked] != 1 {
		t.Errorf("audit events of kim.jiwoo = %v, want 5 %s and 1 %s", counts, store.AuditSignInFailed, store.AuditAccountLocked)
	}
	// An unknown name fails the same way and is no audit event.
	if resp := s.signIn(s.client(), "nobody.here", testPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown name = %d, want 401", resp.StatusCode)
	}
}

// Ensure that a session ends 2 hours after its last request and 12 hours
// after sign-in however busy, with an injected clock, and that the store
// forgets it.
func TestSessionExpiry(t *testing.T) {
	for _, tt := range []struct {
		name  string
		steps []time.Duration // requests after sign-in, each this long after the previous
		alive []bool
	}{
		{"busy within the idle limit", []time.Duration{time.Hour, time.Hour + 59*time.Minute, time.Hour}, []bool{true, true, true}},
		{"idle too long", []time.Duration{time.Hour, 2*time.Hour + time.Second}, []bool{true, false}},
		{"absolute limit", []time.Duration{90 * time.Minute, 90 * time.Minute, 90 * time.Minute, 90 * time.Minute,
			90 * time.Minute, 90 * time.Minute, 90 * time.Minute, 90*time.Minute - time.Second, 2 * time.Second}, []bool{true, true, true, true, true, true, true, true, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, Options{})
			c := s.client()
			if resp := s.signIn(c, "lee.admin", testPassword); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in = %d", resp.StatusCode)
			}
			for i, d := range tt.steps {
				s.clock.Add(d)
				resp, _ := s.get(c, "/admin")
				if alive := resp.StatusCode == http.StatusOK; alive != tt.alive[i] {
					t.Fatalf("request %d (%v later): GET /admin = %d, want alive %v", i+1, d, resp.StatusCode, tt.alive[i])
				}
				if !tt.alive[i] && !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
					t.Errorf("expired session: Location %q, want the sign-in page", resp.Header.Get("Location"))
				}
			}
			n, err := s.st.DeleteExpiredSessions(context.Background(), s.clock.Now(), time.Time{})
			if err != nil || n != 0 {
				t.Errorf("sessions left in the store after expiry = %d, %v; want 0", n, err)
			}
		})
	}
}

// Ensure that sign-in posts from one address beyond the burst are refused
// 429 until the bucket refills, without touching the accounts.
func TestRateLimit(t *testing.T) {
	s := newSite(t, Options{AddressBurst: 3, AddressEvery: time.Minute, MaxFailures: 100})
	c := s.client()
	for i := range 3 {
		if resp := s.signIn(c, "nobody", "x"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := s.signIn(c, "kim.jiwoo", testPassword)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth attempt = %d, want 429", resp.StatusCode)
	}
	if resp, _ := s.post(s.client(), "/signup", url.Values{}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-up from the same address = %d, want 429", resp.StatusCode)
	}
	s.clock.Add(time.Minute)
	if resp := s.signIn(c, "kim.jiwoo", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a minute later = %d, want 303", resp.StatusCode)
	}
}

// Ensure that ?lang=en switches to English and is remembered by a cookie,
// that Korean is the default whatever Accept-Language says, and that
// ?lang=ko switches back.
func TestLanguage(t *testing.T) {
	s := newSite(t, Options{})
	c := s.client()
	req, _ := http.NewRequest("GET", s.srv.URL+"/", nil)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := s.body(resp); !strings.Contains(body, `<html lang="ko">`) || !strings.Contains(body, "인터넷이 끊겨도") {
		t.Errorf("default page is not Korean")
	}
	for _, tt := range []struct{ path, lang, text string }{
		{"/?lang=en", "en", "Safe venue check-ins, even offline"},
		{"/signin", "en", "Sign in"},
		{"/?lang=ko", "ko", "인터넷이 끊겨도"},
		{"/signin", "ko", "로그인"},
		{"/?lang=xx", "ko", "인터넷이 끊겨도"},
	} {
		_, body := s.get(c, tt.path)
		if !strings.Contains(body, `<html lang="`+tt.lang+`">`) || !strings.Contains(body, tt.text) {
			t.Errorf("GET %s: want %s with %q", tt.path, tt.lang, tt.text)
		}
	}
}

// Ensure that a business owner signs up, signs in, and sees only their own
// venues: another's is 404 like one that does not exist.
func TestSignUpAndOwnVenues(t *testing.T) {
	s := newSite(t, Options{})
	ctx := context.Background()
	for _, v := range []store.Venue{{ID: "v-cafe-1", Name: "Cafe Halla", Status: registry.StatusApproved}, {ID: "v-bar-2", Name: "Bar Udo"}} {
		if err := s.st.AddVenue(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	c := s.client()
	tok := s.csrf(c, "/signup")
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"bad phone", url.Values{"name": {"choi.bar"}, "phone": {"12345"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}, 400, "휴대전화 번호가 올바르지"},
		{"short password", url.Values{"name": {"choi.bar"}, "phone": {"010-9999-8888"}, "password": {"short"}, "confirm": {"short"}}, 400, "10자 이상"},
		{"taken", url.Values{"name": {"park.cafe"}, "phone": {"010-9999-8888"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}, 409, "이미 쓰이는"},
		{"reserved", url.Values{"name": {"admin"}, "phone": {"010-9999-8888"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}, 409, "이미 쓰이는"},
		{"good", url.Values{"name": {"Choi.Bar"}, "phone": {"010-9999-8888"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}, 303, ""},
	} {
		tt.form.Set("csrf", tok)
		resp, body := s.post(c, "/signup", tt.form)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.text) {
			t.Errorf("sign-up %s = %d, want %d with %q", tt.name, resp.StatusCode, tt.status, tt.text)
		}
	}
	a, err := s.st.Account(ctx, "choi.bar")
	if err != nil || a.Role != RoleBusiness || a.Phone != "+821099998888" || a.CreatedBy != "choi.bar" || !strings.HasPrefix(a.PasswordHash, "$argon2id$v=19$") {
		t.Fatalf("signed-up account = %+v, %v", a, err)
	}
	if err := s.st.AddAccountVenue(ctx, "choi.bar", "v-bar-2"); err != nil {
		t.Fatal(err)
	}
	if resp := s.signIn(c, "choi.bar", "long enough pw"); resp.Header.Get("Location") != "/business" {
		t.Fatalf("sign-in of the new owner: Location %q, want /business", resp.Header.Get("Location"))
	}
	for _, tt := range []struct {
		path   string
		status int
	}{{"/business/venues/v-bar-2", 200}, {"/business/venues/v-cafe-1", 404}, {"/business/venues/v-none", 404}, {"/admin", 403}, {"/console", 403}} {
		if resp, _ := s.get(c, tt.path); resp.StatusCode != tt.status {
			t.Errorf("choi.bar: GET %s = %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
	}
	_, body := s.get(c, "/business")
	if !strings.Contains(body, "v-bar-2") || strings.Contains(body, "v-cafe-1") {
		t.Errorf("choi.bar's portal lists other venues than v-bar-2")
	}
}

// Ensure that a disabled account's session ends at once and it cannot
// sign in again.
func TestDisabledAccount(t *testing.T) {
	s := newSite(t, Options{})
	c := s.client()
	s.signIn(c, "kim.jiwoo", testPassword)
	if _, err := s.web.DisableAccount(context.Background(), "kim.jiwoo", "lee.admin"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := s.get(c, "/console"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /console after disabling = %d, want 303", resp.StatusCode)
	}
	if resp := s.signIn(c, "kim.jiwoo", testPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign-in of a disabled account = %d, want 401", resp.StatusCode)
	}
}

// Ensure that the sign-in goes back to where the person was going, only
// on this site.
func TestSignInNext(t *testing.T) {
	s := newSite(t, Options{})
	for _, tt := range []struct{ next, want string }{
		{"/console?case=1", "/console?case=1"},
		{"//evil.example/x", "/console"},
		{"https://evil.example/", "/console"},
		{"/\\evil.example", "/console"},
	} {
		c := s.client()
		tok := s.csrf(c, "/signin")
		resp, _ := s.post(c, "/signin", url.Values{"csrf": {tok}, "name": {"kim.jiwoo"}, "password": {testPassword}, "next": {tt.next}})
		if got := resp.Header.Get("Location"); got != tt.want {
			t.Errorf("next %q: Location %q, want %q", tt.next, got, tt.want)
		}
	}
}

// Ensure that a form over the size limit is refused 413.
func TestFormSizeLimit(t *testing.T) {
	s := newSite(t, Options{MaxFormBytes: 1024})
	c := s.client()
	tok := s.csrf(c, "/signin")
	resp, _ := s.post(c, "/signin", url.Values{"csrf": {tok}, "name": {strings.Repeat("a", 2000)}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 KB form = %d, want 413", resp.StatusCode)
	}
}

// Ensure that the static files are served with their types, the font
// among them, and directories are not listed.
func TestStatic(t *testing.T) {
	s := newSite(t, Options{})
	c := s.client()
	for _, tt := range []struct{ path, ctype string }{
		{"/static/css/base.css", "text/css; charset=utf-8"},
		{"/static/fonts/fonts.css", "text/css; charset=utf-8"},
		{"/static/fonts/noto-sans-kr-latin-400-normal.woff2", "font/woff2"},
		{"/static/fonts/OFL.txt", "text/plain; charset=utf-8"},
	} {
		resp, body := s.get(c, tt.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.ctype || len(body) == 0 {
			t.Errorf("GET %s = %d %q, want 200 %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.ctype)
		}
	}
	for _, p := range []string{"/static/", "/static/fonts/"} {
		if resp, _ := s.get(c, p); resp.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
}

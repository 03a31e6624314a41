package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/store/boltstore"
)

// clock is an injected clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// site is a web on a real bbolt store behind a real HTTP server.
type site struct {
	t     *testing.T
	web   *Web
	st    store.Store
	clock *clock
	srv   *httptest.Server
}

// testPassword is every test account's password.
const testPassword = "correct horse battery"

// newSite starts a web with opts (its clock replaced by the site's) and
// the accounts kim.jiwoo (investigator), lee.admin (admin) and park.cafe
// (business, owning v-cafe-1).
func newSite(t *testing.T, opts Options) *site {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "central.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	opts.Now = c.Now
	wb, err := New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, web: wb, st: st, clock: c, srv: httptest.NewServer(wb.Handler())}
	t.Cleanup(s.srv.Close)
	ctx := context.Background()
	for _, a := range []NewAccount{
		{Name: "kim.jiwoo", Role: RoleInvestigator, Phone: "010-1234-5678", Password: testPassword},
		{Name: "lee.admin", Role: RoleAdmin, Phone: "010-2222-3333", Password: testPassword},
		{Name: "park.cafe", Role: RoleBusiness, Phone: "010-4444-5555", Password: testPassword, Venues: []string{"v-cafe-1"}},
	} {
		if _, err := wb.AddAccount(ctx, a, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// client is a browser: a cookie jar, redirects not followed.
func (s *site) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and returns the answer and its body.
func (s *site) get(c *http.Client, path string) (*http.Response, string) {
	s.t.Helper()
	resp, err := c.Get(s.srv.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, s.body(resp)
}

// csrf returns the CSRF token of the form on path.
func (s *site) csrf(c *http.Client, path string) string {
	s.t.Helper()
	_, body := s.get(c, path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		s.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// post posts a form to path.
func (s *site) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	s.t.Helper()
	resp, err := c.PostForm(s.srv.URL+path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, s.body(resp)
}

// signIn signs c in as name with password and returns the answer.
func (s *site) signIn(c *http.Client, name, password string) *http.Response {
	s.t.Helper()
	tok := s.csrf(c, "/signin")
	resp, _ := s.post(c, "/signin", url.Values{"csrf": {tok}, "name": {name}, "password": {password}})
	return resp
}

// body reads and closes an answer's body.
func (s *site) body(resp *http.Response) string {
	s.t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

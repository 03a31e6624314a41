package central

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
)

// apiRoutes returns the pattern of every mux.Handle and mux.HandleFunc
// call of the package's source: the API's route list. A pattern that is
// not a string literal fails the test, so that no route escapes the
// walk.
func apiRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "mux" || len(call.Args) != 2 {
				return true
			}
			p, ok := constString(t, f, call.Args[0])
			if !ok {
				t.Errorf("%s: a route whose pattern is not made of string literals and constants of this module: the route test cannot see it", fset.Position(call.Pos()))
				return true
			}
			out = append(out, p)
			return true
		})
	}
	return out
}

// constString evaluates a route pattern of f: string literals, + and
// exported string constants of this module's packages (wire.EnrollPath),
// which it finds by parsing their source.
func constString(t *testing.T, f *ast.File, e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		a, ok1 := constString(t, f, e.X)
		b, ok2 := constString(t, f, e.Y)
		return a + b, ok1 && ok2 && e.Op == token.ADD
	case *ast.SelectorExpr:
		pkg, ok := e.X.(*ast.Ident)
		if !ok {
			return "", false
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			rel, ok := strings.CutPrefix(path, "github.com/anshim/anshim/")
			if !ok || (imp.Name == nil && filepath.Base(path) != pkg.Name) || (imp.Name != nil && imp.Name.Name != pkg.Name) {
				continue
			}
			pkgs, err := parser.ParseDir(token.NewFileSet(), filepath.Join("..", rel), func(fi fs.FileInfo) bool {
				return !strings.HasSuffix(fi.Name(), "_test.go")
			}, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pkgs {
				for _, pf := range p.Files {
					if obj := pf.Scope.Lookup(e.Sel.Name); obj != nil && obj.Kind == ast.Con {
						if vs, ok := obj.Decl.(*ast.ValueSpec); ok {
							for i, n := range vs.Names {
								if n.Name == e.Sel.Name && i < len(vs.Values) {
									return constString(t, pf, vs.Values[i])
								}
							}
						}
					}
				}
			}
		}
	}
	return "", false
}

// Roles the route test walks as, in the order of routeCase.want.
var walkRoles = []string{web.RoleAdmin, web.RoleInvestigator, web.RoleBusiness, "nobody"}

// Access classes of the API's routes, as statuses per walkRoles; 0 means
// "let through": anything but 401, 403, 405 and the mux's own 404.
var (
	apiPublic = [4]int{0, 0, 0, 0}
	apiAdmin  = [4]int{0, 403, 401, 401}
	apiTracer = [4]int{0, 0, 401, 401}
	// apiAppSession: the visitor app's device session, which no walker has.
	apiAppSession = [4]int{401, 401, 401, 401}
)

// routeCase is the expected answer of a route to each role.
type routeCase struct {
	path string // the request's path ("" for the pattern's)
	want [4]int
}

// webCases are the web's routes: pages by their session cookie.
var webCases = map[string]routeCase{
	"GET /{$}":                  {"/", [4]int{200, 200, 200, 200}},
	"GET /static/":              {"/static/css/base.css", [4]int{200, 200, 200, 200}},
	"GET /signin":               {"", [4]int{303, 303, 303, 200}},
	"POST /signin":              {"", [4]int{400, 400, 400, 400}}, // an empty form with its CSRF token
	"GET /signup":               {"", [4]int{303, 303, 303, 200}},
	"POST /signup":              {"", [4]int{400, 400, 400, 400}},
	"GET /business":             {"", [4]int{403, 403, 200, 303}},
	"GET /business/venues/{id}": {"/business/venues/v-cafe-1", [4]int{403, 403, 200, 303}},
	// The business portal: park.cafe owns v-cafe-1, which is not approved.
	"GET /business/apply":                              {"", [4]int{403, 403, 200, 303}},
	"POST /business/apply":                             {"", [4]int{403, 403, 400, 401}},
	"GET /business/venues/{id}/edit":                   {"/business/venues/v-cafe-1/edit", [4]int{403, 403, 200, 303}},
	"POST /business/venues/{id}/edit":                  {"/business/venues/v-cafe-1/edit", [4]int{403, 403, 400, 401}},
	"GET /business/venues/{id}/poster.pdf":             {"/business/venues/v-cafe-1/poster.pdf", [4]int{403, 403, 409, 303}},
	"GET /business/venues/{id}/poster.png":             {"/business/venues/v-cafe-1/poster.png", [4]int{403, 403, 409, 303}},
	"POST /business/venues/{id}/tokens":                {"/business/venues/v-cafe-1/tokens", [4]int{403, 403, 409, 401}},
	"POST /business/venues/{id}/tokens/{token}/revoke": {"/business/venues/v-cafe-1/tokens/00/revoke", [4]int{403, 403, 404, 401}},
	"GET /admin":                                    {"", [4]int{200, 403, 403, 303}},
	"GET /admin/venues":                             {"", [4]int{200, 403, 403, 303}},
	"GET /admin/venues/{id}":                        {"/admin/venues/v-cafe-1", [4]int{200, 403, 403, 303}},
	"POST /admin/venues/{id}/status":                {"/admin/venues/v-cafe-1/status", [4]int{400, 403, 403, 401}}, // an empty form
	"GET /admin/fleet":                              {"", [4]int{200, 403, 403, 303}},
	"POST /admin/fleet/{id}/decommission":           {"", [4]int{400, 403, 403, 401}}, // no confirmation
	"GET /admin/accounts":                           {"", [4]int{200, 403, 403, 303}},
	"POST /admin/accounts/{name}/disable":           {"", [4]int{404, 403, 403, 401}}, // nobody.here
	"GET /admin/audit":                              {"", [4]int{200, 403, 403, 303}},
	"GET /admin/backup":                             {"", [4]int{200, 403, 403, 303}},
	"GET /admin/people":                             {"", [4]int{200, 403, 403, 303}},
	"POST /admin/people":                            {"", [4]int{400, 403, 403, 401}}, // no phone number
	"GET /admin/people/{id}":                        {"/admin/people/p-0000000000000000", [4]int{404, 403, 403, 303}},
	"POST /admin/people/{id}/reveal":                {"/admin/people/p-0000000000000000/reveal", [4]int{404, 403, 403, 401}},
	"POST /admin/people/{id}/cards/{serial}/revoke": {"/admin/people/p-0000000000000000/cards/1/revoke", [4]int{404, 403, 403, 401}},
	"GET /console":                                  {"", [4]int{403, 200, 403, 303}},
	"POST /console/cases":                           {"", [4]int{403, 400, 403, 401}}, // an empty form
	"GET /console/cases/{id}":                       {"/console/cases/999", [4]int{403, 404, 403, 303}},
	"POST /console/cases/{id}/reveal":               {"/console/cases/999/reveal", [4]int{403, 404, 403, 401}},
	"POST /console/cases/{id}/close":                {"/console/cases/999/close", [4]int{403, 404, 403, 401}},
	"GET /console/cases/{id}/contacts.csv":          {"/console/cases/999/contacts.csv", [4]int{403, 404, 403, 303}},
	"GET /console/cases/{id}/report":                {"/console/cases/999/report", [4]int{403, 404, 403, 303}},

	// The clerks' cards (clerk_*.go): clerks and admins; the clerk's own
	// answers are in TestClerkPages.
	"GET /clerk":                                       {"", [4]int{200, 403, 403, 303}},
	"POST /clerk/visitors":                             {"", [4]int{400, 403, 403, 401}}, // an empty form
	"POST /clerk/find":                                 {"", [4]int{400, 403, 403, 401}}, // no phone number
	"GET /clerk/visitors/{id}":                         {"/clerk/visitors/p-0000000000000000", [4]int{404, 403, 403, 303}},
	"POST /clerk/visitors/{id}/cards":                  {"/clerk/visitors/p-0000000000000000/cards", [4]int{404, 403, 403, 401}},
	"GET /clerk/visitors/{id}/cards/{serial}/card.pdf": {"/clerk/visitors/p-0000000000000000/cards/1/card.pdf", [4]int{404, 403, 403, 303}},

	// The console's follow-up (console_followup.go).
	"POST /console/cases/{id}/followups":                    {"/console/cases/999/followups", [4]int{403, 404, 403, 401}},
	"POST /console/cases/{id}/followups/{pseudonym}/status": {"/console/cases/999/followups/00/status", [4]int{403, 404, 403, 401}},
	"POST /console/cases/{id}/notify":                       {"/console/cases/999/notify", [4]int{403, 404, 403, 401}},

	"GET /app":                      {"", [4]int{200, 200, 200, 200}},
	"GET /app/manifest.webmanifest": {"", [4]int{200, 200, 200, 200}},
	"GET /app/sw.js":                {"", [4]int{200, 200, 200, 200}},
	"POST /signout":                 {"", [4]int{303, 303, 303, 401}}, // walked last: it ends the session
}

// apiCases are the API's routes: bearer tokens.
var apiCases = map[string][4]int{
	"POST /v1/enroll":                             apiPublic,
	"POST /v1/venues":                             apiAdmin,
	"GET /v1/venues/{id}":                         apiAdmin,
	"POST /v1/venues/{id}/status":                 apiAdmin,
	"POST /v1/venues/{id}/debounce":               apiAdmin,
	"POST /v1/venues/{id}/tokens":                 apiAdmin,
	"POST /v1/venues/{id}/poster":                 apiAdmin,
	"GET /v1/devices":                             apiAdmin,
	"GET /v1/backup":                              apiAdmin,
	"POST /v1/revocations":                        apiAdmin,
	"POST /v1/api-tokens":                         apiAdmin,
	"GET /v1/api-tokens":                          apiAdmin,
	"POST /v1/api-tokens/{name}/revoke":           apiAdmin,
	"POST /v1/persons":                            apiAdmin,
	"POST /v1/persons/{id}/passes":                apiAdmin,
	"POST /v1/persons/{id}/cards/{serial}/revoke": apiAdmin,
	"POST /v1/traces":                             apiTracer,
	"GET /v1/traces/{id}":                         apiTracer,
	"POST /v1/checkins":                           apiPublic,
	"POST /v1/app/codes":                          apiPublic, // 400: no JSON body
	"POST /v1/app/sessions":                       apiPublic,
	"GET /v1/app/pass":                            apiAppSession,
	"POST /v1/app/pass/revoke":                    apiAppSession,
	"GET /v1/app/visits":                          apiAppSession,
	"GET /v1/app/inbox":                           apiAppSession,
	"DELETE /v1/app/account":                      apiAppSession,
	"GET /v1/ledger/checkpoint":                   apiPublic,
	"GET /v1/ledger/checkpoints":                  apiPublic,
	"GET /v1/ledger/leaves":                       apiPublic,
	"GET /v1/ledger/proof/inclusion":              apiPublic,
	"GET /v1/ledger/proof/consistency":            apiPublic,
	"GET /v1/ledger/receipt":                      apiPublic,
	"GET /v1/ledger/alerts":                       apiPublic,
	"POST /v1/accounts":                           apiAdmin,
	"GET /v1/accounts":                            apiAdmin,
	"POST /v1/accounts/{name}/disable":            apiAdmin,
	"GET /health":                                 apiPublic,
	"GET /metrics":                                apiPublic,

	// The follow-up of contacts (followup_api.go).
	"POST /v1/cases/{case}/contacts":                    apiTracer,
	"POST /v1/cases/{case}/contacts/{pseudonym}/status": apiTracer,
	"POST /v1/cases/{case}/notify":                      apiTracer,
	"GET /v1/followups":                                 apiTracer,
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// walker is one role's browser and API token.
type walker struct {
	role  string
	c     *http.Client
	token string
}

// TestRouteRoles walks every route of the web and of the API as an admin,
// an investigator, a business owner and nobody, and checks each answer
// against the tables above; a route without an entry, or an entry without
// a route, fails the test. Each route also answers 405 to a method it
// does not have.
func TestRouteRoles(t *testing.T) {
	ts := startServer(t)
	ctx := withAccount(context.Background(), fileAdmin)
	base := ts.HTTPURL()

	// One person, one name: lee.admin has a web account and an admin
	// token, kim.jiwoo an investigator's.
	walkers := make([]*walker, len(walkRoles))
	names := map[string]string{web.RoleAdmin: "lee.admin", web.RoleInvestigator: "kim.jiwoo", web.RoleBusiness: "park.cafe"}
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "route walk password"
	for i, role := range walkRoles {
		jar, _ := cookiejar.New(nil)
		w := &walker{role: role, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		walkers[i] = w
		name := names[role]
		if name == "" {
			continue
		}
		if role != web.RoleBusiness {
			tok, err := ts.AddAPIToken(ctx, name, role)
			if err != nil {
				t.Fatal(err)
			}
			w.token = tok.Token
		}
		var venues []string
		if role == web.RoleBusiness {
			venues = []string{"v-cafe-1"}
		}
		if _, err := wb.AddAccount(ctx, web.NewAccount{Name: name, Role: role, Phone: "010-1234-5678", Password: pw, Venues: venues}, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.store.AddVenue(ctx, store.Venue{ID: "v-cafe-1", Name: "Cafe Halla", Created: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}

	do := func(w *walker, method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if w.token != "" {
			req.Header.Set("Authorization", "Bearer "+w.token)
		}
		resp, err := w.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// csrf returns the token of w's forms: a signed-in page's sign-out
	// form, or the sign-in form.
	csrf := func(w *walker) string {
		t.Helper()
		path := "/" // the landing page: a signed-in page's sign-out form
		if resp, _ := do(w, "GET", "/signin", nil); resp.StatusCode == http.StatusOK {
			path = "/signin"
		}
		_, body := do(w, "GET", path, nil)
		m := csrfField.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: no CSRF token on %s", w.role, path)
		}
		return m[1]
	}
	signIn := func(w *walker) {
		t.Helper()
		if w.role == "nobody" {
			return
		}
		ts.clock.Advance(7 * time.Minute) // the per-address limit refills
		resp, _ := do(w, "POST", "/signin", url.Values{"csrf": {csrf(w)}, "name": {names[w.role]}, "password": {pw}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: sign-in = %d", w.role, resp.StatusCode)
		}
	}
	for _, w := range walkers {
		signIn(w)
	}

	// Every route has an entry and every entry a route.
	var webPatterns []string
	for _, rt := range web.Routes() {
		webPatterns = append(webPatterns, rt.Method+" "+rt.Pattern)
	}
	api := apiRoutes(t)
	for _, p := range webPatterns {
		if _, ok := webCases[p]; !ok {
			t.Errorf("web route %q has no entry in webCases: say what each role gets", p)
		}
	}
	for _, p := range api {
		if _, ok := apiCases[p]; !ok {
			t.Errorf("API route %q has no entry in apiCases: say what each role gets", p)
		}
	}
	for p := range webCases {
		if !slices.Contains(webPatterns, p) {
			t.Errorf("webCases has %q, which is no route", p)
		}
	}
	for p := range apiCases {
		if !slices.Contains(api, p) {
			t.Errorf("apiCases has %q, which is no route", p)
		}
	}

	concrete := func(pattern string) (method, path string) {
		method, path, _ = strings.Cut(pattern, " ")
		path = strings.NewReplacer("{$}", "", "{id}", "x-none", "{name}", "nobody.here", "{serial}", "1").Replace(path)
		return method, path
	}
	// The web, POST /signout last.
	webOrder := slices.Sorted(func(yield func(string) bool) {
		for p := range webCases {
			if !yield(p) {
				return
			}
		}
	})
	webOrder = append(slices.DeleteFunc(webOrder, func(p string) bool { return p == "POST /signout" }), "POST /signout")
	for _, p := range webOrder {
		rc := webCases[p]
		method, path := concrete(p)
		if rc.path != "" {
			path = rc.path
		}
		for i, w := range walkers {
			var form url.Values
			if method == "POST" {
				form = url.Values{"csrf": {csrf(w)}}
				ts.clock.Advance(7 * time.Minute)
			}
			resp, _ := do(w, method, path, form)
			if resp.StatusCode != rc.want[i] {
				t.Errorf("%s as %s: %d, want %d", p, w.role, resp.StatusCode, rc.want[i])
			}
			if rc.want[i] == 303 && strings.HasPrefix(p, "GET /") && w.role == "nobody" &&
				!strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
				t.Errorf("%s as nobody: Location %q, want the sign-in page", p, resp.Header.Get("Location"))
			}
			if resp.Header.Get("Content-Security-Policy") != web.ContentSecurityPolicy {
				t.Errorf("%s as %s: no Content-Security-Policy", p, w.role)
			}
		}
		if resp, _ := do(walkers[3], "DELETE", path, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("DELETE %s = %d, want 405", path, resp.StatusCode)
		}
	}
	// The API, by bearer token: the web session cookies of the walkers
	// signed out above carry nothing to it anyway.
	for _, w := range walkers {
		signIn(w)
	}
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range apiCases {
			if !yield(p) {
				return
			}
		}
	}) {
		want := apiCases[p]
		method, path := concrete(p)
		for i, w := range walkers {
			var form url.Values
			if method == "POST" {
				form = url.Values{}
			}
			resp, body := do(w, method, path, form)
			got := resp.StatusCode
			if want[i] != 0 && got != want[i] {
				t.Errorf("%s as %s: %d, want %d", p, w.role, got, want[i])
			}
			if want[i] == 0 && (got == 401 || got == 403 || got == 405 || got == 404 && body == "404 page not found\n") {
				t.Errorf("%s as %s: %d %q, want it let through", p, w.role, got, strings.TrimSpace(body))
			}
		}
		other := "DELETE" // a method the route has not
		if method == "DELETE" {
			other = "PUT"
		}
		if resp, _ := do(walkers[0], other, path, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s = %d, want 405", other, path, resp.StatusCode)
		}
	}
}

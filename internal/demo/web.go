package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/pass"
)

// demoAccount is a web account the demo makes, with its password: for
// the demo only, printed so that a newcomer can sign in.
type demoAccount struct {
	Name, Role, Password string
	Venues               []string
}

// demoAccounts are the web's accounts of the demo: the administration,
// an investigator, and the owner of v-demo-01 and of an application
// waiting for review (v-demo-new).
var demoAccounts = []demoAccount{
	{Name: "demo.admin", Role: "admin", Password: "demo admin password"},
	{Name: "demo.investigator", Role: "investigator", Password: "demo investigator password"},
	{Name: "demo.owner", Role: "business", Password: "demo owner password", Venues: []string{"v-demo-01", "v-demo-new"}},
}

// webAccounts registers an application for the administration to review
// and adds the demo's web accounts over the central's accounts API (with
// the admin token).
func webAccounts(ctx context.Context, srv *central.Server) error {
	reg := registry.Registration{ID: "v-demo-new", Name: "새 카페 (demo application)", BusinessNumber: "220-81-62517",
		Address: "제주특별자치도 제주시 중앙로 1", Category: registry.Category("cafe"), Location: registry.Location{Lat: 33.4996, Lon: 126.5312},
		OwnerPhone: "010-1234-5678"}
	if _, err := srv.RegisterVenue(ctx, reg); err != nil {
		return fmt.Errorf("demo: application: %w", err)
	}
	tok, err := os.ReadFile(srv.AdminTokenFile())
	if err != nil {
		return fmt.Errorf("demo: web accounts: %w", err)
	}
	for _, a := range demoAccounts {
		body, _ := json.Marshal(map[string]any{"name": a.Name, "role": a.Role, "phone": "010-1234-5678", "password": a.Password, "venues": a.Venues})
		req, err := http.NewRequestWithContext(ctx, "POST", srv.HTTPURL()+"/v1/accounts", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("demo: web account %s: %w", a.Name, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("demo: web account %s: %s: %s", a.Name, resp.Status, bytes.TrimSpace(msg))
		}
	}
	return nil
}

// printWeb prints the web's address, the demo's accounts and the console
// case opened for a visitor: running there with --keep, else where they
// would be.
func printWeb(out io.Writer, url, caseLine string, running bool) {
	if running {
		fmt.Fprintf(out, "\nweb: %s/  (Korean first; English at ?lang=en)\n", url)
	} else {
		fmt.Fprintf(out, "\nweb (make demo DEMO_FLAGS=--keep leaves it running): %s/\n", url)
	}
	fmt.Fprintln(out, "  accounts of this demo only:")
	for _, a := range demoAccounts {
		fmt.Fprintf(out, "  %-13s %-18s password %q\n", a.Role, a.Name, a.Password)
	}
	fmt.Fprintf(out, "  %s/admin has an application to review (v-demo-new, owned by demo.owner)\n", url)
	fmt.Fprint(out, caseLine)
}

// demoPeople is how many of the demo's visitors are people in the vault
// (a name and a phone number, an app pass issued there): the others carry
// passes the demo signs itself. A console case is opened for one of them.
const demoPeople = 25

// adminPost posts body as JSON to the central's API with the admin token
// and decodes the answer into out.
func adminPost(ctx context.Context, srv *central.Server, path string, body, out any) error {
	tok, err := os.ReadFile(srv.AdminTokenFile())
	if err != nil {
		return err
	}
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", srv.HTTPURL()+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return json.Unmarshal(msg, out)
}

// vaultVisitors registers n people in the vault over the API (admin
// token) and issues each an app pass: visitors the console can find.
func vaultVisitors(ctx context.Context, srv *central.Server, n int) ([]visitor, []string, error) {
	vs := make([]visitor, n)
	ids := make([]string, n)
	for i := range vs {
		var person struct {
			ID string `json:"id"`
		}
		if err := adminPost(ctx, srv, "/v1/persons", map[string]string{"name": fmt.Sprintf("데모 방문자 %02d", i+1),
			"phone": fmt.Sprintf("010-7000-%04d", i+1)}, &person); err != nil {
			return nil, nil, fmt.Errorf("demo: vault visitor: %w", err)
		}
		var issued struct {
			Pass string `json:"pass"`
		}
		if err := adminPost(ctx, srv, "/v1/persons/"+person.ID+"/passes", map[string]string{"kind": "app"}, &issued); err != nil {
			return nil, nil, fmt.Errorf("demo: vault visitor's pass: %w", err)
		}
		p, _, _, err := pass.Parse(issued.Pass)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: vault visitor's pass: %w", err)
		}
		vs[i], ids[i] = visitor{issued.Pass, p.Pseudonym}, person.ID
	}
	return vs, ids, nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// openCase opens a console case for the person id as demo.investigator
// would, through the console's own pages (sign-in, the case form: the
// trace runs, is saved with the case, an audit event and a ledger leaf),
// and returns the case page's path.
func openCase(ctx context.Context, base, ref, person string, onset time.Time) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := ""
	do := func(method, path string, form url.Values) (*http.Response, error) {
		var body io.Reader
		if form != nil {
			form.Set("csrf", csrf)
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return nil, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := csrfField.FindSubmatch(data); m != nil {
			csrf = string(m[1])
		}
		if resp.StatusCode >= 400 {
			return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return resp, nil
	}
	inv := demoAccounts[1]
	if _, err := do("GET", "/signin", nil); err != nil {
		return "", err
	}
	if resp, err := do("POST", "/signin", url.Values{"name": {inv.Name}, "password": {inv.Password}}); err != nil {
		return "", err
	} else if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("sign-in as %s: %s", inv.Name, resp.Status)
	}
	if _, err := do("GET", "/console", nil); err != nil {
		return "", err
	}
	resp, err := do("POST", "/console/cases", url.Values{"case_ref": {ref}, "person": {person},
		"onset": {onset.In(daykeys.KST).Format(time.DateOnly)}, "degree": {"2"}})
	if err != nil {
		return "", err
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/cases/") {
		return "", fmt.Errorf("open case: %s %q", resp.Status, loc)
	}
	return loc, nil
}

// demoCase opens a console case for the vault visitor with the most
// accepted check-ins of the day; printWeb prints its page's address.
func (d *demo) demoCase(ctx context.Context) error {
	n := map[[16]byte]int{}
	for _, s := range d.sims {
		for _, v := range s.accepted {
			n[v.pseudonym]++
		}
	}
	best := -1
	for i, v := range d.vaultVisitors {
		if n[v.p] > 0 && (best < 0 || n[v.p] > n[d.vaultVisitors[best].p]) {
			best = i
		}
	}
	if best < 0 {
		return errors.New("demo: no visitor known to the vault checked in: no case to open")
	}
	const ref = "DEMO-2026-001"
	path, err := openCase(ctx, d.webURL, ref, d.vaultIDs[best], time.Now())
	if err != nil {
		return fmt.Errorf("demo: console case: %w", err)
	}
	d.caseLine = fmt.Sprintf("  case %s: %s%s  (데모 방문자 %02d, %d check-ins today, degree 2; as %s)\n",
		ref, d.webURL, path, best+1, n[d.vaultVisitors[best].p], demoAccounts[1].Name)
	return nil
}

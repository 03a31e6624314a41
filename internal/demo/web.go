package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/registry"
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

// printWeb prints the web's address and the demo's accounts: running
// there with --keep, else where they would be.
func printWeb(out io.Writer, url string, running bool) {
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
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/anshim/anshim/central/store"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/sync/wire"
)

const venueUsage = `anshim venue registers venues with a running central server, approves
and suspends them, sets their kiosks' same-pass window, shows them, and
prints the poster codes of venues without a kiosk.`

// venueCommands is the table of "anshim venue" subcommands.
func (e *env) venueCommands() []cli.Command {
	return []cli.Command{
		{Name: "add", Summary: "register a venue with the central", Run: e.runVenueAdd},
		{Name: "status", Summary: "approve or suspend a venue", Run: e.runVenueStatus},
		{Name: "debounce", Summary: "set the same-pass window of a venue's kiosks", Run: e.runVenueDebounce},
		{Name: "show", Summary: "show a venue's registration", Run: e.runVenueShow},
		{Name: "poster", Summary: "print the poster code of a venue without a kiosk", Run: e.runVenuePoster},
	}
}

// runVenue runs "anshim venue".
func (e *env) runVenue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim venue", venueUsage, e.venueCommands(), args, stdout, stderr)
}

const venueAddUsage = `Usage: anshim venue add --central URL --admin-token-file FILE --id ID --name NAME
        --business-number N --address ADDRESS --category C --lat DEG --lon DEG
        --owner-phone PHONE [--default-stay MINUTES] [--status applied|approved]

Add registers a venue with the central server. Its kiosks are enrolled
with tokens from 'anshim device token' once the venue is approved; a
venue without a kiosk gets a poster from 'anshim venue poster'.

ID is 1-64 letters, digits, '-' or '_' (it becomes part of NATS
subjects). N is the business registration number (사업자등록번호),
NNN-NN-NNNNN, whose check digit must match. C is one of restaurant, cafe,
bar, bathhouse, gym, karaoke, pc-room, church, academy or other; it sets
the default stay of a visitor who never scans out (--default-stay
overrides it, 15 to 1425 minutes). DEG are decimal degrees north and east,
within South Korea. PHONE is the owner's Korean mobile or landline number.
A new venue is applied until approved ('anshim venue status').

The flags are checked before anything is sent: every bad one is named.

Examples:

	anshim venue add --central http://127.0.0.1:8440 \
		--admin-token-file /var/lib/anshim-central/admin.token \
		--id jeju-cafe-0042 --name 'Cafe Halla' --business-number 123-45-67891 \
		--address '제주특별자치도 제주시 중앙로 1' --category cafe \
		--lat 33.4996 --lon 126.5312 --owner-phone 010-1234-5678`

// venueFlags maps a registration's fields to the flags of "anshim venue
// add" that give them, with a hint for a bad value.
var venueFlags = map[string]struct{ flag, hint string }{
	"id":              {"--id", "give 1 to 64 letters, digits, '-' or '_': the id becomes part of NATS subjects"},
	"name":            {"--name", "give the venue's name, 1 to 200 bytes on one line, without invisible characters"},
	"business_number": {"--business-number", "give the 10 digits of the business registration certificate (사업자등록증) as NNN-NN-NNNNN; a typo makes the check digit fail"},
	"address":         {"--address", "give the venue's address, 1 to 300 bytes on one line, without invisible characters"},
	"category":        {"--category", ""}, // the error lists the categories
	"default_stay":    {"--default-stay", "give 15 to 1425 minutes, or leave it out for the category's default stay"},
	"location.lat":    {"--lat", "give decimal degrees north within South Korea, such as --lat 33.4996 (Jeju City)"},
	"location.lon":    {"--lon", "give decimal degrees east within South Korea, such as --lon 126.5312 (Jeju City)"},
	"location":        {"--lat/--lon", "give a point on land in South Korea (or within 500 m of its coast), such as --lat 33.4996 --lon 126.5312 (Jeju City)"},
	"owner_phone":     {"--owner-phone", "give a Korean mobile or landline number, such as 010-1234-5678 or 064-710-1234"},
	"status":          {"--status", "a new venue is applied (the default) or approved"},
}

// registrationError turns the registry's field errors into an error that
// names the flags, with a hint for each.
func registrationError(err error) error {
	var inv registry.InvalidError
	if !errors.As(err, &inv) {
		return err
	}
	msgs := make([]string, len(inv))
	var hints []string
	for i, fe := range inv {
		f, ok := venueFlags[fe.Field]
		if !ok {
			f.flag = fe.Field
		}
		msgs[i] = f.flag + ": " + fe.Err.Error()
		if f.hint != "" && !slices.Contains(hints, f.flag+": "+f.hint) {
			hints = append(hints, f.flag+": "+f.hint)
		}
	}
	err = cli.Usagef("%s", strings.Join(msgs, "; "))
	for _, h := range hints {
		err = cli.WithHint(err, "%s", h) // printed innermost first: in field order
	}
	return err
}

// runVenueAdd runs "anshim venue add".
func (e *env) runVenueAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim venue add"
	flags := cli.NewFlagSet(prog, venueAddUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "venue `id` (required)")
	name := flags.String("name", "", "venue `name` (required)")
	number := flags.String("business-number", "", "business registration `number`, NNN-NN-NNNNN (required)")
	address := flags.String("address", "", "the venue's `address` (required)")
	category := flags.String("category", "", "the venue's `category` (required)")
	lat := flags.String("lat", "", "latitude in decimal `degrees` north (required)")
	lon := flags.String("lon", "", "longitude in decimal `degrees` east (required)")
	phone := flags.String("owner-phone", "", "the owner's `phone` number (required)")
	stay := flags.Int("default-stay", 0, "default stay in `minutes` (default: the category's)")
	status := flags.String("status", string(registry.StatusApplied), "`status` to register with: applied or approved")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if err := flags.Required("id", "name", "business-number", "address", "category", "lat", "lon", "owner-phone"); err != nil {
		return err
	}
	reg := registry.Registration{
		ID: *id, Name: *name, BusinessNumber: *number, Address: *address,
		Category: registry.Category(*category), DefaultStay: *stay, OwnerPhone: *phone,
		Status: registry.Status(*status),
	}
	for _, f := range []struct {
		flag string
		s    string
		v    *float64
	}{{"--lat", *lat, &reg.Location.Lat}, {"--lon", *lon, &reg.Location.Lon}} {
		if *f.v, err = strconv.ParseFloat(strings.TrimSpace(f.s), 64); err != nil {
			return cli.WithHint(cli.Usagef("%s %q: not a number", f.flag, f.s), "give decimal degrees, such as --lat 33.4996 --lon 126.5312 (Jeju City)")
		}
	}
	if reg, err = reg.Normalize(); err != nil {
		return registrationError(err)
	}
	var v venueJSON
	err = c.call(ctx, "POST", "/v1/venues", reg, &v)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusConflict && strings.Contains(ae.msg, "business_number"):
		return cli.WithHint(err, "business number %s is registered already, to the venue the error names: one registration per business (see it with 'anshim venue show %s --id ID')", reg.BusinessNumber, c.args())
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		return cli.WithHint(err, "venue %s exists already: see it with 'anshim venue show %s --id %s'", reg.ID, c.args(), reg.ID)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "registered venue %s (%s): %s, default stay %d min, status %s\n", v.ID, v.Name, v.Category, v.DefaultStay, v.Status)
	if v.Status != registry.StatusApproved {
		fmt.Fprintf(stdout, "approve it with: anshim venue status %s --id %s --status approved\n", c.args(), v.ID)
	}
	return nil
}

// venueJSON is a venue as the central's API gives it: the store's own
// type, whose JSON it is.
type venueJSON = store.Venue

// venuePath returns the API path of a venue, checking its id first.
func venuePath(prog, id string, more ...string) (string, error) {
	if id == "" {
		return "", cli.UsageErrorf(prog, "--id is required")
	}
	if !wire.ValidVenueID(id) {
		return "", cli.WithHint(cli.Usagef("--id %q: not a venue id", id), "%s", venueFlags["id"].hint)
	}
	return "/v1/venues/" + strings.Join(append([]string{id}, more...), "/"), nil
}

// notFoundHint adds a hint to a 404 of the central.
func notFoundHint(err error, id string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound {
		return cli.WithHint(err, "no venue %s at this central: register it with 'anshim venue add'", id)
	}
	return err
}

// centralFlags are the flags that reach a central server's API.
type centralFlags struct {
	url, tokenFile *string
	// tokenFlag names the token file's flag: "admin-token-file", or
	// "token-file" for the investigators' commands.
	tokenFlag string
}

// addCentralFlags defines --central and --admin-token-file.
func addCentralFlags(fs *cli.FlagSet) *centralFlags {
	return &centralFlags{
		url:       fs.String("central", "http://127.0.0.1:8440", "central server's HTTP API `URL`"),
		tokenFile: fs.String("admin-token-file", "/var/lib/anshim-central/admin.token", "`file` with the central's admin token (DATA/admin.token)"),
		tokenFlag: "admin-token-file",
	}
}

// args returns the flags that reach this central as they were given, for
// the commands that hints name: a user can paste them.
func (c *centralFlags) args() string {
	return "--central " + shellQuote(*c.url) + " --" + c.tokenFlag + " " + shellQuote(*c.tokenFile)
}

// tokenDesc says what the token file is.
func (c *centralFlags) tokenDesc() string {
	if c.tokenFlag == "token-file" {
		return "the investigator.token (or admin.token) in the central's data directory"
	}
	return "the admin.token in the central's data directory"
}

// shellQuote returns s as one word for a POSIX shell, in double quotes if
// it holds anything but letters, digits and _ . / : @ % + = , -.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-") == "" {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`")
	return `"` + r.Replace(s) + `"`
}

// apiError is an error answer of the central's API.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("central: %s (HTTP %d)", e.msg, e.status)
}

// call sends an admin request with a JSON body (nil for none) and decodes
// the JSON answer into out.
func (c *centralFlags) call(ctx context.Context, method, path string, body, out any) error {
	tok, err := os.ReadFile(*c.tokenFile)
	if err != nil {
		what := "admin token"
		if c.tokenFlag != "admin-token-file" {
			what = "token"
		}
		return cli.WithHint(fmt.Errorf("%s: %w", what, err),
			"give --%s, %s (readable by its owner only)", c.tokenFlag, c.tokenDesc())
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	base := strings.TrimRight(*c.url, "/")
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return cli.WithHint(cli.Usagef("--central %q: %v", *c.url, err), "give the central's base URL, such as http://127.0.0.1:8440")
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cli.WithHint(err, "is the central running ('central serve') and --central its HTTP address?")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read the central's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		err := &apiError{status: resp.StatusCode, msg: e.Error}
		if resp.StatusCode == http.StatusUnauthorized {
			return cli.WithHint(err, "--%s must be %s of this central", c.tokenFlag, strings.TrimPrefix(c.tokenDesc(), "the "))
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("the central's answer: %w", err)
		}
	}
	return nil
}

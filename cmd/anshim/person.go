package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/anshim/anshim/central/vault"
	"github.com/anshim/anshim/internal/cli"
)

const personUsage = `anshim person registers visitors in the identity vault of a running
central server, issues their passes and revokes lost cards. The central
keeps each identity encrypted and destroys it after 8 weeks unused.`

// personCommands is the table of "anshim person" subcommands.
func (e *env) personCommands() []cli.Command {
	return []cli.Command{
		{Name: "add", Summary: "register a visitor by name and mobile number", Run: e.runPersonAdd},
		{Name: "pass", Summary: "issue a registered visitor's app or card pass", Run: e.runPersonPass},
		{Name: "revoke", Summary: "revoke a visitor's lost card", Run: e.runPersonRevoke},
	}
}

// runPerson runs "anshim person".
func (e *env) runPerson(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim person", personUsage, e.personCommands(), args, stdout, stderr)
}

const personAddUsage = `Usage: anshim person add --central URL --admin-token-file FILE --name NAME --phone PHONE

Add registers a visitor with the central's identity vault and prints the
new person's id on standard output. PHONE is a Korean mobile number:
010-XXXX-XXXX, or 011, 016, 017, 018 or 019 with a 3- or 4-digit middle
part, with or without hyphens or spaces, or as +82 10-XXXX-XXXX; or a
mobile number from abroad with its country code, +86 138 0013 8000. Each
number registers once. The central stores the name and number encrypted
and answers with the id only.

Arguments are visible to other users of this machine while the command
runs (ps) and may stay in the shell's history: run it on the operator's
own machine.

Examples:

	anshim person add --central http://127.0.0.1:8440 \
		--admin-token-file /var/lib/anshim-central/admin.token \
		--name '홍길동' --phone 010-1234-5678`

// personHint is the hint for an unknown or destroyed person.
func personHint(c *centralFlags) string {
	return "check --id (the id printed by 'anshim person add'); identities unused for 8 weeks are destroyed: register the visitor again with 'anshim person add " +
		c.args() + " --name NAME --phone NUMBER'"
}

// runPersonAdd runs "anshim person add".
func (e *env) runPersonAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim person add"
	flags := cli.NewFlagSet(prog, personAddUsage)
	c := addCentralFlags(flags)
	name := flags.String("name", "", "the visitor's `name` (required)")
	phone := flags.String("phone", "", "the visitor's mobile `number` (required)")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" || strings.TrimSpace(*phone) == "" {
		return flags.Usagef("--name and --phone are required")
	}
	if _, err := vault.NormalizePhone(*phone); err != nil {
		return cli.WithHint(cli.Usagef("--%v", err), "give a mobile number, such as 010-1234-5678 or +82 10-1234-5678 (from abroad: +86 138 0013 8000)")
	}
	var p struct {
		ID      string    `json:"id"`
		Created time.Time `json:"created"`
	}
	err = c.call(ctx, "POST", "/v1/persons", map[string]string{"name": *name, "phone": *phone}, &p)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		if id := registeredAs.FindStringSubmatch(ae.msg); id != nil {
			return cli.WithHint(err, "issue the visitor a pass with 'anshim person pass %s --id %s'", c.args(), id[1])
		}
		return err
	case errors.As(err, &ae) && ae.status == http.StatusBadRequest:
		return cli.WithHint(err, "check --name and --phone")
	case err != nil:
		return err
	}
	fmt.Fprintln(stdout, p.ID)
	fmt.Fprintf(stderr, "anshim: registered person %s; issue an app pass with 'anshim person pass %s --id %s' or a card with 'anshim person pass %s --id %s --kind card'\n",
		p.ID, c.args(), p.ID, c.args(), p.ID)
	return nil
}

// unknownCard matches the central's answer for a serial the person does
// not have.
var unknownCard = regexp.MustCompile(`card [0-9]+: not found`)

// registeredAs finds the person id in the central's answer to a number
// that is registered already.
var registeredAs = regexp.MustCompile(`registered already, as person (p-[0-9a-f]+)`)

const personPassUsage = `Usage: anshim person pass --central URL --admin-token-file FILE --id ID
        [--kind app|card] [--png FILE [--size PX]]

Pass issues a pass to the registered person ID, signed by the central with
the province's current pass-signing key, and prints its text on standard
output. An app pass is shown on the visitor's phone; a card pass is
printed. Each card gets the person's next serial, and revokes the
person's earlier cards at the kiosks: re-issue a card to replace a lost
one. With --png, the pass is also written as a QR code image (error
correction M). Issuing a pass counts as a use of the identity.

Examples:

	anshim person pass --admin-token-file /var/lib/anshim-central/admin.token --id p-0123456789abcdef
	anshim person pass --admin-token-file /var/lib/anshim-central/admin.token --id p-0123456789abcdef \
		--kind card --png card.png`

// runPersonPass runs "anshim person pass".
func (e *env) runPersonPass(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim person pass"
	flags := cli.NewFlagSet(prog, personPassUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "the person's `id` (required)")
	kind := flags.String("kind", "app", "pass `kind`: app (shown on a phone) or card (printed)")
	pngPath := flags.String("png", "", "also write the pass as a QR code PNG `file`")
	size := flags.Int("size", 400, "width and height of the PNG in `pixels`")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return flags.Usagef("unexpected argument %q", rest[0])
	case *id == "":
		return flags.Usagef("--id is required")
	case *kind != "app" && *kind != "card":
		return flags.Usagef("--kind %q: want app or card", *kind)
	case *size < 100 || *size > 10000:
		return cli.WithHint(cli.Usagef("--size %d is out of range", *size), "give 100 to 10000 pixels")
	}
	if *pngPath != "" {
		// Before a card serial is spent on a pass that cannot be written.
		if fi, err := os.Stat(filepath.Dir(*pngPath)); err != nil || !fi.IsDir() {
			return cli.WithHint(cli.Usagef("--png %s: no such directory", *pngPath), "give a file in an existing directory")
		}
	}
	var iss struct {
		Pass    string    `json:"pass"`
		Kind    string    `json:"kind"`
		Serial  uint32    `json:"serial"`
		Expires time.Time `json:"expires"`
		Revoked []uint32  `json:"revoked"`
	}
	err = c.call(ctx, "POST", "/v1/persons/"+url.PathEscape(*id)+"/passes", map[string]string{"kind": *kind}, &iss)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		return cli.WithHint(err, "%s", personHint(c))
	case errors.As(err, &ae) && ae.status == http.StatusServiceUnavailable:
		return cli.WithHint(err, "run the command again when the central's NATS is back: the new card revokes this one")
	case err != nil:
		return err
	}
	fmt.Fprintln(stdout, iss.Pass)
	what := iss.Kind + " pass"
	if iss.Kind == "card" {
		what = fmt.Sprintf("card pass serial %d", iss.Serial)
	}
	fmt.Fprintf(stderr, "anshim: issued %s to person %s, valid until %s\n", what, *id, iss.Expires.In(cli.KST()).Format(timeLayout))
	if len(iss.Revoked) > 0 {
		fmt.Fprintf(stderr, "anshim: revoked the person's earlier card%s %s at the kiosks\n", plural(len(iss.Revoked)), joinSerials(iss.Revoked))
	}
	if *pngPath != "" {
		if err := writeQRPNG(*pngPath, iss.Pass, *size); err != nil {
			return cli.WithHint(err, "the pass is issued and printed above; issue it again to get a PNG (a new card revokes this one)")
		}
		fmt.Fprintf(stderr, "anshim: wrote QR code to %s\n", *pngPath)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinSerials(serials []uint32) string {
	s := make([]string, len(serials))
	for i, n := range serials {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

const personRevokeUsage = `Usage: anshim person revoke --central URL --admin-token-file FILE --id ID --serial N

Revoke revokes card N of the person ID, a lost card: the central lists it
in the revocation list that kiosks follow, and they refuse the card from
then on. Revoking a card twice does no harm (run it again if the central
could not reach NATS). To give the visitor a new card, issue one with
'anshim person pass --kind card'.

Examples:

	anshim person revoke --admin-token-file /var/lib/anshim-central/admin.token \
		--id p-0123456789abcdef --serial 2`

// runPersonRevoke runs "anshim person revoke".
func (e *env) runPersonRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim person revoke"
	flags := cli.NewFlagSet(prog, personRevokeUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "the person's `id` (required)")
	serial := flags.Uint64("serial", 0, "the card's serial `N` (required)")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return flags.Usagef("unexpected argument %q", rest[0])
	case *id == "" || *serial == 0:
		return flags.Usagef("--id and --serial are required")
	case *serial > math.MaxUint32:
		return cli.WithHint(cli.Usagef("--serial %d is too large", *serial), "a serial is at most 4294967295")
	}
	var rv struct {
		RevocationID string `json:"revocation_id"`
	}
	err = c.call(ctx, "POST", fmt.Sprintf("/v1/persons/%s/cards/%d/revoke", url.PathEscape(*id), *serial), nil, &rv)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusNotFound && unknownCard.MatchString(ae.msg):
		return cli.WithHint(err, "check --serial: the card serials of a person are 1, 2, 3, … in the order issued")
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		return cli.WithHint(err, "%s", personHint(c))
	case errors.As(err, &ae) && ae.status == http.StatusServiceUnavailable:
		return cli.WithHint(err, "run the command again when the central's NATS is back")
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "revoked card %d of person %s\n", *serial, *id)
	fmt.Fprintf(stderr, "anshim: kiosks refuse the card once they have the revocation list (revocation id %s)\n", rv.RevocationID)
	return nil
}

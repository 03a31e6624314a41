package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/central/web/form"
	"github.com/anshim/anshim/internal/cli"
)

const userAddUsage = `Usage: anshim user add --central URL --admin-token-file FILE --role ROLE
        --name NAME --phone PHONE [--password-file FILE] [--venue ID]...

Add makes a web account: the person signs in at the central's /signin with
NAME and the password. The password is typed at a prompt (twice, not
echoed), or is the first line of --password-file; it goes to the central
over its API, which keeps only its argon2id hash. At least 10 characters,
without the name.

ROLE is admin, investigator, business (a venue owner: --venue gives the
venues the account owns, several allowed) or clerk. NAME is 2 to 64 of
a-z, 0-9, '.', '_' and '-', starting with a letter, such as kim.jiwoo;
never given out twice. A name that has an API token may become an
account of the same role only: it is the same person.

Examples:

	anshim user add --admin-token-file /var/lib/anshim-central/admin.token \
		--role admin --name lee.admin --phone 010-1234-5678
	anshim user add --admin-token-file admin.token --role business --name park.cafe \
		--phone 010-2222-3333 --venue v-cafe-1 --venue v-cafe-2 --password-file pw.txt`

// runUserAdd runs "anshim user add".
func (e *env) runUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim user add"
	flags := cli.NewFlagSet(prog, userAddUsage)
	c := addCentralFlags(flags)
	name := flags.String("name", "", "the person's account `name`, such as kim.jiwoo (required)")
	role := flags.String("role", "", "`role`: admin, investigator, business or clerk (required)")
	phone := flags.String("phone", "", "the person's mobile `number`, such as 010-1234-5678 (required)")
	pwFile := flags.String("password-file", "", "read the password from the first line of this `file` instead of a prompt")
	var venues []string
	flags.Func("venue", "a venue `id` the business account owns (repeat for several)", func(v string) error {
		venues = append(venues, v)
		return nil
	})
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return flags.Usagef("unexpected argument %q", rest[0])
	case *name == "":
		return cli.WithHint(cli.Usagef("--name is required"), "name the person, such as --name kim.jiwoo")
	case !store.ValidAccountName(*name):
		return cli.WithHint(cli.Usagef("--name %q: not an account name", *name), "give 2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter, such as kim.jiwoo")
	case !slices.Contains(web.AllRoles, *role):
		return cli.WithHint(cli.Usagef("--role %q: want one of %s", *role, strings.Join(web.AllRoles, ", ")), "business is a venue owner; clerk a community centre's staff who print visitors' cards (/clerk)")
	case *phone == "":
		return cli.WithHint(cli.Usagef("--phone is required"), "give the person's mobile number, such as --phone 010-1234-5678")
	case len(venues) > 0 && *role != web.RoleBusiness:
		return cli.Usagef("--venue is for a business account, not %s", *role)
	}
	pw, err := e.readPassword(*pwFile, stderr)
	if err != nil {
		return err
	}
	f := form.Account{Name: *name, Role: *role, Phone: *phone, Password: pw, Confirm: pw}
	if err := f.Validate(); err != nil {
		var fe *form.FieldError
		if errors.As(err, &fe) && (fe.Field == "password" || fe.Field == "confirm") {
			return cli.WithHint(fmt.Errorf("password: too short, too long, or holds the name"), "give at least %d characters, without the name", form.MinPassword)
		}
		if errors.As(err, &fe) && fe.Field == "phone" {
			return cli.WithHint(cli.Usagef("--phone %q: not a mobile number", *phone), "such as 010-1234-5678, +82 10-1234-5678, or +86 138 0013 8000 from abroad")
		}
		return err
	}
	var a central.AccountInfo
	err = c.call(ctx, "POST", "/v1/accounts", map[string]any{"name": *name, "role": *role, "phone": *phone, "password": pw, "venues": venues}, &a)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		return cli.WithHint(err, "a name is never given out twice, and a token's name only for its own role; see 'anshim user list %s' and 'anshim token list %s'", c.args(), c.args())
	case errors.As(err, &ae) && ae.status == http.StatusForbidden:
		return cli.WithHint(err, "only an administrator adds accounts: give --admin-token-file the admin.token or an admin's own token")
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "added %s account %s\n", a.Role, a.Name)
	return nil
}

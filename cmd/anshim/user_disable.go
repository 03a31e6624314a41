package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/cli"
)

const userDisableUsage = `Usage: anshim user disable --central URL --admin-token-file FILE --name NAME

Disable disables a web account at once: its sessions end, it cannot sign
in, and the API token of the same name is revoked. The name stays taken,
so that the audit trail keeps naming one person.

Examples:

	anshim user disable --admin-token-file /var/lib/anshim-central/admin.token --name park.cafe`

// runUserDisable runs "anshim user disable".
func (e *env) runUserDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim user disable"
	flags := cli.NewFlagSet(prog, userDisableUsage)
	c := addCentralFlags(flags)
	name := flags.String("name", "", "the account's `name` (required)")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return flags.Usagef("unexpected argument %q", rest[0])
	case *name == "" || !store.ValidAccountName(*name):
		return cli.WithHint(cli.Usagef("--name %q: not an account name", *name), "see the names with 'anshim user list %s'", c.args())
	}
	var a central.AccountInfo
	err = c.call(ctx, "POST", "/v1/accounts/"+*name+"/disable", nil, &a)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		return cli.WithHint(err, "no account named %s; see the names with 'anshim user list %s'", *name, c.args())
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "disabled %s account %s (since %s)\n", a.Role, a.Name, a.Disabled.In(cli.KST()).Format("2006-01-02 15:04 MST"))
	return nil
}

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

const tokenRevokeUsage = `Usage: anshim token revoke --central URL --admin-token-file FILE --name NAME

Revoke revokes a named API token at once: the central refuses it from
the next request on. The name stays taken, so that the audit trail keeps
naming one person; give the person a new token under a new name. The
token files (admin, investigator) are replaced by writing a new file in
the central's data directory and restarting it.

Examples:

	anshim token revoke --admin-token-file /var/lib/anshim-central/admin.token --name kim.jiwoo`

// runTokenRevoke runs "anshim token revoke".
func (e *env) runTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim token revoke"
	flags := cli.NewFlagSet(prog, tokenRevokeUsage)
	c := addCentralFlags(flags)
	name := flags.String("name", "", "the token's account `name` (required)")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return flags.Usagef("unexpected argument %q", rest[0])
	case *name == "":
		return cli.WithHint(cli.Usagef("--name is required"), "see the names with 'anshim token list %s'", c.args())
	case !store.ValidAccountName(*name):
		return cli.WithHint(cli.Usagef("--name %q: not an account name", *name), "see the names with 'anshim token list %s'", c.args())
	}
	var t central.APITokenInfo
	err = c.call(ctx, "POST", "/v1/api-tokens/"+*name+"/revoke", nil, &t)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		return cli.WithHint(err, "no token named %s; see the names with 'anshim token list %s'", *name, c.args())
	case errors.As(err, &ae) && ae.status == http.StatusBadRequest:
		return cli.WithHint(err, "replace the central's token file and restart it")
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "revoked %s token %s (since %s)\n", t.Role, t.Name, t.Revoked.In(cli.KST()).Format("2006-01-02 15:04 MST"))
	return nil
}

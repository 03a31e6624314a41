package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/atomicfile"
	"github.com/anshim/anshim/internal/cli"
)

const tokenUsage = `anshim token gives each administrator and investigator a named API
token of a running central server, so that its audit trail names the
person behind every trace, reveal and registry change. The central's
DATA/admin.token and DATA/investigator.token keep working, named "admin"
and "investigator".`

// tokenCommands is the table of "anshim token" subcommands.
func (e *env) tokenCommands() []cli.Command {
	return []cli.Command{
		{Name: "add", Summary: "make a named API token for a person (shown once)", Run: e.runTokenAdd},
		{Name: "list", Summary: "list the API tokens, revoked ones too", Run: e.runTokenList},
		{Name: "revoke", Summary: "revoke a named API token at once", Run: e.runTokenRevoke},
	}
}

// runToken runs "anshim token".
func (e *env) runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim token", tokenUsage, e.tokenCommands(), args, stdout, stderr)
}

const tokenAddUsage = `Usage: anshim token add --central URL --admin-token-file FILE --name NAME
        --role investigator|admin [--out FILE]

Add makes a named API token for one person and prints it on standard
output (or writes it to --out, mode 0600): the only time it is shown, the
central keeps its hash only. Give it to the person, who passes it as
--token-file to 'anshim trace' (an investigator) or as --admin-token-file
(an administrator). Every audit event of theirs names NAME.

NAME is 2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter,
such as kim.jiwoo; a name is never given out twice, also after its token
is revoked ('anshim token revoke'). "admin" and "investigator" are the
central's token files.

Examples:

	anshim token add --admin-token-file /var/lib/anshim-central/admin.token \
		--name kim.jiwoo --role investigator --out kim.jiwoo.token`

// runTokenAdd runs "anshim token add".
func (e *env) runTokenAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim token add"
	flags := cli.NewFlagSet(prog, tokenAddUsage)
	c := addCentralFlags(flags)
	name := flags.String("name", "", "the person's account `name`, such as kim.jiwoo (required)")
	role := flags.String("role", "", "`role`: investigator or admin (required)")
	out := flags.String("out", "", "write the token to this `file` (mode 0600) instead of standard output")
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
	case *role != central.RoleInvestigator && *role != central.RoleAdmin:
		return cli.WithHint(cli.Usagef("--role %q: want investigator or admin", *role), "investigators trace; administrators also register venues, persons and tokens")
	}
	if *out != "" {
		if _, err := os.Stat(*out); err == nil {
			return cli.WithHint(fmt.Errorf("--out %s: %w", *out, fs.ErrExist), "give a new file: a token is shown once")
		}
	}
	var tok central.NewAPIToken
	err = c.call(ctx, "POST", "/v1/api-tokens", map[string]string{"name": *name, "role": *role}, &tok)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		return cli.WithHint(err, "a name is never given out twice; see the names with 'anshim token list %s'", c.args())
	case errors.As(err, &ae) && ae.status == http.StatusForbidden:
		return cli.WithHint(err, "only an administrator adds tokens: give --admin-token-file the admin.token or an admin's own token")
	case err != nil:
		return err
	}
	if *out != "" {
		if err := atomicfile.WriteExcl(*out, []byte(tok.Token+"\n"), 0o600); err != nil {
			fmt.Fprintln(stdout, tok.Token) // made already: do not lose it
			return cli.WithHint(fmt.Errorf("write the token: %w", err), "the token is printed above instead; save it, or revoke it with 'anshim token revoke %s --name %s'", c.args(), tok.Name)
		}
	} else {
		fmt.Fprintln(stdout, tok.Token)
	}
	fmt.Fprintf(stderr, "anshim: added %s token %s; it is shown this once\n", tok.Role, tok.Name)
	return nil
}

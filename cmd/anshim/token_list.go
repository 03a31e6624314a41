package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/cli"
)

const tokenListUsage = `Usage: anshim token list --central URL --admin-token-file FILE [--json]

List prints the central's API tokens: the token files' accounts "admin"
and "investigator", then every named token with its role, when and by
whom it was made, and when it was revoked. Tokens themselves are never
shown (the central has only their hashes).

Examples:

	anshim token list --admin-token-file /var/lib/anshim-central/admin.token`

// runTokenList runs "anshim token list".
func (e *env) runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim token list"
	flags := cli.NewFlagSet(prog, tokenListUsage)
	c := addCentralFlags(flags)
	asJSON := flags.Bool("json", false, "print the central's JSON")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	var list []central.APITokenInfo
	if err := c.call(ctx, "GET", "/v1/api-tokens", nil, &list); err != nil {
		return err
	}
	if *asJSON {
		data, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(data, '\n'))
		return err
	}
	const layout = "2006-01-02 15:04 MST"
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tBY\tSTATUS")
	for _, t := range list {
		created, by, status := "-", "-", "valid"
		if !t.Created.IsZero() {
			created, by = t.Created.In(cli.KST()).Format(layout), t.CreatedBy
		}
		switch {
		case t.File != "":
			status = "file " + t.File
		case !t.Revoked.IsZero():
			status = "revoked " + t.Revoked.In(cli.KST()).Format(layout)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, created, by, status)
	}
	return tw.Flush()
}

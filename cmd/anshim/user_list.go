package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/cli"
)

const userListUsage = `Usage: anshim user list --central URL --admin-token-file FILE [--json]

List prints the web accounts in name order, disabled ones too: name, role,
when and by whom each was added, its venues and its status (active,
locked until a time after repeated failed sign-ins, or disabled).

Examples:

	anshim user list --admin-token-file /var/lib/anshim-central/admin.token`

// runUserList runs "anshim user list".
func (e *env) runUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim user list"
	flags := cli.NewFlagSet(prog, userListUsage)
	c := addCentralFlags(flags)
	asJSON := flags.Bool("json", false, "print the central's JSON")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return flags.Usagef("unexpected argument %q", rest[0])
	}
	var list []central.AccountInfo
	if err := c.call(ctx, "GET", "/v1/accounts", nil, &list); err != nil {
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
	now := e.now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tBY\tVENUES\tSTATUS")
	for _, a := range list {
		status := "active"
		switch {
		case !a.Disabled.IsZero():
			status = "disabled " + a.Disabled.In(cli.KST()).Format(layout)
		case a.LockedUntil.After(now):
			status = "locked until " + a.LockedUntil.In(cli.KST()).Format(layout)
		}
		venues := strings.Join(a.Venues, ",")
		if venues == "" {
			venues = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Role, a.Created.In(cli.KST()).Format(layout), a.CreatedBy, venues, status)
	}
	return tw.Flush()
}

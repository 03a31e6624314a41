package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/anshim/anshim/internal/cli"
)

const deviceUsage = `anshim device makes enrollment tokens for kiosks and lists enrolled
kiosks of a running central server.`

// deviceCommands is the table of "anshim device" subcommands.
func (e *env) deviceCommands() []cli.Command {
	return []cli.Command{
		{Name: "token", Summary: "make a one-time enrollment token for a kiosk of a venue", Run: e.runDeviceToken},
		{Name: "list", Summary: "list enrolled kiosks and their sync state", Run: e.runDeviceList},
	}
}

// runDevice runs "anshim device".
func (e *env) runDevice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim device", deviceUsage, e.deviceCommands(), args, stdout, stderr)
}

const deviceTokenUsage = `Usage: anshim device token --central URL --admin-token-file FILE --venue ID

Token makes a one-time enrollment token for a kiosk of venue ID and prints
it on standard output (its expiry on standard error). On the kiosk, run (as it also prints on standard error)

	kiosk enroll --central URL --token TOKEN --bundle-sha256 HEX --data DIR

where HEX pins the province bundle the kiosk will trust (needed unless URL
is https://).

A token enrolls one kiosk, and expires after the central's token lifetime
(7 days by default).

Examples:

	anshim device token --central http://127.0.0.1:8440 \
		--admin-token-file /var/lib/anshim-central/admin.token --venue jeju-cafe-0042`

// runDeviceToken runs "anshim device token".
func (e *env) runDeviceToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim device token"
	flags := cli.NewFlagSet(prog, deviceTokenUsage)
	c := addCentralFlags(flags)
	venue := flags.String("venue", "", "venue `id` (required)")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if *venue == "" {
		return flags.Usagef("--venue is required")
	}
	var tok struct {
		Token   string    `json:"token"`
		Venue   string    `json:"venue"`
		Expires time.Time `json:"expires"`
		Bundle  string    `json:"bundle_sha256"`
	}
	err = c.call(ctx, "POST", "/v1/venues/"+*venue+"/tokens", nil, &tok)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusNotFound:
		return cli.WithHint(err, "register the venue first: 'anshim venue add %s --id %s ...' (see 'anshim venue add --help')", c.args(), *venue)
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		return cli.WithHint(err, "approve the venue first: 'anshim venue status %s --id %s --status approved'", c.args(), *venue)
	case err != nil:
		return err
	}
	fmt.Fprintln(stdout, tok.Token)
	fmt.Fprintf(stderr, "enrollment token for a kiosk of venue %s, valid once until %s\n",
		tok.Venue, tok.Expires.In(cli.KST()).Format("2006-01-02 15:04 MST"))
	if tok.Bundle != "" {
		fmt.Fprintf(stderr, "on the kiosk: kiosk enroll --central %s --token %s --bundle-sha256 %s --data /var/lib/anshim\n",
			shellQuote(*c.url), tok.Token, tok.Bundle)
	}
	return nil
}

const deviceListUsage = `Usage: anshim device list --central URL --admin-token-file FILE [--json]

List prints the enrolled kiosks and their sync state: check-ins stored,
last sequence number, quarantine entries and chain breaks.

Examples:

	anshim device list --admin-token-file /var/lib/anshim-central/admin.token`

// runDeviceList runs "anshim device list".
func (e *env) runDeviceList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim device list"
	flags := cli.NewFlagSet(prog, deviceListUsage)
	c := addCentralFlags(flags)
	asJSON := flags.Bool("json", false, "print the central's JSON")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	var devices []struct {
		ID          string    `json:"id"`
		Venue       string    `json:"venue"`
		Records     uint64    `json:"records"`
		LastSeq     uint64    `json:"last_seq"`
		Quarantined uint64    `json:"quarantined"`
		Breaks      uint64    `json:"breaks"`
		Enrolled    time.Time `json:"enrolled"`
	}
	if *asJSON {
		var raw any
		if err := c.call(ctx, "GET", "/v1/devices", nil, &raw); err != nil {
			return err
		}
		data, err := json.MarshalIndent(raw, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(data, '\n'))
		return err
	}
	if err := c.call(ctx, "GET", "/v1/devices", nil, &devices); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tVENUE\tRECORDS\tLAST SEQ\tQUARANTINED\tBREAKS\tENROLLED")
	for _, d := range devices {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", d.ID, d.Venue, d.Records, d.LastSeq, d.Quarantined, d.Breaks,
			d.Enrolled.In(cli.KST()).Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

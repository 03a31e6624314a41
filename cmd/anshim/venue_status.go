package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/internal/cli"
)

const venueStatusUsage = `Usage: anshim venue status --central URL --admin-token-file FILE --id ID --status STATUS

Status approves or suspends a venue. A venue goes applied → approved →
suspended → approved. Only approved venues get kiosk enrollment tokens and
posters. A suspended venue's kiosks keep syncing: their check-ins are still
stored, since the visits happened.

Examples:

	anshim venue status --id jeju-cafe-0042 --status approved
	anshim venue status --id jeju-cafe-0042 --status suspended`

// runVenueStatus runs "anshim venue status".
func (e *env) runVenueStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim venue status"
	flags := cli.NewFlagSet(prog, venueStatusUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "venue `id` (required)")
	status := flags.String("status", "", "new `status`: approved or suspended (or applied) (required)")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	path, err := venuePath(prog, *id, "status")
	if err != nil {
		return err
	}
	if *status == "" {
		return flags.Usagef("--status is required")
	}
	st, err := registry.ParseStatus(*status)
	if err != nil {
		return cli.WithHint(cli.Usagef("--status: %v", err), "a venue goes applied → approved → suspended → approved")
	}
	var v venueJSON
	err = c.call(ctx, "POST", path, map[string]string{"status": string(st)}, &v)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		return cli.WithHint(err, "a venue goes applied → approved → suspended → approved; see its status with 'anshim venue show %s --id %s'", c.args(), *id)
	case err != nil:
		return notFoundHint(err, *id)
	}
	fmt.Fprintf(stdout, "venue %s is %s\n", v.ID, v.Status)
	if v.Status == registry.StatusSuspended {
		fmt.Fprintf(stdout, "its kiosks keep syncing; it gets no kiosk tokens or posters until approved again\n")
	}
	return nil
}

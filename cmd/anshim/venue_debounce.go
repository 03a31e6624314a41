package main

import (
	"context"
	"fmt"
	"io"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/cli"
)

const venueDebounceUsage = `Usage: anshim venue debounce --central URL --admin-token-file FILE --id ID
        --window DURATION|off|default

Debounce sets the same-pass window of a venue's kiosks: a second scan of a
pass within the window of its check-in is answered "already checked in"
and makes no record. DURATION is whole seconds up to 24h, such as 30s or
15m; "off" records every scan (a venue where people come and go, such as
a gym's door); "default" leaves each kiosk its own (10 minutes unless its
configuration says otherwise). The venue's kiosks pick the setting up
within seconds; a kiosk whose own configuration sets a debounce keeps it.
The change is recorded in the audit trail under your token's name.

Examples:

	anshim venue debounce --id jeju-gym-0007 --window off
	anshim venue debounce --id jeju-cafe-0042 --window 30s
	anshim venue debounce --id jeju-cafe-0042 --window default`

// runVenueDebounce runs "anshim venue debounce".
func (e *env) runVenueDebounce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim venue debounce"
	flags := cli.NewFlagSet(prog, venueDebounceUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "venue `id` (required)")
	window := flags.String("window", "", "the `window`: a duration such as 30s, off or default (required)")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	path, err := venuePath(prog, *id, "debounce")
	if err != nil {
		return err
	}
	if _, err := central.ParseDebounceWindow(*window); err != nil {
		return cli.WithHint(cli.Usagef("--window: %v", err), "give whole seconds up to 24h (such as 30s or 15m), off, or default")
	}
	var v venueJSON
	if err := c.call(ctx, "POST", path, map[string]string{"window": *window}, &v); err != nil {
		return notFoundHint(err, *id)
	}
	fmt.Fprintf(stdout, "venue %s: debounce %s\n", v.ID, central.FormatDebounceWindow(v.DebounceSeconds))
	return nil
}

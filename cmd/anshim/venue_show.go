package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/cli"
)

const venueShowUsage = `Usage: anshim venue show --central URL --admin-token-file FILE --id ID [--json]

Show prints a venue's registration and status, times in Korea Standard
Time.

Examples:

	anshim venue show --id jeju-cafe-0042`

// runVenueShow runs "anshim venue show".
func (e *env) runVenueShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim venue show"
	flags := cli.NewFlagSet(prog, venueShowUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "venue `id` (required)")
	asJSON := flags.Bool("json", false, "print the central's JSON")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	path, err := venuePath(prog, *id)
	if err != nil {
		return err
	}
	if *asJSON {
		var raw any
		if err := c.call(ctx, "GET", path, nil, &raw); err != nil {
			return notFoundHint(err, *id)
		}
		data, err := json.MarshalIndent(raw, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(data, '\n'))
		return err
	}
	var v venueJSON
	if err := c.call(ctx, "GET", path, nil, &v); err != nil {
		return notFoundHint(err, *id)
	}
	deg := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	orNone := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	kst := cli.KST()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "venue:\t%s\n", v.ID)
	fmt.Fprintf(tw, "name:\t%s\n", v.Name)
	fmt.Fprintf(tw, "business number:\t%s\n", orNone(v.BusinessNumber))
	fmt.Fprintf(tw, "address:\t%s\n", orNone(v.Address))
	fmt.Fprintf(tw, "category:\t%s\n", orNone(string(v.Category)))
	fmt.Fprintf(tw, "default stay:\t%d min\n", v.DefaultStay)
	fmt.Fprintf(tw, "location:\t%s N, %s E\n", deg(v.Location.Lat), deg(v.Location.Lon))
	fmt.Fprintf(tw, "owner phone:\t%s\n", orNone(v.OwnerPhone))
	fmt.Fprintf(tw, "status:\t%s\n", v.Status)
	fmt.Fprintf(tw, "debounce:\t%s\n", central.FormatDebounceWindow(v.DebounceSeconds))
	fmt.Fprintf(tw, "created:\t%s\n", v.Created.In(kst).Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(tw, "updated:\t%s\n", v.Updated.In(kst).Format("2006-01-02 15:04:05 MST"))
	return tw.Flush()
}

package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/anshim/anshim/kiosk"
)

func runInit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("init", "--data DIR --bundle FILE --venue ID",
		"Provisions a kiosk with no network: makes the device key (it never leaves the\n"+
			"device), copies the province's public bundle and creates the empty outbox.\n\n"+
			"Example:\n  kiosk init --data /var/lib/anshim --bundle public.json --venue v-1234567891", stderr)
	data := fs.String("data", "", "data `DIR` to create (kept 0700)")
	bundle := fs.String("bundle", "", "the province's public bundle `FILE` (public.json from `anshim keygen`)")
	venue := fs.String("venue", "", "venue `ID` this kiosk stands at")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *bundle == "" || *venue == "" {
		fs.Usage()
		return errUsage
	}
	d, err := kiosk.Provision(*data, *bundle, *venue, time.Now())
	if err != nil {
		return withHint(err, "check the paths; a directory can be provisioned once")
	}
	fmt.Fprintf(stdout, "device %s provisioned for venue %s in %s\n", d.ID, d.Venue, *data)
	return nil
}

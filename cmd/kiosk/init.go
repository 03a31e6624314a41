package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/sync/wire"
)

const initUsage = `Usage: kiosk init --data DIR --bundle FILE --venue ID [--venue-name NAME [--category CAT]]

Init provisions a kiosk with no network: it makes the device key (it never
leaves the device), copies the province's public bundle and creates the
empty outbox. A directory can be provisioned once. A kiosk that syncs with
the central is enrolled instead ('kiosk enroll'), or later: 'kiosk enroll'
on the same directory keeps the device key and every check-in recorded.

--venue-name and --category are what display mode shows until the kiosk
first syncs (then the central's venue settings).

Example:

	kiosk init --data /var/lib/anshim --bundle public.json --venue v-1234567891 --venue-name '카페 한라' --category cafe`

// runInit runs "kiosk init".
func (e *env) runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("kiosk init", initUsage)
	data := flags.String("data", "", "data `DIR` to create (kept 0700) (required)")
	bundle := flags.String("bundle", "", "the province's public bundle `FILE`, public.json from 'anshim keygen' (required)")
	venue := flags.String("venue", "", "venue `ID` this kiosk stands at (required)")
	name := flags.String("venue-name", "", "the venue's `NAME`, shown by display mode until the first sync")
	category := flags.String("category", "", "the venue's `CATEGORY` (restaurant, cafe, bar, bathhouse, gym, karaoke, pc-room, church, academy, other)")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if err := flags.Required("data", "bundle", "venue"); err != nil {
		return err
	}
	if !wire.ValidVenueID(*venue) {
		return cli.WithHint(cli.Usagef("--venue %q: not a venue id", *venue), "give 1 to 64 letters, digits, '-' or '_', such as v-1234567891")
	}
	if _, err := os.Stat(filepath.Join(*data, kiosk.FileDevice)); err == nil {
		return cli.WithHint(fmt.Errorf("%s is provisioned already", *data), "a directory is provisioned once: give a new --data directory, or run the kiosk on this one ('kiosk run --data %s')", *data)
	}
	if _, err := os.Stat(*bundle); err != nil {
		return cli.WithHint(fmt.Errorf("bundle: %w", err), "give the province's public.json, made by 'anshim keygen'")
	}
	d, err := kiosk.Provision(*data, *bundle, *venue, time.Now())
	if err != nil {
		return cli.WithHint(err, "check --data (a new directory) and --bundle (the province's public.json)")
	}
	if *name != "" {
		if err := kiosk.SetVenueName(*data, d, *name, *category); err != nil {
			return cli.WithHint(err, "the kiosk is provisioned; the display shows the venue id until the first sync")
		}
	}
	fmt.Fprintf(stdout, "device %s provisioned for venue %s in %s\n", d.ID, d.Venue, *data)
	return nil
}

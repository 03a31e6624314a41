package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/internal/demo"
)

const demoUsage = `Usage: anshim demo [--kiosks N] [--day DURATION] [--dir DIR] [--store SPEC] [--keep]

Demo runs the whole system in this process on embedded defaults: an
embedded NATS server, the central server with its bbolt store, and N
simulated kiosks with virtual scanners and visitors. It plays a scripted
day — steady check-ins, a network outage (the NATS server stopped), a kiosk
killed and restarted, a kiosk whose clock starts at 1970 — then waits for
every kiosk to sync and prints a table per kiosk: scanned, accepted, stored
at the central, duplicates, lost. It exits 1 unless every accepted check-in
is stored exactly once.

Examples:

	anshim demo
	anshim demo --kiosks 50 --day 60s --keep
	anshim demo --store postgres://postgres@127.0.0.1:5432/anshim_demo`

// runDemo runs "anshim demo".
func (e *env) runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("anshim demo", demoUsage)
	kiosks := flags.Int("kiosks", 20, "simulated kiosks (at least 3)")
	day := flags.Duration("day", 25*time.Second, "length of the scripted day")
	dir := flags.String("dir", "", "working `directory` (default: a new temporary directory)")
	storeSpec := flags.String("store", "", "the central's `store`: bbolt in the working directory (default) or postgres://USER@HOST:PORT/DB")
	keepRunning := flags.Bool("keep", false, "leave the central and the kiosks running after the check, and print where to look")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if *kiosks < 3 || *day < 5*time.Second {
		return flags.Usagef("--kiosks must be at least 3 and --day at least 5s")
	}
	_, err = demo.Run(ctx, demo.Options{Kiosks: *kiosks, Day: *day, Dir: *dir, Store: *storeSpec, Keep: *keepRunning, Out: stdout})
	if errors.Is(err, demo.ErrLostOrDuplicated) {
		return cli.WithHint(err, "the per-component logs are in the working directory's logs/ folder")
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

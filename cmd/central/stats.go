package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/internal/cli"
)

const statsUsage = `Usage: central stats [--config FILE] [--data DIR] [--store bolt:PATH]

Stats opens the store of a stopped central server and prints, as a JSON
array, each enrolled device with its sync state:

	[{"id":"k-…","venue":"…","records":N,"last_seq":N,"quarantined":N,"breaks":N,"enrolled":"…"}]

A running server holds the store's lock; ask it instead with
GET /v1/devices and the admin token.

Examples:

	central stats --data /var/lib/anshim-central
	central stats --config /etc/anshim/central.json | jq '.[] | select(.quarantined > 0)'`

// runStats runs "central stats".
func (e *env) runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "central stats"
	flags := cli.NewFlagSet(prog, statsUsage)
	cf := addConfigFlags(flags, false)
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.WithHint(cli.Usagef("unexpected argument %q", rest[0]), "run '%s --help' for usage", prog)
	}
	cfg, err := cf.config(prog)
	if err != nil {
		return err
	}
	st, err := openStopped(&cfg, "a central server is running on this store: ask it with GET /v1/devices and the admin token")
	if err != nil {
		return err
	}
	defer st.Close()
	stats, err := central.Stats(ctx, st)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(stats, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(data, '\n'))
	return err
}

// openStopped opens the store of a stopped central, never creating one (a
// wrong --data would leave an empty one behind); busy is the hint when a
// running central holds a bbolt store.
func openStopped(cfg *central.Config, busy string) (store.Store, error) {
	if path, ok := strings.CutPrefix(cfg.StoreOrDefault(), "bolt:"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, cli.WithHint(fmt.Errorf("no store: %w", err), "give the central's --data directory or --store")
		}
	}
	st, err := central.OpenStore(cfg)
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, cli.WithHint(err, "%s", busy)
		}
		return nil, cli.WithHint(err, "give the central's --data directory or --store")
	}
	return st, nil
}

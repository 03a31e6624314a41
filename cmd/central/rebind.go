package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/anshim/anshim/central"
	"github.com/anshim/anshim/internal/cli"
)

const rebindUsage = `Usage: central rebind-day-keys [--config FILE] [--data DIR] [--store SPEC] [--keys DIR] --yes

A central's store is bound to the day-key ratchet (DATA/daykeys) that seals
its check-ins; a central whose DATA/daykeys is another refuses to start,
since it would seal check-ins no other central can read and read none of
theirs. The fix is almost always to copy DATA/daykeys from a central running
on the same store (or restore it from this central's backup).

Rebind-day-keys is the way out when the ratchet is lost for good: it binds
the store to the ratchet in DATA/daykeys (made if missing) and records a
day-keys-rebound event in the audit trail. The check-ins sealed under the
lost ratchet stay unreadable to traces until their days are destroyed (at
most 28 days). Stop the centrals of the store first; then copy the new
DATA/daykeys to each of them.

Examples:

	central rebind-day-keys --data /var/lib/anshim-central --yes
	central rebind-day-keys --config /etc/anshim/central.json --yes`

// runRebind runs "central rebind-day-keys".
func (e *env) runRebind(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "central rebind-day-keys"
	flags := cli.NewFlagSet(prog, rebindUsage)
	cf := addConfigFlags(flags, false)
	yes := flags.Bool("yes", false, "confirm: the check-ins sealed under the store's earlier ratchet stay unreadable")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.WithHint(cli.Usagef("unexpected argument %q", rest[0]), "run '%s --help' for usage", prog)
	}
	if !*yes {
		return cli.WithHint(cli.Usagef("--yes is required"),
			"first try copying DATA/daykeys from a central running on this store; run '%s --help' for what rebinding costs", prog)
	}
	cfg, err := cf.config(prog)
	if err != nil {
		return err
	}
	st, err := openStopped(&cfg, "a central server is running on this store: stop it first")
	if err != nil {
		return err
	}
	defer st.Close()
	before, after, err := central.RebindDayKeys(ctx, &cfg, st)
	if err != nil {
		return cli.WithHint(err, "give the central's --keys directory and --data directory")
	}
	path := filepath.Join(cfg.DataOrDefault(), central.DayKeysFile)
	if before == after {
		fmt.Fprintf(stdout, "the store is bound to %s (%x…): nothing to replace\n", path, after[:4])
		return nil
	}
	fmt.Fprintf(stdout, "the store is now bound to %s (%x…, was %x…); copy it to every other central of this store before starting them\n", path, after[:4], before[:4])
	return nil
}

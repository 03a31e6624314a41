package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/kiosk"
)

const outboxUsage = `Usage: kiosk outbox --data DIR

Outbox verifies the outbox — every record decodes, sequences are
consecutive, the hash chain recomputes to the device-signed head — and
prints a JSON summary:

	{"records":N,"first_seq":A,"last_seq":B,"chain_ok":true|false,...}

It exits 1 when the chain is broken. Stop the daemon first: it holds the
file's lock.

Example:

	kiosk outbox --data /var/lib/anshim`

// runOutbox runs "kiosk outbox".
func (e *env) runOutbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("kiosk outbox", outboxUsage)
	data := flags.String("data", "", "kiosk data `DIR` (required)")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if err := flags.Required("data"); err != nil {
		return err
	}
	dev, err := kiosk.LoadDevice(*data)
	if errors.Is(err, kiosk.ErrNotProvisioned) {
		return notProvisionedHint(err, *data)
	}
	if err != nil {
		return err
	}
	ob, err := kiosk.OpenOutbox(filepath.Join(*data, kiosk.FileOutbox), dev.PrivateKey())
	switch {
	case errors.Is(err, kiosk.ErrLocked):
		return cli.WithHint(err, "a kiosk is running on %s: stop it first ('systemctl stop anshim-kiosk')", *data)
	case errors.Is(err, fs.ErrNotExist):
		return cli.WithHint(err, "%s has a device but no outbox: provision a new --data directory", *data)
	case errors.Is(err, kiosk.ErrCorrupt):
		return cli.WithHint(err, "the file is kept aside, never deleted: give it to the province; re-provision in a new --data directory (the sequence restarts)")
	case err != nil:
		return err
	}
	defer ob.Close()
	st, err := ob.Verify(dev.PublicKey)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(stdout).Encode(st); err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	if !st.ChainOK {
		return cli.WithHint(fmt.Errorf("outbox chain broken: %s", st.Problem), "keep the file as evidence and tell the province")
	}
	return nil
}

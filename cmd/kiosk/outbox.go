package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"

	"github.com/anshim/anshim/kiosk"
)

func runOutbox(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("outbox", "--data DIR",
		"Verifies the outbox — every record decodes, sequences are consecutive, the hash\n"+
			"chain recomputes to the device-signed head — and prints a JSON summary:\n"+
			"  {\"records\":N,\"first_seq\":A,\"last_seq\":B,\"chain_ok\":true|false,...}\n"+
			"Exits 1 when the chain is broken. Stop the daemon first (the file is locked).", stderr)
	data := fs.String("data", "", "kiosk data `DIR`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return errUsage
	}
	dev, err := kiosk.LoadDevice(*data)
	if err != nil {
		return err
	}
	ob, err := kiosk.OpenOutbox(filepath.Join(*data, kiosk.FileOutbox), dev.PrivateKey())
	if err != nil {
		return withHint(err, "stop the kiosk daemon first (`systemctl stop anshim-kiosk`); a corrupt file is kept aside for inspection")
	}
	defer ob.Close()
	st, err := ob.Verify(dev.PublicKey)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(st); err != nil {
		return err
	}
	if !st.ChainOK {
		return errors.New("outbox chain broken: " + st.Problem)
	}
	return nil
}

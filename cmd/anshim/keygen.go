package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/province"
)

const keygenUsage = `Usage: anshim keygen --dir DIR [--province NAME] [--rotate | --add-root]

Keygen makes a province's keys in DIR (created with mode 0700): a
pass-signing Ed25519 key, a record-sealing X25519 key, a ledger signing key,
a key-encryption key and a root signing key, each in a file of mode 0600,
and the public bundle DIR/public.json that kiosks need. It never overwrites
existing keys. It prints the bundle's SHA-256: installers pin it with
'kiosk enroll --bundle-sha256 HEX'.

The root key signs the key updates that reach kiosks after enrollment (pass
keys, the sealing key, the NATS CA); kiosks take only updates that the root
key in their bundle verifies. With --add-root, keygen adds a root key to
keys made before it existed (the central refuses to start without one).

With --rotate, it adds a new pass-signing key to the keys in DIR and makes it
the current one; passes signed by the older keys stay valid, since all of
them are in the new public.json. Copy public.json to the kiosks before
issuing passes with the new key.

Examples:

	anshim keygen --dir /etc/anshim/keys --province jeju
	anshim keygen --dir /etc/anshim/keys --rotate`

// runKeygen runs "anshim keygen".
func (e *env) runKeygen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("anshim keygen", keygenUsage)
	dir := flags.String("dir", "", "key `directory` (required)")
	name := flags.String("province", "", "province `name`, also the ledger key's name: A-Z a-z 0-9 . - _ (default jeju)")
	rotate := flags.Bool("rotate", false, "add a new current pass-signing key to the keys in --dir")
	addRoot := flags.Bool("add-root", false, "add a root signing key to keys in --dir made before it existed")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if *dir == "" {
		return flags.Usagef("--dir is required")
	}
	if *rotate && *addRoot {
		return cli.WithHint(cli.Usagef("--rotate and --add-root together"), "run keygen once with each")
	}
	if *rotate {
		return e.rotate(*dir, *name, stdout)
	}
	if *addRoot {
		return e.addRoot(*dir, stdout)
	}
	if *name == "" {
		*name = "jeju"
	}

	k, err := province.Generate(e.rand, *name)
	if err != nil {
		return cli.WithHint(err, "a province name is 1 to 64 characters from A-Z a-z 0-9 . - _, such as jeju")
	}
	if err := k.Save(*dir); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if old, lerr := province.Load(*dir); lerr == nil && !old.HasRootKey() {
				return cli.WithHint(err, "these keys have no root signing key: add one with 'anshim keygen --dir %s --add-root'", *dir)
			}
			return cli.WithHint(cli.WithHint(err,
				"to add a pass-signing key to these keys, run 'anshim keygen --dir %s --rotate'", *dir),
				"to start a new province, choose another --dir; never delete keys still in use: the sealing key is needed to read past check-ins")
		}
		return err
	}
	fmt.Fprintf(stdout, "generated keys of province %s in %s\n", k.Name(), *dir)
	printKeys(stdout, k, *dir)
	return nil
}

// rotate adds a pass-signing key to the keys in dir.
func (e *env) rotate(dir, name string, stdout io.Writer) error {
	k, err := province.Load(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cli.WithHint(err, "make the keys first: 'anshim keygen --dir %s'", dir)
		}
		return err
	}
	if name != "" && name != k.Name() {
		return cli.WithHint(cli.Usagef("--province %s does not match the keys in %s, of province %s", name, dir, k.Name()),
			"leave out --province with --rotate")
	}
	key, err := k.RotatePassKey(e.rand)
	if err != nil {
		return err
	}
	if err := k.Update(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added pass-signing key %08x to province %s in %s\n", key.ID, k.Name(), dir)
	printKeys(stdout, k, dir)
	return nil
}

// addRoot adds a root signing key to the keys in dir.
func (e *env) addRoot(dir string, stdout io.Writer) error {
	k, err := province.Load(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cli.WithHint(err, "make the keys first: 'anshim keygen --dir %s'", dir)
		}
		return err
	}
	if k.HasRootKey() {
		return cli.WithHint(fmt.Errorf("the keys in %s have a root signing key already (%s)", dir, k.RootKeyID()),
			"nothing to do; a root key is never replaced, since every kiosk trusts it")
	}
	if err := k.AddRootKey(e.rand); err != nil {
		return err
	}
	if err := k.Update(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added root signing key %s to province %s in %s\n", k.RootKeyID(), k.Name(), dir)
	printKeys(stdout, k, dir)
	fmt.Fprintf(stdout, "kiosks enrolled before take key updates only after getting the new %s (re-enroll them, or copy it to DATA/bundle.json)\n", province.BundleFile)
	return nil
}

// printKeys prints the public parts of k.
func printKeys(w io.Writer, k *province.Keys, dir string) {
	keys := k.PassKeys()
	for i, key := range keys {
		current := ""
		if i == len(keys)-1 {
			current = " (current)"
		}
		fmt.Fprintf(w, "pass-signing key:  %08x%s\n", key.ID, current)
	}
	fmt.Fprintf(w, "sealing key:       %s\n", k.SealingKeyID())
	fmt.Fprintf(w, "ledger verifier:   %s\n", k.LedgerVerifierKey())
	if k.HasRootKey() {
		fmt.Fprintf(w, "root key:          %s\n", k.RootKeyID())
	} else {
		fmt.Fprintf(w, "root key:          none: kiosks will refuse key updates; add one with 'anshim keygen --dir %s --add-root'\n", dir)
	}
	fmt.Fprintf(w, "public bundle:     %s (copy it to the kiosks)\n", filepath.Join(dir, province.BundleFile))
	if sum, err := k.Bundle().SHA256(); err == nil {
		fmt.Fprintf(w, "bundle sha256:     %s (kiosk enroll --bundle-sha256)\n", sum)
	}
}

// Command mkdeb builds Anshim's Debian packages (anshim-kiosk,
// anshim-central) for amd64, arm64 and armhf: `make deb`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/internal/debpkg"
)

const usage = `Usage: mkdeb [--out DIR] [--version V] [--arch A,...] [--package P,...] [--root DIR]

Mkdeb cross-compiles the Anshim commands (CGO_ENABLED=0, stripped) and
builds the Debian packages with nfpm:

  anshim-kiosk    /usr/bin/kiosk, the anshim-kiosk.service unit (Type=notify,
                  watchdog), /etc/anshim/kiosk.json (a conffile), the
                  firmware notes; makes the user anshim and /var/lib/anshim
                  (0750) and starts the kiosk once it is provisioned.
  anshim-central  /usr/bin/central and /usr/bin/anshim, anshim-central.service,
                  examples of central.json and of the three-node NATS cluster;
                  makes the user anshim and /var/lib/anshim-central (0700).

Run it from the repository root (make deb does). Install a package with
'apt install ./anshim-kiosk_VERSION_arm64.deb'.

Examples:

	mkdeb --out dist --version 0.1.0
	mkdeb --arch amd64 --package kiosk`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Report(os.Stderr, "mkdeb", run(ctx, os.Args[1:], os.Stdout)))
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := cli.NewFlagSet("mkdeb", usage)
	out := flags.String("out", "dist", "output `DIR`")
	version := flags.String("version", "0.1.0", "package `VERSION`")
	arches := flags.String("arch", "amd64,arm64,armhf", "`ARCHES`, comma-separated")
	pkgs := flags.String("package", "kiosk,central", "`PACKAGES`, comma-separated")
	root := flags.String("root", ".", "repository root `DIR`")
	if err := flags.ParseOnlyFlags(args, stdout); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*root, "systemd", "anshim-kiosk.service")); err != nil {
		return cli.WithHint(fmt.Errorf("no repository at %s: %w", *root, err), "run it from the repository root, or give --root")
	}
	var as []debpkg.Arch
	for n := range strings.SplitSeq(*arches, ",") {
		a, err := debpkg.ArchByName(strings.TrimSpace(n))
		if err != nil {
			return flags.Usagef("%v", err)
		}
		as = append(as, a)
	}
	var ps []debpkg.Package
	for n := range strings.SplitSeq(*pkgs, ",") {
		p, err := debpkg.PackageByName(strings.TrimSpace(n))
		if err != nil {
			return flags.Usagef("%v", err)
		}
		ps = append(ps, p)
	}
	bin, err := os.MkdirTemp("", "mkdeb-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	for _, a := range as {
		for _, p := range ps {
			if err := debpkg.GoBuild(ctx, *root, bin, a, p); err != nil {
				return err
			}
			path, err := debpkg.Build(p, a, debpkg.Options{Root: *root, Out: *out, Version: *version, Bin: bin})
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, path)
		}
	}
	return nil
}

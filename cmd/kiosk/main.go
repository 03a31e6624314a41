// Command kiosk is the Anshim venue appliance: it reads visitors' passes
// from scanners, verifies them offline, and records check-ins durably in an
// encrypted, hash-chained outbox.
//
// Usage:
//
//	kiosk init    --data DIR --bundle public.json --venue ID
//	kiosk run     --data DIR [--config FILE] [--scanner serial:PATH[,BAUD][,exit]]...
//	kiosk outbox  --data DIR
//	kiosk decode  FILE...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

var commands = []command{
	{"init", "provision a data directory: device key, province bundle, empty outbox", runInit},
	{"enroll", "enroll with the central: device and NATS keys, bundle, sync settings", runEnroll},
	{"run", "run the kiosk daemon", runRun},
	{"outbox", "verify the outbox's chain and print a JSON summary", runOutbox},
	{"decode", "decode QR codes in image files (camera test)", runDecode},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "kiosk: the Anshim venue check-in appliance\n\nUsage:\n  kiosk COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun `kiosk COMMAND --help` for a command's flags.\n")
}

// errUsage marks errors after which the usage was already printed.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(mainRun(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func mainRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdin, stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(stderr, "kiosk: error: %v\n", err)
			var h hinted
			if errors.As(err, &h) {
				fmt.Fprintf(stderr, "kiosk: hint: %s\n", h.hint)
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "kiosk: error: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// hinted is an error with a hint on what to do next.
type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() }
func (h hinted) Unwrap() error { return h.err }

func withHint(err error, hint string) error { return hinted{err, hint} }

// newFlags returns a flag set whose usage prints the summary and examples.
func newFlags(name, synopsis, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kiosk "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kiosk %s %s\n\n%s\n\nFlags:\n", name, synopsis, help)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

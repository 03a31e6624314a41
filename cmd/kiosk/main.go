// Command kiosk is the Anshim venue appliance: it reads visitors' passes
// from scanners, verifies them offline, and records check-ins durably in an
// encrypted, hash-chained outbox.
//
// Usage:
//
//	kiosk init    --data DIR --bundle public.json --venue ID
//	kiosk enroll  --token T --central URL --data DIR [--bundle-sha256 HEX]
//	kiosk run     --data DIR [--config FILE] [--scanner serial:PATH[,BAUD][,exit]]...
//	kiosk outbox  --data DIR
//	kiosk decode  FILE...
//
// Every command has --help. Errors are printed as "kiosk: error: ..."
// followed by "kiosk: hint: ..." lines that say what to do next. The exit
// code is 0 on success, 1 on an error and 2 on a mistake in the command
// line.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/anshim/anshim/internal/cli"
)

const usage = `kiosk is the venue appliance of Anshim, the offline-first venue check-in
system: it reads visitors' passes from scanners, verifies them offline,
commits each check-in to a sealed, hash-chained outbox before the green
light, and syncs the outbox to the province's central server when it can.`

// env is what commands take from the outside world, so that tests can
// replace it.
type env struct {
	stdin io.Reader // for `kiosk run --scanner stdin`
}

// commands is the table of kiosk's subcommands. Each lives in its own file
// as an env method with the signature of cli.Command.Run.
func (e *env) commands() []cli.Command {
	return []cli.Command{
		{Name: "init", Summary: "provision a data directory: device key, province bundle, empty outbox", Run: e.runInit},
		{Name: "enroll", Summary: "enroll with the central: device and NATS keys, bundle, sync settings", Run: e.runEnroll},
		{Name: "run", Summary: "run the kiosk daemon", Run: e.runRun},
		{Name: "outbox", Summary: "verify the outbox's chain and print a JSON summary", Run: e.runOutbox},
		{Name: "decode", Summary: "decode QR codes in image files (camera test)", Run: e.runDecode},
	}
}

// mainRun runs the command line args (without the program name) with the
// given standard streams and returns the exit code.
func mainRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin}
	return cli.Main(ctx, "kiosk", usage, e.commands(), args, stdout, stderr)
}

func main() {
	os.Exit(runMain())
}

// runMain runs kiosk with the process's arguments and standard streams; it
// stops on SIGTERM or an interrupt.
func runMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return mainRun(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// notProvisionedHint adds what to do to an error about a data directory
// that neither `kiosk init` nor `kiosk enroll` made.
func notProvisionedHint(err error, data string) error {
	return cli.WithHint(err, "provision it first: 'kiosk enroll --token T --central URL --data %s', or offline 'kiosk init --data %s --bundle public.json --venue ID'", data, data)
}

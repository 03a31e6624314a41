// Command central is Anshim's central province server: it enrolls kiosks,
// runs or joins NATS JetStream, publishes the down-sync buckets, ingests
// kiosk batches into the store and serves the HTTP API.
//
// Usage:
//
//	central serve [--config FILE] [--data DIR] [flags]
//	central stats [--config FILE] [--data DIR]
//	central rebind-day-keys [--config FILE] [--data DIR] --yes
//
// Every command has --help. Errors are printed as "central: error: ..."
// followed by "central: hint: ..." lines that say what to do next. The exit
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

const usage = `central is the province server of Anshim, the offline-first venue check-in
system: it enrolls kiosks, receives their check-ins over NATS JetStream,
keeps them sealed in its store under a transparency ledger, and serves the
operators' HTTP API.`

// env is what commands take from the outside world, so that tests can
// replace it.
type env struct {
	// started, if not nil, receives the server's HTTP URL once serve runs.
	started func(httpURL, natsURL string)
}

// commands is the table of central's subcommands, each in its own file.
func (e *env) commands() []cli.Command {
	return []cli.Command{
		{Name: "serve", Summary: "run the central server: enrollment, NATS JetStream, ingest, ledger, HTTP API", Run: e.runServe},
		{Name: "stats", Summary: "print each device's sync state from a stopped server's store", Run: e.runStats},
		{Name: "rebind-day-keys", Summary: "bind a stopped store to this central's day-key ratchet when the old one is lost for good", Run: e.runRebind},
	}
}

// main runs the command line args (without the program name) and returns
// the exit code.
func (e *env) main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Main(ctx, "central", usage, e.commands(), args, stdout, stderr)
}

func main() {
	os.Exit(run())
}

// run runs central with the process's arguments and standard streams.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return new(env).main(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

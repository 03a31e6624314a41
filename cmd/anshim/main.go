// Command anshim is the operator tool of Anshim: it makes the province's
// keys and visitor passes, registers venues, kiosks, visitors, API tokens
// and web accounts with the central server, traces the contacts of a case,
// audits the central's ledger, and plays the whole system in a demo.
//
// Every command has --help. Errors are printed as "anshim: error: ..."
// followed by "anshim: hint: ..." lines that say what to do next. The exit
// code is 0 on success, 1 on an error and 2 on a mistake in the command
// line.
package main

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/anshim/anshim/internal/cli"
)

const usage = `anshim is the operator tool of Anshim, the offline-first venue check-in
system: the province's keys and visitor passes, the registers of the central
server (venues, kiosks, visitors, API tokens, web accounts), contact tracing,
audits of the central's ledger, and a demo of the whole system.`

// env is what commands take from the outside world, so that tests can
// replace it.
type env struct {
	stdin io.Reader
	now   func() time.Time
	rand  io.Reader
}

// commands is the table of anshim's subcommands. Each lives in its own file
// as an env method with the signature of cli.Command.Run.
func (e *env) commands() []cli.Command {
	return []cli.Command{
		{Name: "keygen", Summary: "generate the province keys, or rotate the pass-signing key", Run: e.runKeygen},
		{Name: "pass", Summary: "issue, verify and revoke visitor passes", Run: e.runPass},
		{Name: "venue", Summary: "register venues with the central, approve or suspend them, print their posters", Run: e.runVenue},
		{Name: "device", Summary: "make kiosk enrollment tokens, list enrolled kiosks", Run: e.runDevice},
		{Name: "person", Summary: "register visitors, issue their passes, revoke lost cards", Run: e.runPerson},
		{Name: "visit", Summary: "check in at a venue as the visitor's app does (display or poster code)", Run: e.runVisit},
		{Name: "trace", Summary: "find the contacts of a case (investigators)", Run: e.runTrace},
		{Name: "token", Summary: "give administrators and investigators named API tokens, list and revoke them", Run: e.runToken},
		{Name: "user", Summary: "add, list and disable the web accounts (admin, investigator, business, clerk)", Run: e.runUser},
		{Name: "synth", Summary: "build a synthetic province in a store (load and tracing tests)", Run: e.runSynth},
		{Name: "ledger", Summary: "verify the central's transparency log, prove a batch's inclusion, audit the stored data", Run: e.runLedger},
		{Name: "demo", Summary: "run the whole system on embedded defaults and play a scripted day", Run: e.runDemo},
	}
}

// main runs the command line args (without the program name) and returns
// the exit code.
func (e *env) main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Main(ctx, "anshim", usage, e.commands(), args, stdout, stderr)
}

func main() {
	os.Exit(run())
}

// run runs anshim with the process's arguments and standard streams.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, now: time.Now, rand: rand.Reader}
	return e.main(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Command natsd is nats-server's own main for the fault tests: the real
// server (github.com/nats-io/nats-server/v2/server, the version in go.mod)
// with its real flags (-c FILE, --signal reload=PID, ...), signal handling
// (SIGTERM stops it, SIGHUP reloads its configuration) and logging.
//
// The module's main package (github.com/nats-io/nats-server/v2) does not
// build from this module: it imports go.uber.org/automaxprocs, which is not
// in go.sum. This is that main without the GOMAXPROCS adjustment.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	const exe = "nats-server"
	fs := flag.NewFlagSet(exe, flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: %s -c FILE | --signal reload=PID (the fault tests' nats-server)\n", exe)
		os.Exit(0)
	}
	opts, err := server.ConfigureOptions(fs, os.Args[1:], server.PrintServerAndExit, fs.Usage, server.PrintTLSHelpAndDie)
	if err != nil {
		server.PrintAndDie(fmt.Sprintf("%s: %s", exe, err))
	} else if opts.CheckConfig {
		fmt.Fprintf(os.Stderr, "%s: configuration file %s is valid (%s)\n", exe, opts.ConfigFile, opts.ConfigDigest())
		os.Exit(0)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		server.PrintAndDie(fmt.Sprintf("%s: %s", exe, err))
	}
	s.ConfigureLogger()
	if err := server.Run(s); err != nil {
		server.PrintAndDie(err.Error())
	}
	s.WaitForShutdown()
}

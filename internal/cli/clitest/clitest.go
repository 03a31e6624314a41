// Package clitest holds test helpers for the command-line tools built on
// package cli: a check that a tool's help lists its commands, and script
// commands for their testscript suites.
package clitest

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/anshim/anshim/internal/cli"
)

// ListedCommand is one line of the command list that "prog --help" prints.
type ListedCommand struct {
	Name, Summary string
}

// ListedCommands returns the command list of help, the output of "prog
// --help" (or of "prog help"): the lines between "Commands:" and the next
// blank line after them, each a tab, a name and a summary.
func ListedCommands(help string) []ListedCommand {
	_, list, ok := strings.Cut(help, "\nCommands:\n\n")
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var cmds []ListedCommand
	for _, line := range strings.Split(list, "\n") {
		name, summary, _ := strings.Cut(strings.TrimPrefix(line, "\t"), " ")
		cmds = append(cmds, ListedCommand{Name: name, Summary: strings.TrimSpace(summary)})
	}
	return cmds
}

// CheckCommandList returns an error saying where help, the output of
// "prog --help", does not list each of commands on one line, in their
// order, with its summary, and nothing else; nil if it does.
func CheckCommandList(help string, commands []cli.Command) error {
	listed := ListedCommands(help)
	if len(listed) == 0 {
		return fmt.Errorf("the help lists no commands:\n%s", help)
	}
	var errs []error
	for i := range max(len(listed), len(commands)) {
		switch {
		case i >= len(commands):
			errs = append(errs, fmt.Errorf("the help lists %q, which is no command", listed[i].Name))
		case i >= len(listed):
			errs = append(errs, fmt.Errorf("the help does not list %q", commands[i].Name))
		case listed[i].Name != commands[i].Name:
			errs = append(errs, fmt.Errorf("the help lists %q where the command table has %q", listed[i].Name, commands[i].Name))
		case commands[i].Summary == "" || strings.Contains(commands[i].Summary, "\n"):
			errs = append(errs, fmt.Errorf("%s: summary %q, want one line", commands[i].Name, commands[i].Summary))
		case listed[i].Summary != commands[i].Summary:
			errs = append(errs, fmt.Errorf("the help says %s: %q, want %q", listed[i].Name, listed[i].Summary, commands[i].Summary))
		}
	}
	return errors.Join(errs...)
}

// Exits is the script command "exits CODE PROG [ARGS...]": it runs PROG as
// exec does, keeping its standard output and error for the stdout and
// stderr commands, and fails unless PROG exits with CODE. (exec tells only
// success from failure; the tools exit 2 for a mistake in the command line
// and 1 for other errors.)
func Exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: code %q: %v", args[0], err)
	}
	got := 0
	var ee *exec.ExitError
	switch err := ts.Exec(args[1], args[2:]...); {
	case err == nil:
	case errors.As(err, &ee):
		got = ee.ExitCode()
	default:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

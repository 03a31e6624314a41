package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/anshim/anshim/internal/cli"
)

const passUsage = `anshim pass issues, verifies and revokes visitor passes: compact signed
codes ("AN1:" and Base45) shown at a kiosk as a QR code on a phone or a
printed card.`

// passCommands is the table of "anshim pass" subcommands.
func (e *env) passCommands() []cli.Command {
	return []cli.Command{
		{Name: "issue", Summary: "issue a signed pass, optionally as a QR code PNG", Run: e.runPassIssue},
		{Name: "verify", Summary: "verify a pass offline, as a kiosk does", Run: e.runPassVerify},
		{Name: "revoke", Summary: "add a pass to a revocation list", Run: e.runPassRevoke},
	}
}

// runPass runs "anshim pass".
func (e *env) runPass(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.Dispatch(ctx, "anshim pass", passUsage, e.passCommands(), args, stdout, stderr)
}

// readPassText returns the pass text argument, reading standard input for
// "-". Surrounding white space is dropped: a pass never starts or ends with
// a space.
func (e *env) readPassText(prog string, args []string) (string, error) {
	if len(args) != 1 {
		return "", cli.WithHint(cli.Usagef("want one pass text argument, got %d", len(args)),
			"quote the pass text ('AN1:...'), or give - and pass it on standard input; %s", cli.HelpHint(prog))
	}
	text := args[0]
	if text == "-" {
		data, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		if err != nil {
			return "", fmt.Errorf("read standard input: %w", err)
		}
		text = string(data)
	}
	return strings.TrimSpace(text), nil
}

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/pass"
)

const passRevokeUsage = `Usage: anshim pass revoke --list FILE TEXT

Revoke adds a pass to the revocation list FILE, creating the file if needed.
Kiosks that have the list reject the pass as revoked. The list holds only
revocation ids, which reveal no pseudonym; a card's id does not change when
the card is re-signed with a new key. TEXT is the pass text, quoted, or - to
read it from standard input. The signature is not checked, so a pass signed
by a retired key can still be revoked.

Examples:

	anshim pass revoke --list /etc/anshim/revoked.json 'AN1:...'
	anshim pass revoke --list revoked.json - < lost-card.txt`

// runPassRevoke runs "anshim pass revoke".
func (e *env) runPassRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim pass revoke"
	flags := cli.NewFlagSet(prog, passRevokeUsage)
	listPath := flags.String("list", "", "revocation list `file` (required; created if missing)")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if *listPath == "" {
		return flags.Usagef("--list is required")
	}
	text, err := e.readPassText(prog, rest)
	if err != nil {
		return err
	}
	p, _, _, err := pass.Parse(text)
	if err != nil {
		return cli.WithHint(fmt.Errorf("cannot revoke: %w", err), "%s", rejectHint(pass.Reason(err), ""))
	}
	list, err := pass.LoadRevocationList(*listPath)
	if err != nil {
		return cli.WithHint(err, "fix or move the list file; it must be a list written by 'anshim pass revoke'")
	}
	id := p.RevocationID()
	if list.Contains(id) {
		fmt.Fprintf(stdout, "%v pass serial %d was already revoked (revocation id %s)\n", p.Kind, p.Serial, id)
		return nil
	}
	if err := list.Add(id); err != nil {
		return err
	}
	if err := list.Save(*listPath); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %v pass serial %d (revocation id %s); %s now has %d entries\n",
		p.Kind, p.Serial, id, *listPath, list.Len())
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

const passVerifyUsage = `Usage: anshim pass verify --bundle FILE [--revoked FILE] [--at TIME] TEXT

Verify checks a pass offline, as a kiosk does: its format, that a key in the
public bundle signed it, its validity period at --at (default now; a kiosk
allows 5 minutes of clock skew) and, with --revoked, the revocation list.
TEXT is the pass text, quoted, or - to read it from standard input.

A valid pass exits 0 and prints its kind, serial, key and validity, never
the pseudonym. A rejected pass exits 1 with the reason: malformed,
truncated, unsupported-version, unknown-key, bad-signature, expired,
not-yet-valid or revoked.

Examples:

	anshim pass verify --bundle /etc/anshim/keys/public.json 'AN1:...'
	anshim pass verify --bundle public.json --revoked revoked.json - < pass.txt
	anshim pass verify --bundle public.json --at 2026-06-01 - < pass.txt`

// runPassVerify runs "anshim pass verify".
func (e *env) runPassVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim pass verify"
	flags := cli.NewFlagSet(prog, passVerifyUsage)
	bundlePath := flags.String("bundle", "", "public bundle `file` (public.json; required)")
	revokedPath := flags.String("revoked", "", "revocation list `file` (a missing file is an empty list)")
	at := flags.String("at", "", "verify at this `time`: YYYY-MM-DD (KST midnight), YYYY-MM-DDTHH:MM (KST) or RFC 3339 (default now)")
	rest, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if *bundlePath == "" {
		return cli.WithHint(cli.Usagef("--bundle is required"), "give the province's public.json, made by 'anshim keygen'")
	}
	text, err := e.readPassText(prog, rest)
	if err != nil {
		return err
	}
	kst := cli.KST()
	now := e.now()
	if *at != "" {
		if now, err = cli.ParseTime(*at, kst); err != nil {
			return flags.Usagef("--at: %v", err)
		}
	}

	bundle, err := province.LoadBundle(*bundlePath)
	if err != nil {
		return cli.WithHint(err, "give the province's public.json, made by 'anshim keygen'")
	}
	var rev pass.Revocations
	if *revokedPath != "" {
		list, err := pass.LoadRevocationList(*revokedPath)
		if err != nil {
			return err
		}
		rev = list
	}
	p, err := bundle.PassVerifier(rev).Verify(text, now)
	if err != nil {
		var perr *pass.Error
		reason, detail := pass.Reason(err), err.Error()
		if errors.As(err, &perr) && perr.Err != nil {
			detail = perr.Err.Error()
		}
		return cli.WithHint(fmt.Errorf("pass rejected: %s (%s)", reason, detail), "%s", rejectHint(reason, *bundlePath))
	}
	fmt.Fprintf(stdout, "valid %v pass\n", p.Kind)
	fmt.Fprintf(stdout, "serial:         %d\n", p.Serial)
	fmt.Fprintf(stdout, "key:            %08x\n", p.KeyID)
	fmt.Fprintf(stdout, "issued:         %s\n", p.Issued.In(kst).Format(timeLayout))
	fmt.Fprintf(stdout, "expires:        %s\n", p.Expires.In(kst).Format(timeLayout))
	fmt.Fprintf(stdout, "revocation id:  %s\n", p.RevocationID())
	return nil
}

// rejectHint says what to do about a rejected pass.
func rejectHint(reason, bundlePath string) string {
	switch reason {
	case pass.ReasonMalformed:
		return "this is not an Anshim pass, or it was damaged: copy it whole, in single quotes ('AN1:...'), or use - and standard input"
	case pass.ReasonTruncated:
		return "the pass text is cut short: scan or copy it again"
	case pass.ReasonUnsupported:
		return "the pass has a format this anshim does not know: update anshim"
	case pass.ReasonUnknownKey:
		return fmt.Sprintf("no key in %s signed this pass: use the province's current public.json, or the pass is from another province", bundlePath)
	case pass.ReasonBadSignature:
		return "the pass was altered or forged: do not accept it"
	case pass.ReasonExpired:
		return "issue a new pass with 'anshim pass issue'"
	case pass.ReasonNotYetValid:
		return "the pass was issued after the verification time: check this machine's clock, or --at"
	case pass.ReasonRevoked:
		return "the pass was revoked (a lost card?): issue a new one with 'anshim pass issue'"
	}
	return cli.HelpHint("anshim pass verify")
}

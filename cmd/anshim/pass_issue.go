package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

const passIssueUsage = `Usage: anshim pass issue --keys DIR [--kind app|card] [--serial N]
        [--pseudonym HEX] [--expires DATE|DURATION] [--png FILE [--size PX]]

Issue signs a visitor pass with the current pass-signing key in DIR and
prints its text on standard output, one line. The pass carries a random
pseudonym unless --pseudonym gives one; it is valid from now until
--expires: a date (the end of that day, Korea time), a time, or a duration
from now. With --png, the pass is also written as a QR code image
(error correction M) for the visitor's phone or a printed card.

Examples:

	anshim pass issue --keys /etc/anshim/keys
	anshim pass issue --keys /etc/anshim/keys --kind card --serial 1042 --expires 2026-12-31 --png card-1042.png
	anshim pass issue --keys /etc/anshim/keys --expires 90d > pass.txt`

// runPassIssue runs "anshim pass issue".
func (e *env) runPassIssue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim pass issue"
	flags := cli.NewFlagSet(prog, passIssueUsage)
	keysDir := flags.String("keys", "", "province key `directory` (required)")
	kindName := flags.String("kind", "app", "pass `kind`: app (shown on a phone) or card (printed)")
	serial := flags.Uint64("serial", 0, "card serial, or an app pass's issue counter (0 to 4294967295)")
	pseudonymHex := flags.String("pseudonym", "", "the person's pseudonym as 32 hex `digits` (default random)")
	expiresFlag := flags.String("expires", "1y", "`expiry`: YYYY-MM-DD (end of that day, KST), a time, or a duration (1y, 6mo, 90d, 36h)")
	pngPath := flags.String("png", "", "also write the pass as a QR code PNG `file`")
	size := flags.Int("size", 400, "width and height of the PNG in `pixels`")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if *keysDir == "" {
		return flags.Usagef("--keys is required")
	}
	kind, err := pass.ParseKind(*kindName)
	if err != nil {
		return flags.Usagef("--kind: %v", err)
	}
	if *serial > math.MaxUint32 {
		return cli.WithHint(cli.Usagef("--serial %d is too large", *serial), "a serial is at most 4294967295")
	}
	if *size < 100 || *size > 10000 {
		return cli.WithHint(cli.Usagef("--size %d is out of range", *size), "give 100 to 10000 pixels")
	}
	p := pass.Pass{Kind: kind, Serial: uint32(*serial)}
	if *pseudonymHex != "" {
		b, err := hex.DecodeString(*pseudonymHex)
		if err != nil || len(b) != len(p.Pseudonym) {
			return cli.WithHint(cli.Usagef("--pseudonym: want 32 hex digits"), "leave it out for a random pseudonym")
		}
		copy(p.Pseudonym[:], b)
	} else if _, err := io.ReadFull(e.rand, p.Pseudonym[:]); err != nil {
		return fmt.Errorf("make a pseudonym: %w", err)
	}

	kst := cli.KST()
	p.Issued = e.now().UTC().Truncate(time.Second)
	expires, err := cli.ParseExpiry(*expiresFlag, p.Issued, kst)
	if err != nil {
		return flags.Usagef("--expires: %v", err)
	}
	p.Expires = expires.UTC().Truncate(time.Second)
	if !p.Expires.After(p.Issued) {
		return cli.WithHint(cli.Usagef("--expires %s is not after now (%s)", *expiresFlag, p.Issued.In(kst).Format(timeLayout)),
			"give a later date or a duration such as 1y")
	}

	keys, err := province.Load(*keysDir)
	if err != nil {
		return cli.WithHint(err, "give the directory made by 'anshim keygen --dir DIR' as --keys")
	}
	signer := keys.Signer()
	text, err := signer.Issue(p)
	if err != nil {
		return err
	}
	if *pngPath != "" {
		if err := writeQRPNG(*pngPath, text, *size); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, text)
	fmt.Fprintf(stderr, "anshim: issued %v pass serial %d with key %08x, valid until %s\n",
		p.Kind, p.Serial, signer.PublicKey().ID, p.Expires.In(kst).Format(timeLayout))
	if *pngPath != "" {
		fmt.Fprintf(stderr, "anshim: wrote QR code to %s\n", *pngPath)
	}
	return nil
}

// timeLayout is how anshim prints times: in Korea time, with the zone.
const timeLayout = "2006-01-02 15:04:05 MST"

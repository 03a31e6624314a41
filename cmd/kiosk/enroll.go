package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/anshim/anshim/internal/cli"
	"github.com/anshim/anshim/kiosk/enroll"
)

const enrollUsage = `Usage: kiosk enroll --token T --central URL --data DIR [--bundle-sha256 HEX]

Enroll enrolls a kiosk with the province's central server: it makes the
device key and a NATS user key on this device (neither private key leaves
it), registers their public halves with the one-time token, and installs the
province bundle, an empty outbox and the central's NATS settings (nats.json,
nats.nk) in DIR. 'kiosk run' then syncs check-ins to the central and follows
revocations and key changes.

A kiosk initialised offline ('kiosk init') is enrolled on its own data
directory: it keeps its device key and its outbox, and every check-in it
buffered syncs once 'kiosk run' starts again (restart the service). The
token must be for the venue the kiosk was initialised for; a token of
another venue is refused before anything is installed.

The central's answer must be authenticated: give an https:// URL, or pin the
province bundle with --bundle-sha256 (printed by 'anshim keygen', 'central
serve' and 'anshim device token'). With a pin, a bundle that does not match
fails the enrollment before anything is written. The NATS CA the central
sends must be signed by the bundle's root key; 'kiosk run' then trusts only
it for NATS.

Examples:

	kiosk enroll --token 3f9c... --central https://central.jeju.example --data /var/lib/anshim
	kiosk enroll --token 3f9c... --central http://10.0.0.5:8440 --bundle-sha256 5c1e... --data /var/lib/anshim`

// runEnroll runs "kiosk enroll".
func (e *env) runEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("kiosk enroll", enrollUsage)
	token := flags.String("token", "", "one-time enrollment `TOKEN` from the province's operator (required)")
	central := flags.String("central", "", "the central's `URL`, such as https://central.example (required)")
	data := flags.String("data", "", "data `DIR` to create (kept 0700), or of a kiosk initialised offline (required)")
	pin := flags.String("bundle-sha256", "", "SHA-256 `HEX` of the province bundle (public.json); required unless --central is https://")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	if err := flags.Required("token", "central", "data"); err != nil {
		return err
	}
	res, err := enroll.Enroll(ctx, enroll.Options{Central: *central, Token: strings.TrimSpace(*token), Dir: *data, BundleSHA256: *pin})
	var refused *enroll.RefusedError
	var unreachable *enroll.UnreachableError
	var venue *enroll.VenueMismatchError
	switch {
	case errors.Is(err, enroll.ErrEnrolled):
		return cli.WithHint(err, "nothing to do: 'kiosk run --data %s' syncs; to move the kiosk to another central, decommission it and enroll a new data directory", *data)
	case errors.As(err, &venue):
		return cli.WithHint(err, "nothing was installed and the buffered check-ins stay: ask the province's operator for a token of venue %s ('anshim device token --venue %s'); the token given is used up", venue.Kiosk, venue.Kiosk)
	case errors.Is(err, enroll.ErrOtherProvince):
		return cli.WithHint(err, "nothing was installed: check --central; the kiosk's check-ins are sealed to the province of its bundle.json and only that province's central can take them")
	case errors.Is(err, enroll.ErrUnauthenticated):
		return cli.WithHint(err, "give the central's https:// URL, or pin the province bundle with --bundle-sha256 HEX (ask the province's operator: 'anshim keygen' and 'central serve' print it)")
	case errors.Is(err, enroll.ErrBundleMismatch):
		return cli.WithHint(err, "the central answered with another province's keys: check --central and --bundle-sha256 with the province's operator; the token was used up, ask for a new one")
	case errors.As(err, &refused) && refused.BadToken():
		return cli.WithHint(err, "the token is unknown, already used or expired: ask the province's operator for a new one")
	case errors.As(err, &refused):
		return cli.WithHint(err, "check the token and the central URL; tell the province's operator what the central said")
	case errors.As(err, &unreachable):
		return cli.WithHint(err, "check the --central URL (scheme, host, port) and the kiosk's network; the same token can be used again")
	case err != nil:
		return cli.WithHint(err, "nothing was installed unless the error says so")
	}
	fmt.Fprintf(stdout, "device %s enrolled for venue %s in %s; syncs with %s\n",
		res.Device.ID, res.Device.Venue, *data, strings.Join(res.Settings.URLs, ","))
	if res.Existing {
		fmt.Fprintf(stdout, "kept the device key and the outbox: its buffered check-ins sync when 'kiosk run' starts (restart a running kiosk: systemctl restart anshim-kiosk)\n")
	}
	fmt.Fprintf(stdout, "province bundle sha256 %s\n", res.BundleSHA256)
	if res.NATSCA == nil {
		fmt.Fprintf(stderr, "kiosk: note: the central sent no NATS CA: 'kiosk run' syncs only over tls:// URLs that the system trusts, or with nats_insecure (plaintext)\n")
	}
	return nil
}

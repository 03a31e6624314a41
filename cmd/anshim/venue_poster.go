package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/anshim/anshim/internal/cli"
)

const venuePosterUsage = `Usage: anshim venue poster --central URL --admin-token-file FILE --id ID [--png FILE [--size PX]]

Poster prints the static poster code of an approved venue without a kiosk:
"AV1:" and the venue id signed by the province's pass-signing key, which
the central holds. Visitors' apps scan it and check in online, where the
phone's location is compared with the venue's. With --png, the code is
also written as a QR code image (error correction level M) to print.

Each run makes a new code (with a new issue time); older ones stay valid.

Examples:

	anshim venue poster --id jeju-cafe-0042 --png poster-0042.png`

// runVenuePoster runs "anshim venue poster".
func (e *env) runVenuePoster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const prog = "anshim venue poster"
	flags := cli.NewFlagSet(prog, venuePosterUsage)
	c := addCentralFlags(flags)
	id := flags.String("id", "", "venue `id` (required)")
	pngPath := flags.String("png", "", "also write the code as a QR code PNG `file`")
	size := flags.Int("size", 600, "width and height of the PNG in `pixels`")
	err := flags.ParseOnlyFlags(args, stdout)
	if err != nil {
		return err
	}
	path, err := venuePath(prog, *id, "poster")
	if err != nil {
		return err
	}
	if *size < 100 || *size > 10000 {
		return cli.WithHint(cli.Usagef("--size %d is out of range", *size), "give 100 to 10000 pixels")
	}
	var p struct {
		Venue  string    `json:"venue"`
		Poster string    `json:"poster"`
		KeyID  string    `json:"key_id"`
		Issued time.Time `json:"issued"`
	}
	err = c.call(ctx, "POST", path, nil, &p)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.status == http.StatusConflict:
		return cli.WithHint(err, "approve the venue first: 'anshim venue status %s --id %s --status approved'", c.args(), *id)
	case err != nil:
		return notFoundHint(err, *id)
	}
	if *pngPath != "" {
		if err := writeQRPNG(*pngPath, p.Poster, *size); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, p.Poster)
	fmt.Fprintf(stderr, "anshim: poster of venue %s, signed with key %s, issued %s\n",
		p.Venue, p.KeyID, p.Issued.In(cli.KST()).Format("2006-01-02 15:04:05 MST"))
	if *pngPath != "" {
		fmt.Fprintf(stderr, "anshim: wrote QR code to %s\n", *pngPath)
	}
	return nil
}

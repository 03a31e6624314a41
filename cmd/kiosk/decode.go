package main

import (
	"context"
	"fmt"
	"io"

	"github.com/anshim/anshim/hardware/camera"
	"github.com/anshim/anshim/internal/cli"
)

const decodeUsage = `Usage: kiosk decode FILE...

Decode reads the QR code in each image (JPEG, PNG or GIF) the way the
kiosk's camera does, and prints one line per image:

	FILE<TAB>TEXT   or   FILE<TAB>error: REASON

It exits 1 when any image had no readable code.

Example:

	rpicam-still -o frame.jpg && kiosk decode frame.jpg`

// runDecode runs "kiosk decode".
func (e *env) runDecode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("kiosk decode", decodeUsage)
	files, err := flags.ParseArgs(args, stdout)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return flags.Usagef("no image files given")
	}
	if failed := (&camera.Decoder{Thorough: true}).DecodeFiles(stdout, files...); failed > 0 {
		return cli.WithHint(fmt.Errorf("%d of %d images had no readable code", failed, len(files)),
			"each line above says why; frame the code square-on, in focus, filling a third of the image or more")
	}
	return nil
}

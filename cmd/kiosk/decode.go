package main

import (
	"context"
	"fmt"
	"io"

	"github.com/anshim/anshim/hardware/camera"
)

func runDecode(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("decode", "FILE...",
		"Decodes the QR code in each image (JPEG, PNG or GIF) the way the kiosk's camera\n"+
			"does, and prints one line per image:\n"+
			"  FILE<TAB>TEXT   or   FILE<TAB>error: REASON\n"+
			"Exits 1 when any image had no readable code.\n\n"+
			"Example:\n  rpicam-still -o frame.jpg && kiosk decode frame.jpg", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if failed := (&camera.Decoder{Thorough: true}).DecodeFiles(stdout, fs.Args()...); failed > 0 {
		return fmt.Errorf("%d of %d images had no readable code", failed, fs.NArg())
	}
	return nil
}

package camera

import (
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // DecodeFile reads GIF
	_ "image/jpeg" // DecodeFile reads JPEG
	_ "image/png"  // DecodeFile reads PNG
	"io"
	"os"
	"strings"
)

// DecodeFile reads a JPEG, PNG or GIF image from path and returns the text
// of the QR code it shows, with the errors of [Decoder.Decode].
func (d *Decoder) DecodeFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return "", fmt.Errorf("read image %s: %w", path, err)
	}
	return d.Decode(img)
}

// DecodeFiles decodes each file and writes one line per file to w:
// "PATH<TAB>TEXT" for a code, "PATH<TAB>error: REASON" otherwise. It
// returns how many files gave no text. This is the output of
// `kiosk decode FILE...`.
//
// Tabs and line breaks inside a code's text are written as \t, \n and \r
// (and a backslash as \\), so every file stays on one line.
func (d *Decoder) DecodeFiles(w io.Writer, paths ...string) (failed int) {
	for _, p := range paths {
		text, err := d.DecodeFile(p)
		if err != nil {
			failed++
			fmt.Fprintf(w, "%s\terror: %s\n", p, reason(err))
			continue
		}
		fmt.Fprintf(w, "%s\t%s\n", p, escapeLine.Replace(text))
	}
	return failed
}

var escapeLine = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// reason turns err into the short text after "error: ".
func reason(err error) string {
	var pe *os.PathError
	switch {
	case errors.Is(err, ErrNoCode):
		return ErrNoCode.Error()
	case errors.As(err, &pe):
		return pe.Op + ": " + pe.Err.Error()
	}
	return escapeLine.Replace(err.Error())
}

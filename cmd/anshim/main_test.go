package main

import (
	"fmt"
	"image/png"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"anshim": func() { os.Exit(run()) },
	})
}

// TestScript runs the command lines in testdata/script/*.txtar against the
// real anshim binary.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"qrdecode": cmdQRDecode,
			"filemode": cmdFileMode,
			"central":  cmdCentral, // token_test.go
		},
	})
}

// cmdQRDecode is "qrdecode PNG TEXTFILE": the QR code in PNG, read with
// gozxing, holds the text in TEXTFILE (less surrounding white space), at
// error correction level M.
func cmdQRDecode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: qrdecode PNG TEXTFILE")
	}
	text, ec, err := decodeQRFile(ts.MkAbs(args[0]))
	ts.Check(err)
	want := strings.TrimSpace(ts.ReadFile(args[1]))
	if text != want {
		ts.Fatalf("QR code holds %q, want %q", text, want)
	}
	if ec != "M" {
		ts.Fatalf("error correction level %q, want M", ec)
	}
}

// decodeQRFile reads the QR code in a PNG file with gozxing and returns its
// text and error correction level.
func decodeQRFile(path string) (text, ecLevel string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return "", "", err
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, pureBarcode)
	if err != nil {
		return "", "", fmt.Errorf("decode QR code in %s: %w", path, err)
	}
	ec, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL].(string)
	return res.GetText(), ec, nil
}

// cmdFileMode is "filemode PATH MODE": PATH has the permission bits MODE
// (octal), or not with !.
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode PATH MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := uint64(fi.Mode().Perm()); (got == want) == neg {
		ts.Fatalf("%s has mode %#o, want %s%#o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// pureBarcode tells gozxing that the image is a clean, unrotated code: its
// finder-pattern search mislocates about 1 in 100 clean codes (random
// payloads, measured), which made tests of freshly drawn codes flaky. The
// kiosk's own decoder (hardware/camera) reads all of them.
var pureBarcode = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}

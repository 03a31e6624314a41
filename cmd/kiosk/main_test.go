package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/png"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/anshim/anshim/internal/cli/clitest"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/province"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"kiosk": func() { os.Exit(runMain()) },
	})
}

// TestScript runs the command lines in testdata/script/*.txtar against the
// real kiosk binary.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    clitest.Exits,
			"keygen":   cmdKeygen,
			"issue":    cmdIssue,
			"png":      cmdPNG,
			"waitfile": cmdWaitFile,
		},
	})
}

// Ensure that "kiosk --help" lists every command of the table, one line
// each, with its summary.
func TestHelp_ListsEveryCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := mainRun(context.Background(), []string{"--help"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("kiosk --help: exit %d\n%s", code, stderr.String())
	}
	if err := clitest.CheckCommandList(stdout.String(), new(env).commands()); err != nil {
		t.Errorf("kiosk --help: %v\n%s", err, stdout.String())
	}
}

// cmdKeygen is "keygen DIR": a province's keys in DIR, as 'anshim keygen'
// makes them, with DIR/public.json.
func cmdKeygen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: keygen DIR")
	}
	k, err := province.Generate(rand.Reader, "jeju")
	ts.Check(err)
	ts.Check(k.Save(ts.MkAbs(args[0])))
}

// cmdIssue is "issue KEYDIR FILE": FILE holds a line with a new app pass,
// valid from an hour ago for a day, signed with the keys in KEYDIR.
func cmdIssue(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: issue KEYDIR FILE")
	}
	k, err := province.Load(ts.MkAbs(args[0]))
	ts.Check(err)
	now := time.Now().Truncate(time.Second)
	p := pass.Pass{Kind: pass.KindApp, Issued: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour)}
	rand.Read(p.Pseudonym[:])
	text, err := k.Signer().Issue(p)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(text+"\n"), 0o644))
}

// cmdPNG is "png FILE [TEXTFILE]": FILE is a PNG image of a QR code holding
// the text in TEXTFILE (less surrounding white space), or a blank grey image
// without TEXTFILE.
func cmdPNG(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: png FILE [TEXTFILE]")
	}
	var img image.Image
	if len(args) == 2 {
		bm, err := qrcode.NewQRCodeWriter().Encode(strings.TrimSpace(ts.ReadFile(args[1])), gozxing.BarcodeFormat_QR_CODE, 400, 400, nil)
		ts.Check(err)
		img = bm
	} else {
		g := image.NewGray(image.Rect(0, 0, 200, 200))
		for i := range g.Pix {
			g.Pix[i] = 200
		}
		img = g
	}
	f, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(png.Encode(f, img))
	ts.Check(f.Close())
}

// cmdWaitFile is "waitfile FILE REGEXP": it waits up to 30 s until FILE,
// which a background command writes, has a line that matches REGEXP.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfile FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s has no line matching %q after 30s:\n%s", args[0], args[1], b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

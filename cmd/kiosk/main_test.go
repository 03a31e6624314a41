package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/anshim/anshim/kiosk"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = mainRun(context.Background(), args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

// Ensure that every command answers --help and that mistakes exit 2 with
// the usage.
func TestCLI_Help(t *testing.T) {
	for _, c := range commands {
		code, _, stderr := run(t, c.name, "--help")
		if code != 0 || !strings.Contains(stderr, "Usage: kiosk "+c.name) {
			t.Errorf("%s --help: exit %d, %q", c.name, code, stderr)
		}
	}
	if code, out, _ := run(t, "--help"); code != 0 || !strings.Contains(out, "Commands:") {
		t.Errorf("kiosk --help: %d %q", code, out)
	}
	if code, _, stderr := run(t, "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
	if code, _, _ := run(t, "init"); code != 2 {
		t.Errorf("init without flags: exit %d, want 2", code)
	}
}

// Ensure that init provisions once, outbox reports an empty verified chain,
// and a second init refuses with a hint.
func TestCLI_InitOutbox(t *testing.T) {
	keys, data := provisionKiosk(t)
	_ = keys
	code, out, stderr := run(t, "outbox", "--data", data)
	if code != 0 {
		t.Fatalf("outbox: %d %s", code, stderr)
	}
	var st kiosk.OutboxStats
	if err := json.Unmarshal([]byte(out), &st); err != nil || !st.ChainOK || st.Records != 0 {
		t.Fatalf("outbox output %q: %v", out, err)
	}
	for _, key := range []string{`"records":0`, `"first_seq":0`, `"last_seq":0`, `"chain_ok":true`} {
		if !strings.Contains(out, key) {
			t.Errorf("outbox output lacks %s: %s", key, out)
		}
	}
	code, _, stderr = run(t, "init", "--data", data, "--bundle", filepath.Join(data, kiosk.FileBundle), "--venue", "v-1")
	if code != 1 || !strings.Contains(stderr, "kiosk: error:") || !strings.Contains(stderr, "kiosk: hint:") {
		t.Fatalf("second init: %d %q", code, stderr)
	}
	fresh := filepath.Join(t.TempDir(), "k2")
	code, out, stderr = run(t, "init", "--data", fresh, "--bundle", filepath.Join(data, kiosk.FileBundle), "--venue", "v-2")
	if code != 0 || !strings.Contains(out, "provisioned") {
		t.Fatalf("init: %d %s %s", code, out, stderr)
	}
	fi, err := os.Stat(filepath.Join(fresh, kiosk.FileDeviceKey))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("device key mode: %v %v", fi.Mode(), err)
	}
	if code, _, stderr := run(t, "outbox", "--data", t.TempDir()); code != 1 || !strings.Contains(stderr, "kiosk init") {
		t.Fatalf("outbox of an empty dir: %d %q", code, stderr)
	}
}

// Ensure that decode prints FILE<TAB>TEXT for a code and FILE<TAB>error: for
// an image without one, and exits 1 when any failed.
func TestCLI_Decode(t *testing.T) {
	dir := t.TempDir()
	text := "AN1:TEST CODE 12345"
	bm, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 300, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	withCode := filepath.Join(dir, "code.png")
	writePNG(t, withCode, bm)
	blank := filepath.Join(dir, "blank.png")
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	writePNG(t, blank, img)
	code, out, _ := run(t, "decode", withCode, blank)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 2 || lines[0] != withCode+"\t"+text || !strings.HasPrefix(lines[1], blank+"\terror: ") {
		t.Fatalf("decode: exit %d, output %q", code, out)
	}
	if code, _, _ := run(t, "decode", withCode); code != 0 {
		t.Fatalf("decode of a good image: exit %d", code)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

var _ color.Color = color.Gray{}

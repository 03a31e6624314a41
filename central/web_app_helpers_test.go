package central

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/anshim/anshim/notify"
)

// qrImage returns text as a QR code image as the kiosk's display draws
// it (kiosk/display: error correction M, a 4-module quiet zone), scale
// pixels per module, black on white.
func qrImage(t *testing.T, text string, scale int) *image.Gray {
	t.Helper()
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           4,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 1, 1, hints)
	if err != nil {
		t.Fatal(err)
	}
	w, h := m.GetWidth(), m.GetHeight()
	img := image.NewGray(image.Rect(0, 0, w*scale, h*scale))
	for y := range h * scale {
		for x := range w * scale {
			c := color.Gray{Y: 255}
			if m.Get(x/scale, y/scale) {
				c = color.Gray{}
			}
			img.SetGray(x, y, c)
		}
	}
	return img
}

// writePNG writes img to path.
func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeY4M writes a video of frames frames, each img centred on a white
// w×h picture, as YUV4MPEG2 (4:2:0, grey: U and V at 128) for Chromium's
// fake camera (--use-file-for-fake-video-capture), which plays it in a
// loop.
func writeY4M(t *testing.T, path string, img *image.Gray, w, h, frames int) {
	t.Helper()
	if w%2 != 0 || h%2 != 0 || img.Bounds().Dx() > w || img.Bounds().Dy() > h {
		t.Fatalf("writeY4M: a %v code does not fit %dx%d (even sides)", img.Bounds().Size(), w, h)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	y := make([]byte, w*h)
	for i := range y {
		y[i] = 255
	}
	ox, oy := (w-img.Bounds().Dx())/2, (h-img.Bounds().Dy())/2
	for r := range img.Bounds().Dy() {
		copy(y[(oy+r)*w+ox:], img.Pix[r*img.Stride:r*img.Stride+img.Bounds().Dx()])
	}
	chroma := make([]byte, w*h/2) // U and V planes, w/2 × h/2 each
	for i := range chroma {
		chroma[i] = 128
	}
	for range frames {
		bw.WriteString("FRAME\n")
		bw.Write(y)
		bw.Write(chroma)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// cutProxy is a reverse proxy in front of the central, between it and
// the browser, whose network a test can cut: offline, every connection
// is closed without an answer, as a phone in airplane mode sees it. It
// keeps the bodies of the check-ins that pass.
type cutProxy struct {
	srv     *httptest.Server
	offline atomic.Bool
	mu      sync.Mutex
	posts   []map[string]any // the bodies of POST /v1/checkins
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.offline.Load() {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		if r.Method == "POST" && r.URL.Path == "/v1/checkins" {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			json.Unmarshal(b, &m)
			p.mu.Lock()
			p.posts = append(p.posts, m)
			p.mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(b)))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// checkIns returns the check-in bodies the proxy passed.
func (p *cutProxy) checkIns() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.posts...)
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode returns the 6-digit code of the last message to the number
// e164 in the central's notify sink (the file the default sink writes).
func lastCode(t *testing.T, sink, e164 string) string {
	t.Helper()
	recs, err := notify.ReadSink(sink)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].To != e164 {
			continue
		}
		if m := sixDigits.FindStringSubmatch(recs[i].Text); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no 6-digit code to %s in %s (%d messages)", e164, sink, len(recs))
	return ""
}

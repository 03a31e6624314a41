package display

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"image"
	"image/color"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/anshim/anshim/venuecode"
)

// fakeClock is an injectable clock with a trust flag.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	trusted bool
}

func (c *fakeClock) Now() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t, c.trusted
}

func (c *fakeClock) set(t time.Time, trusted bool) {
	c.mu.Lock()
	c.t, c.trusted = t, trusted
	c.mu.Unlock()
}

func newTestDisplay(t *testing.T, clock *fakeClock) (*Display, ed25519.PublicKey) {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(nil)
	d, err := New(Config{Device: "k-0123456789abcdef", Venue: "jeju-cafe-1", Name: "제주 카페", Category: "cafe", Key: key, Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return d, pub
}

func getJSON(t *testing.T, url string) State {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET %s: %s, Cache-Control %q", url, resp.Status, resp.Header.Get("Cache-Control"))
	}
	var st State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// Ensure that the page shows a code signed by the device for the current
// period, and that /code.json moves to the next code when the period ends.
func TestDisplay_ServesAndRefreshes(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)
	clock := &fakeClock{t: t0, trusted: true}
	d, pub := newTestDisplay(t, clock)
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()

	page := getPage(t, srv.URL+"/")
	for _, want := range []string{`data-mode="display"`, "<svg", "안심 앱으로", "Scan the QR code", `<h1 id="venue">제주 카페</h1>`, `data-refresh-ms="20200"`,
		`<span id="category-ko">카페</span>`, "앱이 없으시면 안심 카드를 스캐너에 보여주세요", "No app? Show your Anshim card to the scanner.",
		`<script src="/display.js" defer></script>`, `href="/fonts/fonts.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	st := getJSON(t, srv.URL+"/code.json")
	c, err := venuecode.VerifyDisplay(pub, st.Code)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != ModeDisplay || c.Venue != "jeju-cafe-1" || c.Device != "k-0123456789abcdef" || !c.Fresh(t0) || st.Period != c.Period {
		t.Fatalf("state %+v, code %+v", st, c)
	}
	if !st.Expires.Equal(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC)) || st.RefreshMS != 20200 {
		t.Errorf("expires %v, refresh %d ms", st.Expires, st.RefreshMS)
	}
	if !strings.Contains(page, st.QRSVG) {
		t.Error("the page's QR code is not the current code's")
	}
	if got := decodeQR(t, st.Code); got != st.Code {
		t.Errorf("QR decodes to %q", got)
	}

	// Same period: the same code. Next period: a new one.
	clock.set(t0.Add(15*time.Second), true)
	if again := getJSON(t, srv.URL+"/code.json"); again.Code != st.Code {
		t.Error("code changed within its period")
	}
	clock.set(t0.Add(20*time.Second), true)
	next := getJSON(t, srv.URL+"/code.json")
	nc, err := venuecode.VerifyDisplay(pub, next.Code)
	if err != nil || nc.Period != c.Period+1 || next.Code == st.Code {
		t.Fatalf("next period: %+v %v", nc, err)
	}
	// A photograph of the first code is stale two periods later.
	if c.Fresh(t0.Add(60 * time.Second)) {
		t.Error("a code two periods old is fresh")
	}
}

// Ensure that a kiosk whose clock is not trusted shows no code, and says
// it is in reader mode only.
func TestDisplay_UntrustedClock(t *testing.T) {
	clock := &fakeClock{t: time.Date(1970, 1, 1, 0, 0, 42, 0, time.UTC), trusted: false}
	d, _ := newTestDisplay(t, clock)
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()

	st := getJSON(t, srv.URL+"/code.json")
	if st.Mode != ModeReader || st.Reason != ReasonClockUntrusted || st.Code != "" || st.QRSVG != "" {
		t.Fatalf("state %+v", st)
	}
	page := getPage(t, srv.URL+"/")
	if strings.Contains(page, "<svg") || strings.Contains(page, venuecode.DisplayPrefix) {
		t.Error("page shows a code with an untrusted clock")
	}
	for _, want := range []string{`data-mode="reader"`, "안심 패스(앱의 QR 코드)나 안심 카드를 스캐너에 보여주세요.", "Show your pass or card to the scanner.", "제주 카페"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// What to do, not how clocks work; no line for visitors without the
	// app (the message is that line).
	for _, not := range []string{"시계", "clock", "synchron", `<div id="noapp">`} {
		if strings.Contains(page, not) {
			t.Errorf("reader page says %q", not)
		}
	}
	// Once the clock is synced, codes come back.
	clock.set(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), true)
	if st := getJSON(t, srv.URL+"/code.json"); st.Mode != ModeDisplay || st.Code == "" {
		t.Fatalf("after sync: %+v", st)
	}
}

// Ensure that Serve listens and stops with its context.
func TestDisplay_Serve(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), trusted: true}
	d, _ := newTestDisplay(t, clock)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.ServeListener(ctx, ln) }()
	if st := getJSON(t, "http://"+ln.Addr().String()+"/code.json"); st.Mode != ModeDisplay {
		t.Fatalf("state %+v", st)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

// decodeQR renders text's QR matrix and decodes it with gozxing's reader.
func decodeQR(t *testing.T, text string) string {
	t.Helper()
	m, err := qrMatrix(text)
	if err != nil {
		t.Fatal(err)
	}
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, m.GetWidth()*scale, m.GetHeight()*scale))
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			c := color.Gray{Y: 0xff}
			if m.Get(x/scale, y/scale) {
				c.Y = 0
			}
			img.SetGray(x, y, c)
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, pureBarcode)
	if err != nil {
		t.Fatal(err)
	}
	return res.GetText()
}

// pureBarcode tells gozxing that the image is a clean, unrotated code: its
// finder-pattern search mislocates about 1 in 100 clean codes (random
// payloads, measured), which made tests of freshly drawn codes flaky. The
// kiosk's own decoder (hardware/camera) reads all of them.
var pureBarcode = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}

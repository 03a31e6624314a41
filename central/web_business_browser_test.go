package central

import (
	"context"
	"crypto/rand"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/anshim/anshim/central/poster"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/camera"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/hardware/feedback/feedbacktest"
	"github.com/anshim/anshim/hardware/scanner"
	"github.com/anshim/anshim/hardware/scanner/scannertest"
	"github.com/anshim/anshim/internal/browsertest"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/kiosk/enroll"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/venuecode"
)

// Ensure, in a real headless Chromium against a real central, the
// business owner's whole way: sign up → apply with a wrong business
// number (the error shows beside the field) → correct it → an admin
// approves in /admin → the owner downloads the poster (its PDF, rendered
// back by pdftoppm, decodes to a valid poster code of the venue) →
// creates an enrollment token → a real kiosk enrolls with it → a scan at
// that kiosk shows in the venue's count. No page breaks the
// Content-Security-Policy, and the pages do not scroll sideways at
// 360 px. Screenshots go to $ANSHIM_SCREENSHOTS when it is set.
func TestBusinessPortal_Browser(t *testing.T) {
	browsertest.SkipShort(t)
	exe := browsertest.Chromium(t)
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm is not installed (make deps installs poppler-utils)")
	}
	ts := startServer(t)
	base := ts.HTTPURL()
	shots := os.Getenv("ANSHIM_SCREENSHOTS")
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const adminPW, ownerPW = "admin web password", "owner web password"
	if _, err := wb.AddAccount(context.Background(), web.NewAccount{Name: "lee.admin", Role: web.RoleAdmin, Phone: "010-2222-3333", Password: adminPW}, "admin"); err != nil {
		t.Fatal(err)
	}

	actx := browsertest.Allocator(t, exe)
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var mu sync.Mutex
	var browserErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if strings.Contains(ev.Entry.Text, "Content Security Policy") {
				browserErrors = append(browserErrors, ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			browserErrors = append(browserErrors, ev.ExceptionDetails.Text)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	}), chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	narrow := func(page string) {
		t.Helper()
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if w > 360 {
			t.Errorf("%s at 360 px is %d px wide: it scrolls sideways", page, w)
		}
	}
	shot := func(name string, w, h int64) {
		t.Helper()
		if shots == "" {
			return
		}
		do("viewport", chromedp.EmulateViewport(w, h), chromedp.Sleep(200*time.Millisecond))
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		do("viewport", chromedp.EmulateViewport(360, 740))
	}
	signIn := func(name, pw, home string) {
		t.Helper()
		do("sign in as "+name,
			chromedp.Navigate(base+"/signin"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), name),
			chromedp.SendKeys(chromedp.ID("password"), pw),
			chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("form.signout")))
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, home) {
			t.Fatalf("after signing in as %s: at %s, want %s", name, loc, home)
		}
	}
	signOut := func() {
		t.Helper()
		do("sign out", chromedp.Click(chromedp.CSS("form.signout button")), chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)))
	}

	// Sign up, sign in.
	do("sign up",
		chromedp.Navigate(base+"/signup"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "park.owner"),
		chromedp.SendKeys(chromedp.ID("phone"), "010-1234-5678"),
		chromedp.SendKeys(chromedp.ID("password"), ownerPW),
		chromedp.SendKeys(chromedp.ID("confirm"), ownerPW),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("password")))
	signIn("park.owner", ownerPW, "/business")

	// Apply with a wrong check digit: the error shows beside the field,
	// and what was typed stays.
	do("apply, wrong number",
		chromedp.Click(chromedp.CSS(`a[href="/business/apply"]`)),
		chromedp.WaitVisible(chromedp.ID("business_number")),
		chromedp.SendKeys(chromedp.ID("name"), "카페 한라"),
		chromedp.SendKeys(chromedp.ID("business_number"), "123-45-67890"),
		chromedp.SetValue(chromedp.ID("category"), "cafe"),
		chromedp.SendKeys(chromedp.ID("address"), "제주특별자치도 제주시 중앙로 1"),
		// The device's location, by the "use my location" button.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			lat, lon, acc := 33.4996, 126.5312, 10.0
			if _, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: base}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
			return err
		}),
		chromedp.Click(chromedp.ID("locate")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`document.getElementById('lon').value === '126.53120'`)(ctx, tg)
			return err
		}),
		chromedp.SendKeys(chromedp.ID("owner_phone"), "064-700-1234"),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("business_number-error")))
	if e := text("#business_number-error"); !strings.Contains(e, "검증번호") {
		t.Errorf("the business number's error %q does not say the check digit is wrong", e)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.field-error:not([hidden])').length`)); err != nil || n != 1 {
		t.Errorf("%d field errors (%v), want the business number's alone", n, err)
	}
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('name').value + '|' + document.getElementById('category').value`)); err != nil || v != "카페 한라|cafe" {
		t.Errorf("the form kept %q (%v), want what was typed", v, err)
	}
	narrow("the application with an error")
	shot("business-apply-error-ko-360.png", 360, 740)

	// Correct it.
	do("apply, right number",
		chromedp.Clear(chromedp.ID("business_number")),
		chromedp.SendKeys(chromedp.ID("business_number"), "123-45-67891"),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".status-applied")))
	const id = "b1234567891"
	v, err := ts.store.Venue(context.Background(), id)
	if err != nil || v.Status != registry.StatusApplied || v.BusinessNumber != "123-45-67891" || v.Category != registry.Cafe {
		t.Fatalf("venue after the application: %+v, %v", v, err)
	}
	signOut()

	// An admin approves it in /admin.
	signIn("lee.admin", adminPW, "/admin")
	do("approve",
		chromedp.Navigate(base+"/admin/venues/"+id),
		chromedp.WaitVisible(chromedp.ID("do-approved")),
		chromedp.Click(chromedp.ID("do-approved")),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if v, _ := ts.store.Venue(context.Background(), id); v.Status != registry.StatusApproved {
		t.Fatalf("after the admin's approval the venue is %s", v.Status)
	}
	signOut()

	// The owner downloads the poster: its PDF decodes to the code.
	signIn("park.owner", ownerPW, "/business")
	do("venue page", chromedp.Navigate(base+"/business/venues/"+id), chromedp.WaitVisible(chromedp.ID("poster")))
	var cookies []*network.Cookie
	do("cookies", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
		cookies = res.Cookies
		return err
	}))
	req, _ := http.NewRequest("GET", base+"/business/venues/"+id+"/poster.pdf", nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("poster.pdf: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	code := decodePosterPDF(t, pdftoppm, pdf)
	if got, err := venuecode.VerifyPoster(ts.keys.PassKeys(), code); err != nil || got != id {
		t.Fatalf("the poster's code is of venue %q (%v), want %s", got, err, id)
	}

	// A token, and a real kiosk enrolled with it.
	do("new token",
		chromedp.Click(chromedp.CSS(`form[action$="/tokens"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".token-text code")))
	token := strings.TrimSpace(text(".token-text code"))
	if len(token) != 32 {
		t.Fatalf("token %q, want 32 hex digits", token)
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector('img.qr').naturalWidth`)); err != nil || w < 100 {
		t.Errorf("the token's QR code is %d px wide (%v): not shown", w, err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('button.revoke').length`)); err != nil || n != 1 {
		t.Errorf("%d revoke buttons (%v), want one for the new token", n, err)
	}
	narrow("the venue page with a token")
	shot("business-token-ko-360.png", 360, 740)

	dir := filepath.Join(t.TempDir(), "kiosk")
	if _, err := enroll.Enroll(context.Background(), enroll.Options{Central: base, Token: token, Dir: dir, BundleSHA256: ts.BundleSHA256()}); err != nil {
		t.Fatalf("kiosk enroll with the portal's token: %v", err)
	}
	clock := &kioskClock{s: kiosk.Stamp{Wall: ts.clock.Now(), Quality: checkin.NTPSynced, Boot: [16]byte{7}, Mono: time.Hour}}
	scans := scannertest.New("test")
	events := &feedbacktest.Recorder{C: make(chan feedback.Event)}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- kiosk.Run(runCtx, kiosk.Config{Data: dir, StatusListen: "off", Feedback: "none", NATSInsecure: true}, kiosk.Env{
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock, Indicator: events, Scanners: []scanner.Scanner{scans},
		})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("kiosk.Run: %v", err)
		}
	}()
	select {
	case <-scans.Started:
	case err := <-done:
		t.Fatalf("kiosk.Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the kiosk did not start")
	}
	now := clock.Now().Wall.Truncate(time.Second)
	p := pass.Pass{Kind: pass.KindApp, Issued: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour)}
	rand.Read(p.Pseudonym[:])
	passText, err := ts.keys.Signer().Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	scans.Scans <- scanner.Scan{Text: passText}
	select {
	case ev := <-events.C:
		if ev.Result != feedback.Accepted {
			t.Fatalf("the scan: %v, want accepted", ev.Result)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no feedback for the scan")
	}
	devices, err := ts.store.Devices(context.Background())
	if err != nil || len(devices) != 1 || devices[0].Venue != id {
		t.Fatalf("devices %+v, %v; want the kiosk of %s", devices, err, id)
	}
	ts.waitStored(t, devices[0].ID, 1)

	// The scan shows in the venue's count, the kiosk in its list.
	do("venue page again", chromedp.Navigate(base+"/business/venues/"+id), chromedp.WaitVisible(chromedp.ID("count-total")))
	if n := text("#count-total"); n != "1" {
		t.Errorf("the venue's count is %q, want 1", n)
	}
	if k := text("#kiosks"); !strings.Contains(k, devices[0].ID) {
		t.Errorf("the kiosks section lacks the kiosk %s:\n%s", devices[0].ID, k)
	}
	narrow("the venue page")
	shot("business-venue-ko-1280.png", 1280, 800)
	do("English", chromedp.Navigate(base+"/business/venues/"+id+"?lang=en"), chromedp.WaitVisible(chromedp.ID("count-total")))
	if h := text("#counts h2"); !strings.Contains(h, "Daily check-ins") {
		t.Errorf("in English the chart's heading is %q", h)
	}
	shot("business-venue-en-360.png", 360, 740)

	mu.Lock()
	defer mu.Unlock()
	for _, e := range browserErrors {
		t.Errorf("browser: %s", e)
	}
}

// decodePosterPDF renders a poster PDF at 100 dpi with pdftoppm and
// decodes the QR code in its poster.QRBox.
func decodePosterPDF(t *testing.T, pdftoppm string, pdf []byte) string {
	t.Helper()
	return decodePDFQR(t, pdftoppm, pdf, 100, poster.QRBox, 2)
}

// decodePDFQR renders the first page of pdf at dpi with pdftoppm and
// decodes the QR code in box ({x, y, side} in millimetres from the top
// left), cropped inset pixels inside it.
func decodePDFQR(t *testing.T, pdftoppm string, pdf []byte, dpi int, box [3]float64, inset int) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-r", strconv.Itoa(dpi), "-gray", "-png", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	mm := func(v float64) int { return int(v / 25.4 * float64(dpi)) }
	r := image.Rect(mm(box[0])+inset, mm(box[1])+inset, mm(box[0]+box[2])-inset, mm(box[1]+box[2])-inset)
	crop := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := range r.Dy() {
		for x := range r.Dx() {
			crop.Set(x, y, img.At(r.Min.X+x, r.Min.Y+y))
		}
	}
	// The kiosk's live decoder, what reads the card or poster at a door
	// (gozxing's bare reader misses about one clean render in 40).
	text, err := (&camera.Decoder{}).Decode(crop)
	if err != nil {
		keep := filepath.Join(os.TempDir(), "anshim-undecoded-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".png")
		if f, ferr := os.Create(keep); ferr == nil {
			png.Encode(f, crop)
			f.Close()
		}
		t.Fatalf("the kiosk's decoder does not read the QR code of the PDF (%v); the frame is in %s", err, keep)
	}
	return text
}

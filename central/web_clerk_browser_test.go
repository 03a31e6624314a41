package central

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/internal/browsertest"
	"github.com/anshim/anshim/pass"
)

// Ensure, in a real headless Chromium against a real central, that a
// clerk signs in and lands on /clerk, registers a visitor by name and
// phone number, sees only the initial and the masked number, prints a
// card and downloads its PDF in the browser's session, whose QR code
// (rendered by pdftoppm) is the visitor's card pass that pass.Verify
// accepts; that printing again marks card 1 revoked; and that both pages
// fit 360 px. Screenshots in Korean and English at 360×740 and 1280×800
// go to $ANSHIM_SCREENSHOTS when set.
func TestClerkBrowser(t *testing.T) {
	browsertest.SkipShort(t)
	exe := browsertest.Chromium(t)
	ts := startServer(t)
	ctx := withAccount(context.Background(), fileAdmin)
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "clerk browser password"
	if _, err := wb.AddAccount(ctx, web.NewAccount{Name: "choi.clerk", Role: web.RoleClerk, Phone: "010-1212-3434", Password: pw}, "admin"); err != nil {
		t.Fatal(err)
	}

	dir := os.Getenv("ANSHIM_SCREENSHOTS")
	actx := browsertest.Allocator(t, exe)
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	base := ts.HTTPURL()
	do := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, bctx, actions...) }
	eval := func(js string) string { t.Helper(); return browsertest.Eval(t, bctx, js) }
	shot := func(name string, w, h int64) {
		t.Helper()
		if dir == "" {
			return
		}
		do(chromedp.EmulateViewport(w, h))
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fits := func(what string) {
		t.Helper()
		if w := eval(`String(document.documentElement.scrollWidth)`); w != "360" {
			t.Errorf("%s is %s px wide at 360", what, w)
		}
	}

	do(chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "choi.clerk"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("register-form")))
	if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/clerk") {
		t.Fatalf("after signing in the clerk is at %s (%v), want /clerk", loc, err)
	}
	fits("/clerk")
	shot("clerk-home-ko-360.png", 360, 740)
	do(chromedp.Navigate(base+"/clerk?lang=en"), chromedp.WaitVisible(chromedp.ID("register-form")))
	shot("clerk-home-en-1280.png", 1280, 800)
	do(chromedp.EmulateViewport(360, 740), chromedp.Navigate(base+"/clerk?lang=ko"), chromedp.WaitVisible(chromedp.ID("register-form")))

	do(chromedp.SendKeys(chromedp.ID("name"), "김민수"),
		chromedp.SendKeys(chromedp.ID("phone"), "010 2468 1357"),
		chromedp.Click(chromedp.ID("register")),
		chromedp.WaitVisible(chromedp.ID("registered")))
	hidden := func() {
		t.Helper()
		if got := eval(`document.getElementById("masked-phone").textContent.trim()`); got != "010-****-1357" {
			t.Errorf("the masked number is %q", got)
		}
		if got := eval(`document.getElementById("initial").textContent.trim()`); got != "김" {
			t.Errorf("the initial is %q", got)
		}
		main := eval(`document.querySelector("main").innerText`)
		if strings.Contains(main, "민수") || strings.Contains(main, "2468") {
			t.Errorf("the visitor page shows the name or number: %q", main)
		}
	}
	hidden()
	do(chromedp.Click(chromedp.ID("print")), chromedp.WaitVisible(chromedp.ID("card-pdf")))
	hidden()
	fits("the visitor page")

	// The card, downloaded in the browser's session.
	href := eval(`document.getElementById("card-pdf").getAttribute("href")`)
	b64 := eval(`fetch(` + strconv.Quote(href) + `).then(r => r.ok && r.headers.get("Content-Type") === "application/pdf" ? r.arrayBuffer() : Promise.reject("status " + r.status)).then(b => { let s = ""; for (const c of new Uint8Array(b)) s += String.fromCharCode(c); return btoa(s); })`)
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("the card download is no PDF (%v)", err)
	}
	p, err := ts.vault.Lookup(ctx, "010-2468-1357")
	if err != nil {
		t.Fatal(err)
	}
	v := pass.NewVerifier([]pass.PublicKey{ts.keys.Signer().PublicKey()}, nil)
	if pp, err := v.Verify(cardPass(t, pdf), ts.clock.Now()); err != nil || pp.Kind != pass.KindCard || pp.Serial != 1 || pp.Pseudonym != p.Pseudonym {
		t.Fatalf("the downloaded card's QR code: %v, %v; want card 1 of the visitor", pp, err)
	}
	shot("clerk-visitor-ko-360.png", 360, 740)

	// A new card: card 1 is revoked.
	do(chromedp.EmulateViewport(1280, 800), chromedp.Click(chromedp.ID("print")),
		chromedp.WaitVisible(chromedp.CSS(`#card-2[data-revoked="false"]`)))
	if got := eval(`document.getElementById("card-1").dataset.revoked`); got != "true" {
		t.Errorf("card 1 after card 2: revoked=%s", got)
	}
	if got := eval(`document.getElementById("card-pdf").getAttribute("href")`); !strings.HasSuffix(got, "/cards/2/card.pdf") {
		t.Errorf("the page after card 2 offers %s", got)
	}
	do(chromedp.Navigate(base+"/clerk/visitors/"+p.ID+"?printed=2&revoked=1&lang=en"), chromedp.WaitVisible(chromedp.ID("card-pdf")))
	shot("clerk-visitor-en-1280.png", 1280, 800)
}

package central

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/chromedp/chromedp/kb"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/hardware/camera"
	"github.com/anshim/anshim/hardware/feedback"
	"github.com/anshim/anshim/internal/browsertest"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/venuecode"
)

// Ensure, in a real headless Chromium emulating a 360×740 touch phone
// with a fake camera that films a kiosk's current display code and an
// overridden GPS, against a real central behind a proxy whose network the
// test cuts, that a visitor of the app (/app):
//
//   - accepts the consent and verifies a number with the code the central
//     sent through its notify sink, giving a name when asked;
//   - sees the pass as a QR code that the kiosk's decoder reads from a
//     screenshot and the province's keys accept;
//   - still sees it after a reload without network (the service worker);
//   - scans the kiosk's code with the camera and is told "checked in" with
//     the venue's name, the check-in sent with the GPS fix and stored;
//   - finds it in "my visits"; is told "already checked in" on a second
//     scan; has a poster's code read from a photo with a far-away fix
//     accepted but flagged;
//   - receives an investigator's notice in the inbox, naming no case;
//   - switches to English (kept after a reload) and back;
//   - leaves without network: the exit is kept on the phone and sent with
//     its time once back online;
//   - reports a lost phone (the pass on the kiosks' revocation list) and
//     verifies again without a name;
//   - gets a new pass once the pass is past its renewal time;
//   - deletes the account, which destroys the identity in the vault.
//
// On the way it checks that every control has an accessible name, that
// Tab reaches every control of the pass screen, that no screen scrolls
// sideways at 360 px, that the manifest's icons and the service worker
// are served, and that no script error or CSP violation happened.
// Screenshots of every screen in Korean and English go to
// $ANSHIM_SCREENSHOTS (app-*.png).
func TestAppBrowser(t *testing.T) {
	browsertest.SkipShort(t)
	exe := browsertest.Chromium(t)
	// The central's clock is the browser's (the pass's validity and the
	// display code's period are read on both sides), frozen.
	clock := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	cfg, keys := testConfig(t, t.TempDir(), clock)
	ts := startServerWith(t, cfg, keys, clock)
	ctx := withAccount(context.Background(), fileAdmin)

	// v1 in Jeju city with an enrolled kiosk; v3 in Seogwipo (29 km) with
	// a poster.
	k := ts.enroll(t, "v1")
	reg3 := testRegistration("v3", registry.StatusApproved)
	reg3.Location = registry.Location{Lat: 33.2541, Lon: 126.5601}
	if code := ts.do(t, "POST", "/v1/venues", reg3, true, nil); code != 201 {
		t.Fatalf("add v3: %d", code)
	}
	var poster3 Poster
	if code := ts.do(t, "POST", "/v1/venues/v3/poster", nil, true, &poster3); code != 201 {
		t.Fatalf("poster: %d", code)
	}
	v1, err := ts.store.Venue(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}

	// The kiosk's current display code, filmed by the fake camera.
	dir := t.TempDir()
	display := displayCode(t, k.key, k.enr.Device, "v1", venuecode.PeriodOf(clock.Now(), 30*time.Second))
	code := qrImage(t, display, 1)
	video := filepath.Join(dir, "kiosk.y4m")
	writeY4M(t, video, qrImage(t, display, 400/code.Bounds().Dx()), 640, 480, 10)
	posterPhoto := filepath.Join(dir, "poster.png")
	writePNG(t, posterPhoto, qrImage(t, poster3.Poster, 8))

	proxy := newCutProxy(t, ts.HTTPURL())
	base := proxy.srv.URL
	shots := browsertest.ScreenshotDir(t)

	actx := browsertest.Allocator(t, exe,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video))
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var mu sync.Mutex
	var browserErrors []string
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if strings.Contains(ev.Entry.Text, "Content Security Policy") {
				browserErrors = append(browserErrors, ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			browserErrors = append(browserErrors, ev.ExceptionDetails.Text+" "+fmt.Sprint(ev.ExceptionDetails.Exception.Description))
		}
	}); err != nil {
		t.Fatal(err)
	}
	geo := func(lat, lon, acc float64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
			return err
		})
	}
	setOnline := func(on bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			proxy.offline.Store(!on)
			_, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: !on, DownloadThroughput: -1, UploadThroughput: -1})
			return err
		})
	}
	// Jeju city, 11 m from v1.
	const nearLat, nearLon, nearAcc = 33.5114, 126.4931, 12.0
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: base})
		return err
	}), geo(nearLat, nearLon, nearAcc), chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v (the page says: %s)", what, err, pageState(bctx))
		}
	}
	eval := func(js string) string { t.Helper(); return browsertest.Eval(t, bctx, js) }
	waitJS := func(what, js string) {
		t.Helper()
		step(what, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond))(ctx, tg)
			return err
		}))
	}
	text := func(id string) string {
		t.Helper()
		return eval(`document.getElementById(` + strconv.Quote(id) + `).textContent.trim()`)
	}
	narrow := func(screen string) {
		t.Helper()
		if w := eval(`String(document.documentElement.scrollWidth)`); w != "360" {
			t.Errorf("%s at 360 px is %s px wide: it scrolls sideways", screen, w)
		}
	}
	shot := func(name string) []byte {
		t.Helper()
		step("settle", chromedp.Sleep(300*time.Millisecond))
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		return buf
	}
	screen := func(name string) {
		t.Helper()
		waitJS("screen "+name, `document.body.dataset.screen === `+strconv.Quote(name)+` && !document.getElementById("s-`+name+`").hidden`)
	}
	tab := func(name string) {
		t.Helper()
		step("tab "+name, chromedp.Click(chromedp.ID("tab-"+name)))
		screen(name)
	}
	// apiStep fails with what the app printed when an API call went wrong.
	apiMissing := func(what, errID string) {
		t.Helper()
		if e := text(errID); e != "" {
			t.Fatalf("%s: the app says %q: is the app's API (central/app_api.go, /v1/app/...) there?", what, e)
		}
	}

	// Consent: refused without the box, then accepted.
	step("open the app", chromedp.Navigate(base+"/app"))
	screen("consent")
	narrow("consent")
	shot("app-consent-ko.png")
	step("consent without the box", chromedp.Click(chromedp.ID("consent-continue")), chromedp.WaitVisible(chromedp.ID("consent-error")))
	step("consent", chromedp.Click(chromedp.ID("consent-agree")), chromedp.Click(chromedp.ID("consent-continue")))
	screen("phone")
	narrow("phone")
	shot("app-phone-ko.png")

	// Phone and code: the number is new, so the central asks for a name.
	const phone, e164 = "010-2345-6789", "+821023456789"
	step("phone", chromedp.SendKeys(chromedp.ID("phone"), phone), chromedp.Click(chromedp.ID("phone-send")))
	waitJS("code screen or error", `!document.getElementById("s-code").hidden || !document.getElementById("phone-error").hidden`)
	apiMissing("POST /v1/app/codes", "phone-error")
	screen("code")
	sink := cfg.NotifyFileOrDefault()
	step("code", chromedp.SendKeys(chromedp.ID("code"), lastCode(t, sink, e164)), chromedp.Click(chromedp.ID("code-verify")))
	waitJS("name asked", `!document.getElementById("name-field").hidden || !document.getElementById("s-pass").hidden || document.getElementById("code-error").textContent !== ""`)
	if eval(`String(document.getElementById("name-field").hidden)`) == "true" {
		apiMissing("POST /v1/app/sessions (a new number: 409 name-required)", "code-error")
		t.Fatal("a new number was verified without a name")
	}
	narrow("code")
	shot("app-code-ko.png")
	step("name", chromedp.SendKeys(chromedp.ID("name"), "김안심"), chromedp.Click(chromedp.ID("code-verify")))
	waitJS("pass or error", `!document.getElementById("s-pass").hidden || (document.getElementById("code-error").textContent !== "" && !document.getElementById("code-error").textContent.startsWith("처음"))`)
	apiMissing("POST /v1/app/sessions", "code-error")
	screen("pass")
	waitJS("the QR code", `document.querySelector("#pass-qr svg path") !== null`)
	if h := text("pass-holder"); h != "김 님" {
		t.Errorf("holder %q, want 김 님", h)
	}
	passText := eval(`document.getElementById("pass-qr").dataset.pass`)
	if !strings.HasPrefix(passText, pass.Prefix) {
		t.Fatalf("the pass shown is %q", passText)
	}
	narrow("pass")

	// The pass on the screen, as a kiosk's camera would read it.
	png := shot("app-pass-ko.png")
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	read, err := (&camera.Decoder{Thorough: true}).Decode(img)
	if err != nil {
		t.Fatalf("the kiosk's decoder cannot read the pass from the screenshot: %v", err)
	}
	if read != passText {
		t.Fatalf("the kiosk read %q, the app shows %q", read, passText)
	}
	p, err := pass.NewVerifier(keys.PassKeys(), nil).Verify(read, clock.Now())
	if err != nil || p.Kind != pass.KindApp {
		t.Fatalf("the pass read from the screen: %+v, %v; want a valid app pass", p, err)
	}
	person, err := ts.vault.Lookup(ctx, phone)
	if err != nil || person.Pseudonym != p.Pseudonym {
		t.Fatalf("the pass's pseudonym is not the verified person's: %v", err)
	}
	// A real kiosk daemon at another venue (v2: the app scans v1 next)
	// takes the pass read from the screen.
	ts.addVenueAndToken(t, "v2")
	door := runKiosk(t, ts, "v2", clock.Now())
	if r := door.scan(t, read); r != feedback.Accepted {
		t.Fatalf("a kiosk given the pass read from the app's screen answers %v, want accepted\n%s", r, door.log.String())
	}

	// Lighthouse's basics: every control has a name; Tab reaches every
	// control of the pass screen; the manifest's icons and the worker.
	if bad := eval(`Array.from(document.querySelectorAll("button, input, select, textarea, a[href], summary, video, [role=img]")).filter(e => {
		const name = (e.getAttribute("aria-label") || (e.labels && e.labels.length ? e.labels[0].textContent : "") || e.textContent).trim();
		return name === "";
	}).map(e => e.outerHTML.slice(0, 80)).join("\n")`); bad != "" {
		t.Errorf("controls without an accessible name:\n%s", bad)
	}
	reached := map[string]bool{}
	step("focus the top", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	for range 20 {
		step("tab", chromedp.KeyEvent(kb.Tab))
		reached[eval(`(e => e.id || e.tagName + ":" + e.textContent.trim().slice(0, 40))(document.activeElement)`)] = true
	}
	var missed []string
	var controls []string
	json.Unmarshal([]byte(eval(`JSON.stringify(Array.from(document.querySelectorAll("button, input, a[href], summary")).filter(e => e.checkVisibility() && !e.disabled).map(e => e.id || e.tagName + ":" + e.textContent.trim().slice(0, 40)))`)), &controls)
	for _, c := range controls {
		if !reached[c] {
			missed = append(missed, c)
		}
	}
	if len(controls) < 7 || len(missed) > 0 {
		t.Errorf("Tab on the pass screen reached %v; missed %v of %v", reached, missed, controls)
	}
	if got := eval(`fetch("/app/sw.js").then(r => r.status + " " + r.headers.get("content-type") + " " + r.headers.get("service-worker-allowed"))`); got != "200 text/javascript; charset=utf-8 /app" {
		t.Errorf("/app/sw.js: %s", got)
	}
	if got := eval(`fetch("/app/manifest.webmanifest").then(r => r.json()).then(m => Promise.all(m.icons.map(i => fetch(i.src).then(r => i.sizes + ":" + r.status + ":" + r.headers.get("content-type"))))).then(a => a.join(" "))`); got != "192x192:200:image/png 512x512:200:image/png 512x512:200:image/png" {
		t.Errorf("manifest icons: %s", got)
	}

	// Without network: the worker serves the page and the saved pass.
	waitJS("the service worker controls the page", `navigator.serviceWorker.controller !== null`)
	for i := 0; eval(`caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.match("/app"))))).then(rs => String(rs.some(Boolean)))`) != "true"; i++ {
		if i == 50 {
			t.Fatal("the service worker did not keep /app")
		}
		time.Sleep(100 * time.Millisecond)
	}
	step("offline", setOnline(false), chromedp.Reload())
	screen("pass")
	waitJS("the QR code offline", `document.querySelector("#pass-qr svg path") !== null && !document.getElementById("offline").hidden`)
	if got := eval(`document.getElementById("pass-qr").dataset.pass`); got != passText {
		t.Errorf("offline the app shows %q, want the saved pass", got)
	}
	narrow("pass offline")
	shot("app-pass-offline-ko.png")
	step("online", setOnline(true))
	waitJS("online again", `document.getElementById("offline").hidden`)

	// Scan the kiosk's code with the camera.
	tab("scan")
	waitJS("the scan's answer", `document.getElementById("result").dataset.result === "accepted" || document.getElementById("result").dataset.result === "rejected" || !document.getElementById("scan-error").hidden`)
	if r := eval(`document.getElementById("result").dataset.result`); r != "accepted" {
		t.Fatalf("scan: %q %q %q", r, text("result-text"), text("scan-error"))
	}
	if got := text("result-title"); got != "입장 확인되었습니다" {
		t.Errorf("scan title %q", got)
	}
	if got := text("result-venue"); got != v1.Name {
		t.Errorf("scan venue %q, want %q", got, v1.Name)
	}
	narrow("scan")
	shot("app-scan-ko.png")
	posts := proxy.checkIns()
	if len(posts) != 1 {
		t.Fatalf("%d check-ins sent, want 1", len(posts))
	}
	sent := posts[0]
	if sent["code"] != display || sent["pass"] != passText || sent["client_id"] == "" || sent["exit"] != nil || sent["scanned_at"] != nil ||
		math.Abs(sent["lat"].(float64)-nearLat) > 1e-9 || math.Abs(sent["lon"].(float64)-nearLon) > 1e-9 || sent["accuracy"] != nearAcc {
		t.Errorf("the check-in sent: %v", sent)
	}
	var stored []store.CheckIn
	if err := ts.store.CheckIns(ctx, "app-v1", 1, func(c store.CheckIn) bool { stored = append(stored, c); return true }); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].Venue != "v1" || stored[0].Flags != 0 {
		t.Fatalf("stored at app-v1: %+v; want one check-in at v1 without flags", stored)
	}

	// My visits.
	tab("visits")
	waitJS("the visit", `document.querySelector('#visits li.visit[data-venue="v1"]') !== null`)
	if got := eval(`document.querySelector('#visits li.visit[data-venue="v1"] .visit-venue').textContent`); got != v1.Name {
		t.Errorf("visit venue %q", got)
	}
	// The kiosk's scan of the pass from the screen is one of my visits too.
	if eval(`String(document.querySelector('#visits li.visit[data-venue="v2"]') !== null)`) != "true" {
		t.Errorf("the kiosk's check-in at v2 is not in my visits")
	}
	narrow("visits")
	shot("app-visits-ko.png")

	// A second scan of the same code, the location refused this time: no
	// fix is sent, and the answer is "already checked in".
	permission := func(setting browser.PermissionSetting) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: setting, Origin: base})
			return err
		})
	}
	step("location refused", permission(browser.PermissionSettingDenied))
	tab("scan")
	waitJS("the second scan's answer", `["duplicate", "accepted", "rejected"].includes(document.getElementById("result").dataset.result)`)
	if r := eval(`document.getElementById("result").dataset.result`); r != "duplicate" || text("result-title") != "이미 입장 확인되었습니다" {
		t.Errorf("second scan: %q %q %q", r, text("result-title"), text("result-text"))
	}
	shot("app-scan-duplicate-ko.png")
	if posts := proxy.checkIns(); len(posts) != 2 || posts[1]["lat"] != nil || posts[1]["lon"] != nil || posts[1]["accuracy"] != nil {
		t.Errorf("with the location refused the app sent %v", posts[len(posts)-1])
	}
	step("location allowed", permission(browser.PermissionSettingGranted))

	// A poster's code from a photo, with a fix in Seoul: accepted, flagged.
	step("far away", geo(37.5665, 126.9780, 15), chromedp.SendKeys(chromedp.ID("photo"), posterPhoto))
	waitJS("the poster's answer", `document.getElementById("result-venue").textContent === `+strconv.Quote(reg3.Name)+` && document.getElementById("result").dataset.result !== "sending"`)
	if r, flags := eval(`document.getElementById("result").dataset.result`), eval(`document.getElementById("result").dataset.flags`); r != "accepted" || !strings.Contains(flags, "suspect") {
		t.Errorf("far poster: %q flags %q %q", r, flags, text("result-text"))
	}
	shot("app-scan-flagged-ko.png")
	step("near again", geo(nearLat, nearLon, nearAcc))

	// Leaving without network: the exit scan is saved on the phone with
	// its time and sent when the network is back.
	// The last check-in was at a poster, whose code does not change: the
	// app leaves with it at once, without scanning again.
	step("offline exit", setOnline(false), chromedp.Click(chromedp.ID("exit")))
	waitJS("the exit saved", `document.getElementById("result").dataset.result === "queued"`)
	if got := eval(`JSON.parse(localStorage.getItem("anshim.queue")).map(q => q.exit + " " + (q.code === ` + strconv.Quote(poster3.Poster) + `) + " " + (q.scanned_at !== undefined)).join()`); got != "true true true" {
		t.Errorf("the offline queue holds %q", got)
	}
	if got := text("result-title"); got != "저장했습니다. 인터넷에 연결되면 보냅니다." {
		t.Errorf("offline scan says %q", got)
	}
	shot("app-scan-queued-ko.png")
	step("online, the queue sent", setOnline(true))
	waitJS("the exit sent", `localStorage.getItem("anshim.queue") === null && document.getElementById("result").dataset.result !== "queued"`)
	if r, title := eval(`document.getElementById("result").dataset.result`), text("result-title"); r != "exit" || title != "퇴장 기록되었습니다" {
		t.Errorf("the queued exit: %q %q %q", r, title, text("result-text"))
	}
	if got := text("flash"); got != "저장해 둔 출입 기록 1건을 보냈습니다." {
		t.Errorf("after sending the queue: %q", got)
	}
	if last := proxy.checkIns()[len(proxy.checkIns())-1]; last["exit"] != true || last["scanned_at"] == nil {
		t.Errorf("the queued exit was sent as %v", last)
	}
	stored = stored[:0]
	if err := ts.store.CheckIns(ctx, "app-v3", 1, func(c store.CheckIn) bool { stored = append(stored, c); return true }); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[0].Kind != checkin.Entry || stored[0].Flags&store.FlagSuspect == 0 || stored[1].Kind != checkin.Exit {
		t.Errorf("stored at app-v3 (the poster, then leaving): %+v", stored)
	}

	// An investigator's notice reaches the inbox.
	tok, err := ts.AddAPIToken(ctx, "kim.epi", "investigator")
	if err != nil {
		t.Fatal(err)
	}
	const caseRef = "JJ-2026-APP"
	if code := ts.bearer(t, tok.Token, "POST", "/v1/cases/"+caseRef+"/contacts", AddContactRequest{Pseudonym: hex.EncodeToString(p.Pseudonym[:]),
		Venue: "v1", Exposed: clock.Now().Add(-time.Hour), Degree: 1}, nil); code != 201 {
		t.Fatalf("add contact = %d", code)
	}
	if code := ts.bearer(t, tok.Token, "POST", "/v1/cases/"+caseRef+"/notify", nil, nil); code != 200 {
		t.Fatalf("notify = %d", code)
	}
	tab("inbox")
	waitJS("the notice", `document.querySelector("#notices li.notice-item") !== null || !document.getElementById("inbox-error").hidden`)
	apiMissing("GET /v1/app/inbox", "inbox-error")
	if got := eval(`document.getElementById("notices").textContent`); strings.Contains(got, caseRef) || !strings.Contains(got, v1.Name) {
		t.Errorf("the notice says %q: want the venue, not the case", got)
	}
	narrow("inbox")
	shot("app-inbox-ko.png")
	tab("settings")
	narrow("settings")
	shot("app-settings-ko.png")

	// English, kept after a reload; every screen again.
	step("English", chromedp.Click(chromedp.ID("lang")))
	waitJS("English", `document.documentElement.lang === "en" && document.getElementById("h-settings").textContent === "Settings"`)
	step("reload", chromedp.Reload())
	waitJS("still English", `document.body.dataset.ready === "1" && document.documentElement.lang === "en"`)
	for _, s := range []string{"pass", "visits", "inbox", "settings"} {
		tab(s)
		if s == "visits" {
			waitJS("visits in English", `document.querySelector("#visits li.visit") !== null`)
		}
		if s == "inbox" {
			waitJS("inbox in English", `document.querySelector("#notices li.notice-item") !== null`)
		}
		narrow(s + " in English")
		shot("app-" + s + "-en.png")
	}
	tab("scan")
	waitJS("a scan in English", `["duplicate", "accepted", "rejected"].includes(document.getElementById("result").dataset.result)`)
	if got := text("result-title"); got != "Already checked in" {
		t.Errorf("the scan in English says %q", got)
	}
	shot("app-scan-en.png")
	tab("settings")
	step("Korean", chromedp.Click(chromedp.ID("lang-ko")))
	waitJS("Korean", `document.documentElement.lang === "ko" && document.getElementById("h-settings").textContent === "설정"`)

	// Lost phone: the pass is revoked (on the kiosks' list), the session
	// ends; verifying the number again needs no name and gives a new pass.
	tab("pass")
	step("lost phone", chromedp.Click(chromedp.CSS("#lost summary")), chromedp.Click(chromedp.ID("revoke")),
		chromedp.WaitVisible(chromedp.ID("revoke-yes")))
	shot("app-pass-lost-ko.png")
	step("revoke", chromedp.Click(chromedp.ID("revoke-yes")))
	screen("phone")
	if got := text("flash"); got != "패스를 폐기했습니다. 다시 인증하시면 새 패스를 받습니다." {
		t.Errorf("after revoking: %q", got)
	}
	if revoked, err := ts.passRevoked(ctx, p.RevocationID()); err != nil || !revoked {
		t.Errorf("the revoked pass is not on the kiosks' revocation list: %v %v", revoked, err)
	}
	// The kiosk refuses the lost phone's pass within seconds (past its
	// debounce window, so that the answer is the revocation's).
	door.clock.Advance(11 * time.Minute)
	revokedAt := time.Now()
	for r := door.scan(t, read); r != feedback.Rejected; r = door.scan(t, read) {
		if time.Since(revokedAt) > 10*time.Second {
			t.Fatalf("the kiosk still answers %v to a revoked pass 10 s later\n%s", r, door.log.String())
		}
		door.clock.Advance(11 * time.Minute)
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the kiosk refused the revoked pass %s after the revoke", time.Since(revokedAt).Round(time.Millisecond))
	clock.Advance(time.Minute) // the number may have a new code (one per 30 s)
	step("verify again", chromedp.SendKeys(chromedp.ID("phone"), phone), chromedp.Click(chromedp.ID("phone-send")))
	screen("code")
	step("code again", chromedp.SendKeys(chromedp.ID("code"), lastCode(t, sink, e164)), chromedp.Click(chromedp.ID("code-verify")))
	screen("pass")
	waitJS("the new pass", `document.querySelector("#pass-qr svg path") !== null`)
	if got := eval(`document.getElementById("pass-qr").dataset.pass`); got == passText || !strings.HasPrefix(got, pass.Prefix) {
		t.Errorf("after verifying again the pass is %q", got)
	}
	renewed := eval(`document.getElementById("pass-qr").dataset.pass`)

	// Renewal: once the pass is past its renewal time the app asks for a
	// new one and shows it. (The central's clock moves past the time; the
	// phone's saved pass is made to say it is due, as months would.)
	var saved struct {
		RenewAfter time.Time `json:"renew_after"`
	}
	if err := json.Unmarshal([]byte(eval(`localStorage.getItem("anshim.pass")`)), &saved); err != nil || saved.RenewAfter.IsZero() {
		t.Fatalf("the saved pass has no renewal time: %v", err)
	}
	clock.Advance(saved.RenewAfter.Sub(clock.Now()) + time.Hour)
	eval(`(() => { const p = JSON.parse(localStorage.getItem("anshim.pass")); p.renew_after = new Date(Date.now() - 60000).toISOString(); localStorage.setItem("anshim.pass", JSON.stringify(p)); return ""; })()`)
	tab("visits")
	tab("pass")
	waitJS("the renewed pass", `document.getElementById("pass-qr").dataset.pass !== `+strconv.Quote(renewed))
	if got := eval(`document.getElementById("pass-qr").dataset.pass`); func() error {
		_, err := pass.NewVerifier(keys.PassKeys(), nil).Verify(got, clock.Now())
		return err
	}() != nil {
		t.Errorf("the renewed pass %q is not valid at the central's time", got)
	}
	tab("settings")

	// Delete the account: refused without the box, then done.
	step("delete without the box", chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("delete-error")))
	step("delete", chromedp.Click(chromedp.ID("delete-confirm")), chromedp.Click(chromedp.ID("delete")))
	screen("consent")
	if got := text("flash"); got != "계정을 삭제했습니다. 이용해 주셔서 감사합니다." {
		t.Errorf("after deleting: %q", got)
	}
	if _, err := ts.vault.Lookup(ctx, phone); err == nil {
		t.Error("the vault still finds the number after the account was deleted")
	}
	if got := eval(`String(localStorage.getItem("anshim.session") === null && localStorage.getItem("anshim.pass") === null)`); got != "true" {
		t.Error("the phone keeps the session or the pass after the account was deleted")
	}
	shot("app-deleted-ko.png")
	step("English again", chromedp.Click(chromedp.ID("lang")))
	waitJS("English consent", `document.getElementById("h-consent").textContent === "Getting started with Anshim Code"`)
	narrow("consent in English")
	shot("app-consent-en.png")
	step("consent in English", chromedp.Click(chromedp.ID("consent-agree")), chromedp.Click(chromedp.ID("consent-continue")))
	screen("phone")
	shot("app-phone-en.png")
	step("phone in English", chromedp.SendKeys(chromedp.ID("phone"), "+82 10 3456 7890"), chromedp.Click(chromedp.ID("phone-send")))
	screen("code")
	step("a wrong code", chromedp.SendKeys(chromedp.ID("code"), "000000"), chromedp.Click(chromedp.ID("code-verify")))
	waitJS("the wrong code refused", `document.getElementById("code-error").textContent !== ""`)
	if got := text("code-error"); !strings.HasPrefix(got, "That code is wrong.") && !strings.HasPrefix(got, "First time here") {
		t.Errorf("a wrong code in English: %q", got)
	}
	shot("app-code-en.png")

	mu.Lock()
	defer mu.Unlock()
	if len(browserErrors) > 0 {
		t.Errorf("the browser reported:\n%s", strings.Join(slices.Compact(browserErrors), "\n"))
	}
}

// pageState says which screen the app shows and its error messages, for
// a failure's message.
func pageState(ctx context.Context) string {
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](`(document.body.dataset.screen || "?") + " (phone " + JSON.stringify(document.getElementById("phone").value) + "): " +
		Array.from(document.querySelectorAll(".error:not([hidden]), #flash:not([hidden]), #result:not([hidden])")).map(e => e.id + "=" + e.textContent.trim()).join("; ")`))
	if err != nil {
		return err.Error()
	}
	return s
}

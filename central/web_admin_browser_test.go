package central

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/internal/browsertest"
	"github.com/anshim/anshim/pass"
	"github.com/anshim/anshim/sync/wire"
)

// Ensure, in a real headless Chromium against a real central, that an
// admin signs in, rejects an application with a reason, and that its
// owner, signed in, sees the reason; that the fleet page shows a kiosk
// that reported its status, as needing attention, its clock in Korean;
// that a visitor found by phone shows without their name until an
// audited reveal, and a card revoked there; and that decommissioning the
// kiosk closes its NATS connection. Screenshots go to
// $ANSHIM_SCREENSHOTS when set.
func TestAdminBrowser(t *testing.T) {
	browsertest.SkipShort(t)
	exe := browsertest.Chromium(t)
	ts := startServer(t)
	ctx := withAccount(context.Background(), fileAdmin)
	reg := registry.Registration{ID: "v-new-cafe", Name: "한라 카페", BusinessNumber: "220-81-62517", Address: "제주특별자치도 제주시 중앙로 1",
		Category: "cafe", Location: registry.Location{Lat: 33.4996, Lon: 126.5312}, OwnerPhone: "010-1234-5678"}
	if _, err := ts.RegisterVenue(ctx, reg); err != nil {
		t.Fatal(err)
	}
	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "admin browser password"
	for _, a := range []web.NewAccount{{Name: "lee.admin", Role: web.RoleAdmin, Phone: "010-1111-2222", Password: pw},
		{Name: "park.cafe", Role: web.RoleBusiness, Phone: "010-1234-5678", Password: pw, Venues: []string{"v-new-cafe"}}} {
		if _, err := wb.AddAccount(ctx, a, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	person, err := ts.vault.Register(ctx, "김민지", "010-9876-5432")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.vault.IssuePass(ctx, person.ID, pass.KindCard, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	k := ts.enroll(t, "v-fleet-1")
	nc, _ := k.connect(t, ts.NATSURL(), nats.MaxReconnects(0))
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	data, _ := wire.DeviceStatus{V: wire.StatusVersion, Sent: ts.clock.Now(), Clock: "unsynced", Backlog: 1234, Version: "test"}.Marshal()
	if err := nc.Publish(wire.StatusSubject(k.enr.Device), data); err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	dir := os.Getenv("ANSHIM_SCREENSHOTS")
	shot := func(bctx context.Context, name string, w, h int64) {
		t.Helper()
		if dir == "" {
			return
		}
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(w, h), chromedp.Sleep(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	actx := browsertest.Allocator(t, exe)
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 40*time.Second)
	defer cancel()
	base := ts.HTTPURL()
	do := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, bctx, actions...) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signIn := func(name string) {
		t.Helper()
		do(chromedp.Navigate(base+"/signin"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), name),
			chromedp.SendKeys(chromedp.ID("password"), pw),
			chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("form.signout")))
	}
	const reason = "사업자등록번호가 상호와 맞지 않습니다"
	do(chromedp.EmulateViewport(360, 740))
	signIn("lee.admin")
	do(chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if home := text("main"); !strings.Contains(home, "한라 카페") {
		t.Fatalf("the admin's home does not list the application: %q", home)
	}
	shot(bctx, "admin-home-ko-360.png", 360, 740)
	do(chromedp.Navigate(base+"/admin/venues/v-new-cafe"), chromedp.WaitVisible(chromedp.ID("reason")),
		chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.ID("do-rejected")),
		chromedp.WaitVisible(chromedp.ID("venue-reason")))
	if status := text("#venue-status"); status != "반려됨" {
		t.Fatalf("status after rejecting = %q", status)
	}
	shot(bctx, "admin-venue-ko-360.png", 360, 740)
	do(chromedp.Navigate(base+"/admin/fleet?attention=1"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if fleet := text("main"); !strings.Contains(fleet, k.enr.Device) || !strings.Contains(fleet, "1234") || !strings.Contains(fleet, "시계가 맞춰지지 않았습니다") {
		t.Fatalf("fleet page: %q", text("main"))
	}
	if clock := text("#kiosk-" + k.enr.Device + " td.clock"); clock != "맞춰지지 않음" {
		t.Fatalf("the fleet's clock = %q, want the catalogue's Korean", clock)
	}
	// The visitor: found by phone, the name hidden until an audited reveal.
	do(chromedp.Navigate(base+"/admin/people"), chromedp.WaitVisible(chromedp.ID("phone")),
		chromedp.SendKeys(chromedp.ID("phone"), "01098765432"),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("person-id")))
	if shown := text("main"); !strings.Contains(shown, person.ID) || strings.Contains(shown, "김민지") || strings.Contains(shown, "9876") {
		t.Fatalf("the person page before a reveal: %q", shown)
	}
	// Screenshots of the administration in both languages at both widths.
	for _, lang := range []string{"ko", "en"} {
		for _, w := range []int64{360, 1280} {
			for _, pg := range []struct{ name, path string }{{"home", "/admin"}, {"people", "/admin/people/" + person.ID}, {"fleet", "/admin/fleet"}} {
				if dir == "" {
					break
				}
				do(chromedp.EmulateViewport(w, 800), chromedp.Navigate(base+pg.path+"?lang="+lang), chromedp.WaitVisible(chromedp.CSS("main h1")))
				shot(bctx, "admin-"+pg.name+"-"+lang+"-"+strconv.FormatInt(w, 10)+".png", w, 800)
			}
		}
	}
	do(chromedp.EmulateViewport(360, 740), chromedp.Navigate(base+"/admin/people/"+person.ID+"?lang=ko"), chromedp.WaitVisible(chromedp.ID("case_ref")),
		chromedp.SendKeys(chromedp.ID("case_ref"), "JJ-2026-041"),
		chromedp.SendKeys(chromedp.ID("reveal-reason"), "밀접 접촉자 연락"),
		chromedp.Click(chromedp.ID("reveal")),
		chromedp.WaitVisible(chromedp.ID("identity-name")))
	if got := text("#identity-name"); got != "김민지" {
		t.Fatalf("revealed name = %q", got)
	}
	do(chromedp.Click(chromedp.ID("revoke-1")), chromedp.WaitVisible(chromedp.ID("revoked")))
	do(chromedp.Navigate(base+"/admin/fleet"), chromedp.WaitVisible(chromedp.CSS("main h1")),
		chromedp.Click(chromedp.CSS("#kiosk-"+k.enr.Device+" details.decommission summary")),
		chromedp.SendKeys(chromedp.ID("confirm-"+k.enr.Device), k.enr.Device),
		chromedp.Click(chromedp.CSS("#kiosk-"+k.enr.Device+" button.danger")),
		chromedp.WaitVisible(chromedp.CSS("#kiosk-"+k.enr.Device+" p.error")))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the decommissioned kiosk's NATS connection stayed open")
	}
	do(chromedp.Click(chromedp.CSS("form.signout button")), chromedp.WaitVisible(chromedp.CSS(`.top a[href="/signin"]`)))
	signIn("park.cafe")
	do(chromedp.Navigate(base+"/business/venues/v-new-cafe"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if shown := text("main"); !strings.Contains(shown, reason) {
		t.Fatalf("the owner's venue page does not show the reason: %q", shown)
	}
}

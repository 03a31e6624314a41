package central

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web"
	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/internal/browsertest"
	"github.com/anshim/anshim/notify"
)

// Ensure, in a real headless Chromium against a real central, that an
// investigator signs in and opens a case (phone, onset, degree 2) on a
// seeded scenario; that the contacts table and the per-venue summary
// hold what the trace API answers to the same question; that the graph
// tab's SVG draws one node per contact; that a reveal of one degree with
// a reason shows names; that the CSV, fetched in the browser's session,
// holds no identity and no formula cell left as a formula; and that a
// business account and an anonymous visitor are refused on every console
// route. Every tab fits 360 px; screenshots of the case's tabs in Korean
// and English at 360×740 and 1280×800 go to $ANSHIM_SCREENSHOTS when set.
func TestConsoleBrowser(t *testing.T) {
	browsertest.SkipShort(t)
	exe := browsertest.Chromium(t)
	ts := startServer(t)
	ctx := withAccount(context.Background(), fileAdmin)

	// The scenario: the case and two contacts at a cafe; one of them at a
	// gym the next evening with a second-degree contact. The gym's id
	// starts with "=": the CSV must not leave it a formula.
	type who struct{ name, phone string }
	people := map[string]who{"case": {"김확진", "010-1111-2222"}, "a": {"박접촉", "010-3333-4444"},
		"b": {"이접촉", "010-5555-6666"}, "d": {"최이차", "010-7777-8888"}}
	ids := map[string]string{}
	for k, p := range people {
		pp, err := ts.vault.Register(ctx, p.name, p.phone)
		if err != nil {
			t.Fatal(err)
		}
		ids[k] = pp.ID
	}
	for _, v := range []store.Venue{
		{ID: "v-cafe", Name: "한라카페", Address: "제주시 중앙로 1", Category: registry.Cafe, DefaultStay: 45},
		{ID: "=gym", Name: "=HYPERLINK(\"x\") 헬스", Address: "제주시 연동 2", Category: registry.Cafe, DefaultStay: 60},
	} {
		v.Created = ts.clock.Now()
		if err := ts.store.AddVenue(ctx, v); err != nil {
			t.Fatal(err)
		}
		if err := ts.store.AddDevice(ctx, store.Device{ID: "k-" + v.ID, Venue: v.ID, NKey: "UK" + strings.ToUpper(strings.Trim(v.ID, "=-v")), Enrolled: ts.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	kst := daykeys.KST
	ts.checkInAt(t, ids["case"], "v-cafe", 1, checkin.Entry, time.Date(2026, 3, 2, 10, 0, 0, 0, kst))
	ts.checkInAt(t, ids["a"], "v-cafe", 2, checkin.Entry, time.Date(2026, 3, 2, 10, 20, 0, 0, kst))
	ts.checkInAt(t, ids["b"], "v-cafe", 3, checkin.Entry, time.Date(2026, 3, 2, 10, 30, 0, 0, kst))
	ts.checkInAt(t, ids["a"], "=gym", 1, checkin.Entry, time.Date(2026, 3, 2, 13, 0, 0, 0, kst))
	ts.checkInAt(t, ids["d"], "=gym", 2, checkin.Entry, time.Date(2026, 3, 2, 13, 10, 0, 0, kst))

	invTok, err := os.ReadFile(filepath.Join(ts.cfg.DataOrDefault(), InvestigatorTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	var api TraceResponse
	if code, body := ts.traceCall(t, "POST", "/v1/traces", strings.TrimSpace(string(invTok)),
		TraceRequest{Phone: "010-1111-2222", Onset: "2026-03-03", Degree: 2, CaseRef: "JJ-2026-88"}, &api); code != http.StatusCreated {
		t.Fatalf("trace API: %d %s", code, body)
	}
	if api.Result == nil || len(api.Contacts) != 3 {
		t.Fatalf("the trace API found %+v, want the scenario's 3 contacts", api.Result)
	}
	wantDeg := map[string]string{}
	wantVenue := map[string]int{}
	deg2 := false
	for _, c := range api.Contacts {
		wantDeg[c.Ref] = strconv.Itoa(c.Degree)
		wantVenue[c.Venue]++
		deg2 = deg2 || c.Degree == 2
	}
	if !deg2 {
		t.Fatalf("the trace API found no second-degree contact: %+v", api.Contacts)
	}

	wb, err := web.New(ts.store, web.Options{Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "console browser password"
	for _, a := range []web.NewAccount{{Name: "kim.epi", Role: web.RoleInvestigator, Phone: "010-1111-3333", Password: pw},
		{Name: "park.cafe", Role: web.RoleBusiness, Phone: "010-1234-5678", Password: pw, Venues: []string{"v-cafe"}}} {
		if _, err := wb.AddAccount(ctx, a, "admin"); err != nil {
			t.Fatal(err)
		}
	}

	dir := os.Getenv("ANSHIM_SCREENSHOTS")
	actx := browsertest.Allocator(t, exe)
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 150*time.Second)
	defer cancel()
	base := ts.HTTPURL()
	do := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, bctx, actions...) }
	eval := func(js string) string { t.Helper(); return browsertest.Eval(t, bctx, js) }
	shot := func(name string, w, h int64) {
		t.Helper()
		do(chromedp.EmulateViewport(w, h))
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
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
	// status fetches path in the browser's session, without following a
	// redirect: the HTTP status (0 for a redirect the browser hides).
	status := func(method, path string) int {
		t.Helper()
		js := `fetch(` + strconv.Quote(path) + `, {method: ` + strconv.Quote(method) + `, redirect: "manual", body: ` +
			map[bool]string{true: `"x=1"`, false: "undefined"}[method == "POST"] + `}).then(r => String(r.type === "opaqueredirect" ? 303 : r.status))`
		n, _ := strconv.Atoi(eval(js))
		return n
	}

	t0 := time.Now()
	lap := func(what string) { t.Logf("%s: %v", what, time.Since(t0).Round(time.Millisecond)) }
	do(chromedp.EmulateViewport(1280, 800))
	signIn("kim.epi")
	lap("signed in")
	do(chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.ID("open-case")),
		chromedp.SendKeys(chromedp.ID("case_ref"), "JJ-2026-88"),
		chromedp.SendKeys(chromedp.ID("phone"), "010 1111 2222"),
		chromedp.SetValue(chromedp.ID("onset"), "2026-03-03"),
		chromedp.SetValue(chromedp.ID("degree"), "2"),
		chromedp.Click(chromedp.ID("open")),
		chromedp.WaitVisible(chromedp.ID("case-ref")))
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/console/cases/(\d+)`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after opening the case the browser is at %s", loc)
	}
	casePath := m[0]

	// The contacts table: the trace API's refs and degrees, no identity.
	rows := eval(`Array.from(document.querySelectorAll("#contacts tr.contact")).map(r => r.dataset.ref + ":" + r.querySelector("td.degree").textContent.trim()).join(",")`)
	var want []string
	for _, c := range api.Contacts {
		want = append(want, c.Ref+":"+wantDeg[c.Ref])
	}
	if rows != strings.Join(want, ",") {
		t.Errorf("the contacts table has %q, the trace API %q", rows, strings.Join(want, ","))
	}
	if n := eval(`document.getElementById("contact-count").textContent.trim()`); n != "3" {
		t.Errorf("the case shows %s contacts, want 3", n)
	}
	main := eval(`document.querySelector("main").innerText`)
	for _, p := range people {
		if p.name != "김확진" && (strings.Contains(main, p.name) || strings.Contains(main, p.phone[4:8])) {
			t.Fatalf("the contacts table shows %s before a reveal", p.name)
		}
	}
	// Every tab fits a phone's width; screenshots of each in both
	// languages at both sizes when $ANSHIM_SCREENSHOTS is set.
	tabs := []string{"contacts", "venues", "graph", "timeline"}
	for _, tab := range tabs {
		do(chromedp.EmulateViewport(360, 740), chromedp.Navigate(base+casePath+"?tab="+tab), chromedp.WaitVisible(chromedp.ID("case-ref")))
		if w := eval(`String(document.documentElement.scrollWidth)`); w != "360" {
			t.Errorf("the %s tab is %s px wide at 360", tab, w)
		}
	}
	if dir != "" {
		for _, lang := range []string{"en", "ko"} { // and back to Korean
			for _, tab := range tabs {
				for _, sz := range [][2]int64{{360, 740}, {1280, 800}} {
					do(chromedp.EmulateViewport(sz[0], sz[1]), chromedp.Navigate(base+casePath+"?tab="+tab+"&lang="+lang), chromedp.WaitVisible(chromedp.ID("case-ref")))
					shot("console-"+tab+"-"+lang+"-"+strconv.FormatInt(sz[0], 10)+".png", sz[0], sz[1])
				}
			}
		}
	}
	lap("tabs")

	// The per-venue summary: the API's count of contacts at each venue.
	do(chromedp.Navigate(base+casePath+"?tab=venues"), chromedp.WaitVisible(chromedp.ID("venues")))
	got := eval(`Array.from(document.querySelectorAll("#venues tr.venue-row")).filter(r => r.querySelector("td.count").textContent.trim() !== "0").map(r => r.dataset.venue + "=" + r.querySelector("td.count").textContent.trim()).sort().join(",")`)
	var wv []string
	for v, n := range wantVenue {
		wv = append(wv, v+"="+strconv.Itoa(n))
	}
	if sortJoin(wv) != got {
		t.Errorf("the per-venue summary has %q, the trace API %q", got, sortJoin(wv))
	}

	// The graph: one contact node per contact, titled by its ref.
	do(chromedp.Navigate(base+casePath+"?tab=graph"), chromedp.WaitVisible(chromedp.CSS("svg.tracegraph")))
	if n := eval(`String(document.querySelectorAll("svg.tracegraph circle.node.contact").length)`); n != "3" {
		t.Errorf("the graph draws %s contact nodes, want 3", n)
	}
	if n := eval(`String(document.querySelectorAll("svg.tracegraph circle.node.case").length)`); n != "1" {
		t.Errorf("the graph draws %s case nodes, want 1", n)
	}
	if w := eval(`String(document.querySelector("svg.tracegraph").getBoundingClientRect().width > 0)`); w != "true" {
		t.Error("the graph is not drawn")
	}

	// A reveal of the second degree: its name shows, the others stay hidden.
	do(chromedp.Navigate(base+casePath+"?tab=contacts"), chromedp.WaitVisible(chromedp.ID("reveal-form")),
		chromedp.SetValue(chromedp.ID("reveal-set"), "d2"),
		chromedp.SendKeys(chromedp.ID("reveal-reason"), "2차 접촉자 연락"),
		chromedp.Click(chromedp.ID("reveal")),
		chromedp.WaitVisible(chromedp.ID("revealed")))
	main = eval(`document.querySelector("main").innerText`)
	if !strings.Contains(main, "최이차") || !strings.Contains(main, "77778888") {
		t.Errorf("the reveal of degree 2 does not show 최이차: %q", main)
	}
	if strings.Contains(main, "박접촉") || strings.Contains(main, "이접촉") {
		t.Error("the reveal of degree 2 shows a first-degree contact")
	}

	// The CSV, fetched in the browser's session: the contacts, no
	// identity, no cell a spreadsheet would run as a formula.
	href := eval(`document.getElementById("csv").getAttribute("href")`)
	body := eval(`fetch(` + strconv.Quote(href) + `).then(r => r.status === 200 ? r.text() : "status " + r.status)`)
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("CSV (%v): %q", err, body)
	}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %q is left a formula", cell)
			}
		}
	}
	if !strings.Contains(body, "'=gym") {
		t.Errorf("the CSV lacks the gym, neutralised: %q", body)
	}
	for _, p := range people {
		if strings.Contains(body, p.name) || strings.Contains(body, p.phone) || strings.Contains(body, strings.ReplaceAll(p.phone, "-", "")) {
			t.Errorf("the CSV holds %s's identity", p.name)
		}
	}

	lap("csv")

	// The printable report: the graph, one node per contact, fits an A4
	// page under the print stylesheet (190 × 277 mm inside 1 cm margins,
	// at 96 CSS px an inch); the report printed to an A4 PDF, its pages as
	// PNGs, go to the screenshots.
	do(chromedp.Navigate(base+casePath+"/report"), chromedp.WaitVisible(chromedp.CSS(".report-graph svg.tracegraph")))
	if n := eval(`String(document.querySelectorAll(".report-graph svg.tracegraph circle.node.contact").length)`); n != "3" {
		t.Errorf("the report's graph draws %s contact nodes, want 3", n)
	}
	const a4w, a4h = 718, 1047 // 190 mm, 277 mm
	do(chromedp.EmulateViewport(a4w, a4h), media("print"))
	box := eval(`(() => { const r = document.querySelector(".report-graph svg.tracegraph").getBoundingClientRect(), s = document.querySelector(".report-graph").getBoundingClientRect(); return [r.width, r.height, s.height].map(Math.round).join(" "); })()`)
	var gw, gh, sh int
	if _, err := fmt.Sscan(box, &gw, &gh, &sh); err != nil || gw == 0 || gw > a4w || gh > a4h || sh > a4h {
		t.Errorf("the report's graph prints %s px (graph width, height; section height), want within an A4 page's %d × %d", box, a4w, a4h)
	}
	// A graph ten times this one's size (a large trace) still fits: the
	// print stylesheet scales it down, keeping its shape.
	big := eval(`(() => { const g = document.querySelector(".report-graph svg.tracegraph"), w = g.width.baseVal.value, h = g.height.baseVal.value; g.setAttribute("width", w * 10); g.setAttribute("height", h * 10); const r = g.getBoundingClientRect(), s = document.querySelector(".report-graph").getBoundingClientRect(); return [r.width, r.height, s.height, Math.round(1000 * (r.width / r.height) / (w / h))].map(Math.round).join(" "); })()`)
	var ratio int
	if _, err := fmt.Sscan(big, &gw, &gh, &sh, &ratio); err != nil || gw > a4w || gh > a4h || sh > a4h || ratio < 990 || ratio > 1010 {
		t.Errorf("a 10× graph prints %s px (width, height, section height, shape ‰ of the drawing's), want within %d × %d and its shape", big, a4w, a4h)
	}
	if hidden := eval(`String(getComputedStyle(document.querySelector(".top")).display)`); hidden != "none" {
		t.Errorf("the report prints the page's header (display %s)", hidden)
	}
	do(media(""))
	if dir != "" {
		pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
		if err != nil {
			t.Fatal(err)
		}
		printPages(t, pdf, filepath.Join(dir, "console-report-print"))
		for _, lang := range []string{"en", "ko"} {
			do(chromedp.Navigate(base+casePath+"/report?lang="+lang), chromedp.WaitVisible(chromedp.ID("case-report")))
			shot("console-report-"+lang+"-1280.png", 1280, 800)
		}
	}
	lap("report")

	// Follow-up, clicked through: the second-degree contact under
	// follow-up, notified (the notify sink), tested, then positive with a
	// new case reference: the linked case opens, and the first case's row
	// links to it.
	do(chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+casePath+"?tab=contacts"), chromedp.WaitVisible(chromedp.ID("followup-add")),
		chromedp.SetValue(chromedp.ID("followup-set"), "d2"),
		chromedp.Click(chromedp.ID("followup-add-submit")),
		chromedp.WaitVisible(chromedp.ID("followup-done")))
	key := eval(`Array.from(document.querySelectorAll("#followups tr.followup")).map(r => r.dataset.key + ":" + r.dataset.status).join(",")`)
	key, st, _ := strings.Cut(key, ":")
	if len(key) != 32 || st != "to-notify" {
		t.Fatalf("follow-up rows %q, want the one second-degree contact to notify", key+":"+st)
	}
	row := `#followups tr.followup[data-key="` + key + `"]`
	rowStatus := func() string { return eval(`document.querySelector(` + strconv.Quote(row) + `).dataset.status`) }
	ts.clock.Advance(time.Minute)
	do(chromedp.Click(chromedp.CSS(row+` input[name="contact"]`)),
		chromedp.Click(chromedp.ID("notify-selected")),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-status="notified"]`)))
	if recs, err := notify.ReadSink(filepath.Join(ts.cfg.DataOrDefault(), NotifyFile)); err != nil || len(recs) != 1 || recs[0].To != "+821077778888" {
		t.Errorf("the notify sink holds %+v (%v), want one message to the second-degree contact", recs, err)
	}
	if dir != "" {
		for _, lang := range []string{"en", "ko"} {
			do(chromedp.Navigate(base+casePath+"?tab=contacts&lang="+lang+"#followup"), chromedp.WaitVisible(chromedp.ID("followups")))
			shot("console-followup-"+lang+"-1280.png", 1280, 800)
			shot("console-followup-"+lang+"-360.png", 360, 740)
		}
		do(chromedp.EmulateViewport(1280, 800))
	}
	ts.clock.Advance(time.Hour)
	do(chromedp.Navigate(base+casePath+"?tab=contacts"), chromedp.WaitVisible(chromedp.CSS(row+" form.move")),
		chromedp.SetValue(chromedp.CSS(row+` form.move select`), "tested"),
		chromedp.Click(chromedp.CSS(row+` form.move button`)),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-status="tested"]`)))
	ts.clock.Advance(time.Hour)
	do(chromedp.SetValue(chromedp.CSS(row+` form.move select`), "positive"),
		chromedp.SendKeys(chromedp.CSS(row+` form.move input[name="new_case"]`), "JJ-2026-89"),
		chromedp.Click(chromedp.CSS(row+` form.move button`)),
		chromedp.WaitVisible(chromedp.ID("from-case")))
	if ref := eval(`document.getElementById("case-ref").textContent.trim()`); ref != "JJ-2026-89" {
		t.Fatalf("after the positive test the browser shows case %q, want the new JJ-2026-89", ref)
	}
	if back := eval(`document.querySelector("#from-case a").getAttribute("href")`); back != casePath {
		t.Errorf("the new case links back to %q, want %q", back, casePath)
	}
	do(chromedp.Navigate(base+casePath+"?tab=contacts"), chromedp.WaitVisible(chromedp.CSS(row+`[data-status="positive"]`)))
	if st := rowStatus(); st != "positive" {
		t.Errorf("the contact's follow-up is %q, want positive", st)
	}
	do(chromedp.Click(chromedp.CSS(row+` td.fstatus a`)), chromedp.WaitVisible(chromedp.ID("from-case")))
	if ref := eval(`document.getElementById("case-ref").textContent.trim()`); ref != "JJ-2026-89" {
		t.Errorf("the follow-up's link opens case %q, want JJ-2026-89", ref)
	}
	do(chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.ID("followup-list")))
	if home := eval(`document.querySelector("main").innerText`); !strings.Contains(home, "JJ-2026-89") || !strings.Contains(home, "JJ-2026-88") {
		t.Errorf("/console lacks the linked cases: %q", home)
	}
	if dir != "" {
		for _, lang := range []string{"en", "ko"} {
			for _, sz := range [][2]int64{{360, 740}, {1280, 800}} {
				do(chromedp.EmulateViewport(sz[0], sz[1]), chromedp.Navigate(base+"/console?lang="+lang), chromedp.WaitVisible(chromedp.ID("followup-list")))
				shot("console-home-"+lang+"-"+strconv.FormatInt(sz[0], 10)+".png", sz[0], sz[1])
			}
		}
		do(chromedp.EmulateViewport(1280, 800))
	}
	lap("follow-up")

	// Every console route refused to a business account and to nobody.
	var routes []web.Route
	for _, rt := range web.Routes() {
		if strings.HasPrefix(rt.Pattern, "/console") {
			routes = append(routes, rt)
		}
	}
	if len(routes) < 7 {
		t.Fatalf("%d console routes", len(routes))
	}
	path := func(rt web.Route) string { return strings.ReplaceAll(rt.Pattern, "{id}", m[1]) }
	refused := func(as string, allowed func(rt web.Route, code int) bool) {
		t.Helper()
		for _, rt := range routes {
			if code := status(rt.Method, path(rt)); !allowed(rt, code) {
				t.Errorf("%s: %s %s = %d, want refused", as, rt.Method, path(rt), code)
			}
		}
	}
	do(chromedp.Click(chromedp.CSS("form.signout button")), chromedp.WaitVisible(chromedp.CSS(`.top a[href="/signin"]`)))
	refused("anonymous", func(rt web.Route, code int) bool {
		if rt.Method == "GET" {
			return code == http.StatusSeeOther // to the sign-in page
		}
		return code == http.StatusUnauthorized || code == http.StatusForbidden
	})
	signIn("park.cafe")
	refused("business", func(rt web.Route, code int) bool { return code == http.StatusForbidden })
}

func sortJoin(s []string) string {
	s = append([]string(nil), s...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return strings.Join(s, ",")
}

// media emulates the CSS media type ("print"; "" ends the emulation).
func media(m string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return chromedp.Void{}, err
	}
}

// printPages renders a printed PDF's pages with pdftoppm to
// prefix-N.png, to look at (skipped without pdftoppm).
func printPages(t *testing.T, pdf []byte, prefix string) {
	t.Helper()
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Log("pdftoppm not installed (make deps): no PNGs of the printed report")
		return
	}
	in := prefix + ".pdf"
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-r", "60", "-png", in, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
}

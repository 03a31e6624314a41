package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/anshim/anshim/central/store"
)

// chromium returns the path of Debian's Chromium. Without it the test is
// skipped on a developer's machine, and fails under CI (CI or
// ANSHIM_REQUIRE_BROWSER set), where 'make deps' installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("ANSHIM_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium is not installed: the browser test cannot run (make deps installs it: apt-get install chromium)")
	}
	t.Skip("chromium is not installed (make deps); set ANSHIM_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// screenshotDir is where the browser test writes its screenshots:
// $ANSHIM_SCREENSHOTS, or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("ANSHIM_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// Ensure, in a real headless Chromium, that the landing page renders in
// Korean with the embedded font loaded, at 360 px without horizontal
// scrolling and on a desktop; that the language switch turns it English;
// that an investigator signs in and reaches the console; and that no
// page breaks the Content-Security-Policy. Screenshots are written for a
// person to look at.
func TestBrowser(t *testing.T) {
	if testing.Short() && os.Getenv("ANSHIM_REQUIRE_BROWSER") == "" {
		t.Skip("the browser test starts Chromium (-short)")
	}
	exe := chromium(t)
	s := newSite(t, Options{})
	dir := screenshotDir(t)
	// A checkpoint for the landing page to show (the ledger's own tests
	// cover signing it).
	cp := store.Checkpoint{Size: 1284, Time: s.clock.Now().Add(-10 * time.Second), Note: []byte("jeju/anshim\n1284\n\n")}
	if err := s.st.AddCheckpoint(context.Background(), cp); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var browserErrors []string
	listen := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if strings.Contains(ev.Entry.Text, "Content Security Policy") || ev.Entry.Level == cdplog.EntryLevelError {
				browserErrors = append(browserErrors, ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			browserErrors = append(browserErrors, ev.ExceptionDetails.Text)
		}
	})
	if listen != nil {
		t.Fatal(listen)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	})); err != nil {
		t.Fatal(err)
	}

	shot := func(name string, w, h int64) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", p)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(s.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	); err != nil {
		t.Fatal(err)
	}
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil {
		t.Fatal(err)
	}
	if ledger := text("section.ledger"); !strings.Contains(ledger, "1284개") || !strings.Contains(ledger, "2026-11-26 17:59 KST") {
		t.Errorf("the landing page's ledger section %q lacks the checkpoint's size and KST time", ledger)
	}
	if h1 := text("h1"); lang != "ko" || !strings.Contains(h1, "인터넷이 끊겨도") {
		t.Errorf("landing page: lang %q, h1 %q; want Korean", lang, h1)
	}
	// The embedded font, not a system one: the machine may have no CJK
	// font at all, and Korean would render as tofu.
	fonts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.fonts.ready.then(() =>
		[...document.fonts].filter(f => f.family.includes('Noto Sans KR') && f.status === 'loaded').length)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if fonts < 2 {
		t.Errorf("the page loaded %d Noto Sans KR faces, want the Hangul and Latin ones at least", fonts)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 360 {
		t.Errorf("at 360 px the page is %d px wide: it scrolls sideways", width)
	}
	shot("landing-ko-360.png", 360, 740)
	shot("landing-ko-1280.png", 1280, 800)

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("a.lang")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] h1`)),
	); err != nil {
		t.Fatal(err)
	}
	if h1 := text("h1"); !strings.Contains(h1, "Safe venue check-ins") {
		t.Errorf("after the switch h1 = %q, want English", h1)
	}
	shot("landing-en-1280.png", 1280, 800)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.srv.URL+"/signin"),
		chromedp.WaitVisible(chromedp.ID("name")),
	); err != nil {
		t.Fatal(err)
	}
	shot("signin-en-360.png", 360, 740)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("name"), "kim.jiwoo"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form.form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("form.signout")),
	); err != nil {
		t.Fatal(err)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if body := text("main"); !strings.HasSuffix(url, "/console") || !strings.Contains(body, "Investigators' console") {
		t.Errorf("after sign-in: %s with %q; want the console in English (the language remembered)", url, body)
	}
	shot("console-en-360.png", 360, 740)
	mu.Lock()
	defer mu.Unlock()
	if len(browserErrors) > 0 {
		t.Errorf("the browser reported errors: %q", browserErrors)
	}
}

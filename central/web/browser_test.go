package web

import (
	"context"
	"os"
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
	"github.com/anshim/anshim/internal/browsertest"
)

// Ensure, in a real headless Chromium, that the landing page renders in
// Korean with the embedded font loaded, at 360 px without horizontal
// scrolling and on a desktop; that the language switch turns it English;
// that an investigator signs in and reaches the console; and that no
// page breaks the Content-Security-Policy. Screenshots are written for a
// person to look at.
func TestBrowser(t *testing.T) {
	browsertest.SkipShort(t)
	exe := browsertest.Chromium(t)
	s := newSite(t, Options{})
	dir := browsertest.ScreenshotDir(t)
	// A checkpoint for the landing page to show (the ledger's own tests
	// cover signing it).
	cp := store.Checkpoint{Size: 1284, Time: s.clock.Now().Add(-10 * time.Second), Note: []byte("jeju/anshim\n1284\n\n")}
	if err := s.st.AddCheckpoint(context.Background(), cp); err != nil {
		t.Fatal(err)
	}

	actx := browsertest.Allocator(t, exe)
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

// Package browsertest starts Debian's Chromium, headless, for the tests
// that drive the web's pages with chromedp: one place for finding the
// browser, for skipping (a developer's machine without it) or failing
// (CI, where 'make deps' installs it), and for the flags this machine
// needs.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Required reports whether a missing browser is a failure: under CI, or
// with ANSHIM_REQUIRE_BROWSER set (make test sets it).
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("ANSHIM_REQUIRE_BROWSER") != ""
}

// SkipShort skips a browser test under -short unless a browser is
// required.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() && !Required() {
		t.Skip("the browser test starts Chromium (-short)")
	}
}

// Chromium returns the path of Debian's Chromium. Without it the test is
// skipped, or fails when a browser is required (Required).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if Required() {
		t.Fatal("chromium is not installed: the browser test cannot run (make deps installs it: apt-get install chromium)")
	}
	t.Skip("chromium is not installed (make deps); set ANSHIM_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// Flags are the options of every test browser: headless in a fresh
// profile, without the sandbox (tests run as root) or the GPU, and
// without the background traffic a closed network refuses.
func Flags(exe, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
	}
}

// Allocator returns the allocator context of a new test browser (exe,
// from Chromium) in a temporary profile; it is stopped when the test
// ends. extra options come after the defaults.
func Allocator(t testing.TB, exe string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(Flags(exe, t.TempDir()), extra...)...)
	t.Cleanup(cancel)
	return actx
}

// ScreenshotDir is where a browser test writes its screenshots:
// $ANSHIM_SCREENSHOTS (made if missing), or the test's temporary
// directory.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ANSHIM_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// Do runs actions in the browser context ctx and fails t on an error.
func Do(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// Eval evaluates js in the page of ctx (awaiting a promise) and returns
// its string value; it fails t on an error.
func Eval(t testing.TB, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

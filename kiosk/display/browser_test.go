package display

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/anshim/anshim/internal/browsertest"
	"github.com/anshim/anshim/venuecode"
)

// noCJKFonts writes a fontconfig configuration with no font for Korean,
// as on a stock kiosk image without fonts-noto-cjk or fonts-nanum: an
// empty directory, and Debian's DejaVu (Latin, Greek, Cyrillic: no
// Hangul) when installed, since Chromium lays out no text at all without
// a single system font. fc-list (when installed) checks that it offers
// nothing for Korean.
func noCJKFonts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fonts"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "fonts.conf")
	xml := fmt.Sprintf(`<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>%s</dir><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>%s</cachedir></fontconfig>
`, filepath.Join(dir, "fonts"), filepath.Join(dir, "cache"))
	if err := os.WriteFile(conf, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	if fc, err := exec.LookPath("fc-list"); err == nil {
		cmd := exec.Command(fc, ":lang=ko")
		cmd.Env = append(os.Environ(), "FONTCONFIG_FILE="+conf)
		if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "" {
			t.Fatalf("the fontconfig without CJK fonts offers Korean fonts (%v):\n%s", err, out)
		}
	}
	return conf
}

// fontLog records the font files the page's server served.
type fontLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *fontLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/fonts/") && strings.HasSuffix(r.URL.Path, ".woff2") {
			l.mu.Lock()
			l.paths = append(l.paths, r.URL.Path)
			l.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (l *fontLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.paths)
}

// glyphs is what the page's Korean looks like in the browser.
type glyphs struct {
	Loaded  []string `json:"loaded"`  // families of the FontFaces loaded
	Check   bool     `json:"check"`   // document.fonts.check of the headline in the carried face
	Carried float64  `json:"carried"` // width of the no-app line in the carried face
	Missing float64  `json:"missing"` // the same text in a font that does not exist
	Font    string   `json:"font"`    // the headline's computed font-family
}

// measure waits for the page's fonts and measures its Korean text.
const measure = `(async () => {
  await document.fonts.ready;
  const text = document.getElementById("noapp-ko").textContent || document.getElementById("ko").textContent;
  const width = (family) => {
    const s = document.createElement("span");
    s.textContent = text;
    s.style.fontFamily = family;
    s.style.fontSize = "32px";
    s.style.position = "absolute";
    s.style.whiteSpace = "nowrap";
    document.body.appendChild(s);
    const w = s.getBoundingClientRect().width;
    s.remove();
    return w;
  };
  const carried = width('"Noto Sans KR"');
  await document.fonts.ready;
  const loaded = [];
  document.fonts.forEach((f) => { if (f.status === "loaded") loaded.push(f.family); });
  return {
    loaded: loaded,
    check: document.fonts.check('32px "Noto Sans KR"', document.getElementById("venue").textContent),
    carried: width('"Noto Sans KR"'),
    missing: width('"No Such Font Anshim", monospace'),
    font: getComputedStyle(document.getElementById("venue")).fontFamily,
  };
})()`

// Ensure that the display page shows Korean in Chromium on a machine
// without any CJK font: the page carries Noto Sans KR, loaded from the
// display's own server (font files requested from it, FontFaces loaded,
// the Korean line measured wider in it than in a missing font's
// fallback, which draws boxes), in display and reader mode, at 360 px
// and at a 1280×800 kiosk screen; and that the script moves the page to
// the next period's code. Screenshots in browsertest.ScreenshotDir.
func TestDisplay_Browser(t *testing.T) {
	browsertest.SkipShort(t)
	exe := browsertest.Chromium(t)
	conf := noCJKFonts(t)

	// The first request (the page) sees period P half a second before its
	// end; every later one (the script's fetch) period P+1, unless the
	// clock is untrusted.
	t0 := time.Date(2026, 3, 2, 9, 0, 29, 500_000_000, time.UTC)
	var mu sync.Mutex
	calls, trusted := 0, true
	clock := func() (time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return t0, trusted
		}
		return t0.Add(time.Second), trusted
	}
	pub, key, _ := ed25519.GenerateKey(nil)
	d, err := New(Config{Device: "k-0123456789abcdef", Venue: "jeju-cafe-1", Key: key, Clock: clock,
		VenueInfo: func() (string, string) { return "제주 돌하르방 카페", "cafe" }})
	if err != nil {
		t.Fatal(err)
	}
	fonts := new(fontLog)
	srv := httptest.NewServer(fonts.wrap(d.Handler()))
	defer srv.Close()

	actx := browsertest.Allocator(t, exe, chromedp.Env("FONTCONFIG_FILE="+conf))
	shots := browsertest.ScreenshotDir(t)
	for _, tc := range []struct {
		name          string
		trusted       bool
		width, height int64
		want          []string
	}{
		{"display-360", true, 360, 740, []string{"제주 돌하르방 카페", "카페", "앱이 없으시면 안심 카드를 스캐너에 보여주세요"}},
		{"display-1280", true, 1280, 800, []string{"제주 돌하르방 카페", "No app? Show your Anshim card to the scanner."}},
		{"reader-360", false, 360, 740, []string{"제주 돌하르방 카페", "안심 패스(앱의 QR 코드)나 안심 카드를 스캐너에 보여주세요.", "Show your pass or card to the scanner."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			calls, trusted = 0, tc.trusted
			mu.Unlock()
			before := fonts.count()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			ctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
			defer cancel2()
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(tc.width, tc.height), chromedp.Navigate(srv.URL+"/"),
				chromedp.WaitVisible(chromedp.ID("venue"))); err != nil {
				t.Fatal(err)
			}
			g, err := chromedp.Run(ctx, chromedp.Evaluate[glyphs](measure, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			if err != nil {
				t.Fatal(err)
			}
			mode, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.mode`))
			if err != nil {
				t.Fatal(err)
			}
			// A kiosk screen does not scroll: everything fits.
			if over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollHeight > innerHeight || document.documentElement.scrollWidth > innerWidth`)); err != nil || over {
				t.Errorf("the page does not fit %d×%d (%v)", tc.width, tc.height, err)
			}
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(shots, "kiosk-display-"+tc.name+".png")
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s; fonts %+v", file, g)
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q:\n%s", w, body)
				}
			}
			if want := map[bool]string{true: ModeDisplay, false: ModeReader}[tc.trusted]; mode != want {
				t.Errorf("mode %q, want %q", mode, want)
			}
			if fonts.count() == before && tc.name == "display-360" {
				t.Error("no font file was fetched from the display's server")
			}
			if len(g.Loaded) == 0 || !strings.Contains(strings.Join(g.Loaded, ","), "Noto Sans KR") || !g.Check {
				t.Errorf("the carried face is not loaded for the headline: %+v", g)
			}
			// Noto Sans KR draws Hangul a full em wide; without a CJK font
			// the fallback draws narrower boxes (or nothing).
			if g.Carried <= 0 || g.Missing <= 0 || g.Carried < 1.1*g.Missing && g.Carried > 0.9*g.Missing {
				t.Errorf("the Korean line is %.1f px in the carried face and %.1f px in a missing one: not told apart", g.Carried, g.Missing)
			}
			if !strings.HasPrefix(g.Font, `"Noto Sans KR"`) {
				t.Errorf("headline font %q", g.Font)
			}
		})
	}

	// The script asks /code.json when the period ends and draws the next
	// code.
	t.Run("refresh", func(t *testing.T) {
		mu.Lock()
		calls, trusted = 0, true
		mu.Unlock()
		ctx, cancel := chromedp.NewContext(actx)
		defer cancel()
		ctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
		defer cancel2()
		next := venuecode.PeriodOf(t0.Add(time.Second), DefaultPeriod)
		err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS(`body[data-period="`+strconv.FormatUint(next, 10)+`"]`)))
		if err != nil {
			t.Fatalf("the page did not move to period %d: %v", next, err)
		}
		// The code it draws is the device's, of that period.
		st, _ := d.Current()
		if c, err := venuecode.VerifyDisplay(pub, st.Code); err != nil || c.Period != next {
			t.Errorf("code of period %d: %+v, %v", next, c, err)
		}
	})
}

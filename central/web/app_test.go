package web

import (
	"encoding/json"
	"fmt"
	"image/png"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/anshim/anshim/central/web/locale"
)

// Ensure that the app's shell, manifest and service worker are served with
// their content types and cache headers, the worker with the scope it is
// registered with allowed and the app's version put in, and the shell
// with the consent version and the app.* messages of both languages.
func TestAppFiles(t *testing.T) {
	s := newSite(t, Options{})
	c := s.client()
	tests := []struct {
		path, ctype, cache string
		headers            map[string]string
		has, hasNot        []string
	}{
		{path: "/app", ctype: "text/html; charset=utf-8", cache: "no-cache, private",
			has: []string{`<script type="module" src="/static/app/app.js"></script>`, `rel="manifest" href="/app/manifest.webmanifest"`,
				`data-consent="` + AppConsentVersion + `"`, `id="s-pass"`, `id="s-scan"`, `&#34;app.pass.title&#34;`, `Getting started with Anshim Code`}},
		{path: "/app?lang=en", ctype: "text/html; charset=utf-8", has: []string{`<html lang="en">`, `>Getting started with Anshim Code</h1>`}},
		{path: "/app/manifest.webmanifest", ctype: "application/manifest+json", cache: "public, max-age=3600", has: []string{`"start_url": "/app"`}},
		{path: "/app/sw.js", ctype: "text/javascript; charset=utf-8", cache: "no-cache",
			headers: map[string]string{"Service-Worker-Allowed": AppServiceWorkerScope},
			has:     []string{`const VERSION = "` + appInfo().version + `"`}, hasNot: []string{"__APP_VERSION__"}},
		{path: "/static/app/app.js", ctype: "text/javascript; charset=utf-8", cache: "public, max-age=86400"},
		{path: "/static/app/vendor/qrcode.min.mjs", ctype: "text/javascript; charset=utf-8"},
		{path: "/static/app/icon-192.png", ctype: "image/png"},
	}
	for _, tc := range tests {
		resp, body := s.get(c, tc.path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", tc.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if got := resp.Header.Get("Cache-Control"); tc.cache != "" && got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.cache)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("GET %s: CSP %q", tc.path, got)
		}
		for h, want := range tc.headers {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("GET %s: %s %q, want %q", tc.path, h, got, want)
			}
		}
		for _, want := range tc.has {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %q", tc.path, want)
			}
		}
		for _, bad := range tc.hasNot {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s has %q", tc.path, bad)
			}
		}
	}
	if len(appInfo().version) != 12 {
		t.Errorf("app version %q", appInfo().version)
	}
}

// Ensure that the manifest is what an install needs (name 안심코드,
// start_url and scope /app, standalone, a theme colour) and that each of
// its icons exists as a PNG of its stated size, one of them maskable.
func TestAppManifest(t *testing.T) {
	b, err := staticFiles.ReadFile("static/app/manifest.webmanifest")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name       string `json:"name"`
		StartURL   string `json:"start_url"`
		Scope      string `json:"scope"`
		Display    string `json:"display"`
		ThemeColor string `json:"theme_color"`
		Icons      []struct {
			Src     string `json:"src"`
			Sizes   string `json:"sizes"`
			Type    string `json:"type"`
			Purpose string `json:"purpose"`
		} `json:"icons"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "안심코드" || m.StartURL != "/app" || m.Scope != AppServiceWorkerScope || m.Display != "standalone" || m.ThemeColor == "" {
		t.Errorf("manifest %+v", m)
	}
	maskable := false
	for _, ic := range m.Icons {
		rel, ok := strings.CutPrefix(ic.Src, "/static/")
		if !ok {
			t.Errorf("icon %s is not under /static/", ic.Src)
			continue
		}
		f, err := staticFS.Open(rel)
		if err != nil {
			t.Errorf("icon %s: %v", ic.Src, err)
			continue
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Errorf("icon %s: %v", ic.Src, err)
			continue
		}
		if got := fmt.Sprintf("%dx%d", cfg.Width, cfg.Height); got != ic.Sizes || ic.Type != "image/png" {
			t.Errorf("icon %s is %s, the manifest says %s %s", ic.Src, got, ic.Sizes, ic.Type)
		}
		maskable = maskable || ic.Purpose == "maskable"
	}
	if len(m.Icons) < 3 || !maskable {
		t.Errorf("manifest icons %+v: want 192, 512 and a maskable one", m.Icons)
	}
}

// Ensure that the service worker keeps the files of AppShellFiles, no
// more, no fewer, and that each exists.
func TestAppShellFiles(t *testing.T) {
	b, err := staticFiles.ReadFile("static/app/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)const SHELL = \[(.*?)\];`).FindSubmatch(b)
	if block == nil {
		t.Fatal("sw.js has no SHELL list")
	}
	var shell []string
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(block[1], -1) {
		shell = append(shell, string(m[1]))
	}
	if !slices.Equal(shell, AppShellFiles) {
		t.Errorf("sw.js keeps %q, AppShellFiles is %q", shell, AppShellFiles)
	}
	for _, p := range AppShellFiles {
		if !appFileExists(p) {
			t.Errorf("%s is kept by the service worker but not embedded", p)
		}
	}
}

// Ensure that every message key of the app's scripts and shell is in both
// catalogues, and that every reason, flag and way of check-in of the
// contract has its words (the app maps codes to catalogue keys).
func TestAppKeys(t *testing.T) {
	used := map[string]bool{}
	lit := regexp.MustCompile(`"(app\.[a-z0-9.-]+[a-z0-9])"`)
	err := fs.WalkDir(staticFiles, "static/app", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") || strings.Contains(p, "/vendor/") {
			return err
		}
		b, _ := staticFiles.ReadFile(p)
		for _, m := range lit.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := templateFiles.ReadFile("templates/app.html")
	for _, m := range regexp.MustCompile(`data-t(?:-aria)?="(app\.[^"]+)"`).FindAllSubmatch(tmpl, -1) {
		used[string(m[1])] = true
	}
	if len(used) < 60 {
		t.Fatalf("found only %d keys in the app's files: the scan misses some", len(used))
	}
	codes := map[string][]string{
		"app.err.":    {"phone-invalid", "consent-required", "rate-limited", "code-wrong", "code-expired", "name-required", "session-invalid"},
		"app.reason.": {"malformed-code", "bad-signature", "unknown-device", "wrong-venue", "stale-period", "unknown-venue", "bad-location", "rate-limited", "pass-expired", "pass-revoked", "pass-not-yet-valid", "pass-invalid", "other"},
		"app.flag.":   {"suspect", "impossible-travel", "late-offline", "other"},
		"app.how.":    {"app-display", "app-poster", "kiosk", "card", "exit"},
	}
	for prefix, cs := range codes {
		for _, c := range cs {
			used[prefix+c] = true
		}
	}
	for _, lang := range locale.Languages {
		have := map[string]bool{}
		for _, k := range locale.Keys(lang) {
			have[k] = true
		}
		for k := range used {
			if !have[k] {
				t.Errorf("%s.json lacks %q, which the app prints", lang, k)
			}
		}
	}
}

// Ensure that the service worker is told the font files of the app's
// messages, and that they hold every character of the messages in both
// weights and exist.
func TestAppFonts(t *testing.T) {
	app := appInfo()
	if app.err != nil {
		t.Fatal(app.err)
	}
	s := newSite(t, Options{})
	_, sw := s.get(s.client(), "/app/sw.js")
	list, _ := json.Marshal(app.fonts)
	if !strings.Contains(sw, "const FONTS = "+string(list)+";") {
		t.Errorf("sw.js does not list the app's font files %s", list)
	}
	css, err := staticFiles.ReadFile("static/fonts/fonts.css")
	if err != nil {
		t.Fatal(err)
	}
	type face struct {
		weight string
		lo, hi []rune
	}
	var kept []face
	for _, m := range regexp.MustCompile(`font-weight:(\d+);src:url\(([^)]+)\)[^}]*unicode-range:([^}]+)\}`).FindAllStringSubmatch(string(css), -1) {
		if !slices.Contains(app.fonts, m[2]) {
			continue
		}
		if !appFileExists(m[2]) {
			t.Errorf("%s is not embedded", m[2])
		}
		f := face{weight: m[1]}
		for _, part := range strings.Split(m[3], ",") {
			lo, hi, err := unicodeRange(strings.TrimSpace(part))
			if err != nil {
				t.Fatal(err)
			}
			f.lo, f.hi = append(f.lo, lo), append(f.hi, hi)
		}
		kept = append(kept, f)
	}
	if len(kept) != len(app.fonts) || len(kept) < 10 {
		t.Errorf("%d of the %d font files found in fonts.css", len(kept), len(app.fonts))
	}
	covered := func(r rune, weight string) bool {
		for _, f := range kept {
			for i := range f.lo {
				if f.weight == weight && f.lo[i] <= r && r <= f.hi[i] {
					return true
				}
			}
		}
		return false
	}
	var msgs map[string]map[string]string
	if err := json.Unmarshal(app.msgs, &msgs); err != nil {
		t.Fatal(err)
	}
	for _, lang := range locale.Languages {
		for k, m := range msgs[lang] {
			for _, r := range m {
				for _, w := range []string{"400", "700"} {
					if !covered(r, w) {
						t.Errorf("%s %s: %q (weight %s) is in no font file the service worker keeps", lang, k, r, w)
					}
				}
			}
		}
	}
	for _, bad := range []string{"U+", "U+ac00-", "12-34", "U+zz"} {
		if _, _, err := unicodeRange(bad); err == nil {
			t.Errorf("unicodeRange(%q) took it", bad)
		}
	}
}

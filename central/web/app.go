package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/anshim/anshim/central/web/locale"
)

// The visitor app (안심코드) is a single-page web app: /app is its shell
// (templates/app.html, every screen in one page, shown one at a time by
// static/app/app.js), /app/manifest.webmanifest makes it installable and
// /app/sw.js, its service worker, keeps the shell, the scripts, the font
// and the last pass for use without network. The app talks to the
// central through the JSON API of the visitor app (/v1/app/..., a bearer
// device session: no cookie, no CSRF); the page itself reads no session.

// AppConsentVersion is the version of the consent text the app shows
// (app.consent.* in the catalogues); the app sends it with the phone
// number, and the central records it. Change it with the text.
const AppConsentVersion = "2026-12-1"

// appPage is the data of app.html.
type appPage struct {
	Consent string
	// Messages is the app.* part of every catalogue as JSON, language →
	// key → message, for the script's language switch (in a data
	// attribute: no inline script).
	Messages string
	// Version names the app's files (a hash of them), so that a changed
	// app gets a new service worker and cache.
	Version string
}

// appMessages returns the app.* messages of every language as JSON.
func appMessages() ([]byte, error) {
	out := make(map[string]map[string]string)
	for _, lang := range locale.Languages {
		c, err := locale.Load(lang)
		if err != nil {
			return nil, err
		}
		m := make(map[string]string)
		for k, v := range c {
			if strings.HasPrefix(k, "app.") {
				m[k] = v
			}
		}
		out[lang] = m
	}
	return json.Marshal(out)
}

// appVersion is a short hash of the app's embedded files and of its
// catalogue messages: the service worker's cache name.
func appVersion(msgs []byte) (string, error) {
	h := sha256.New()
	h.Write(msgs)
	err := fs.WalkDir(staticFiles, "static/app", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	b, err := templateFiles.ReadFile("templates/app.html")
	if err != nil {
		return "", err
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// appShell serves /app: the app's one page. It is the same for everyone
// (no session, no personal data), so the service worker may keep it.
func (wb *Web) appShell(w http.ResponseWriter, r *http.Request) {
	app := appInfo()
	t := wb.pages[stateOf(r).P.Lang()]["app"]
	if t == nil || app.err != nil {
		wb.serverError(w, r, fmt.Errorf("app shell: %v", app.err))
		return
	}
	var b bytes.Buffer
	p := page{Lang: stateOf(r).P.Lang(), Path: r.URL.Path,
		Data: appPage{Consent: AppConsentVersion, Messages: string(app.msgs), Version: app.version}}
	if err := t.ExecuteTemplate(&b, "app", p); err != nil {
		wb.serverError(w, r, fmt.Errorf("template app: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page may be kept by the service worker, never by a shared cache.
	h.Set("Cache-Control", "no-cache, private")
	w.Write(b.Bytes())
}

// appManifest serves /app/manifest.webmanifest.
func (wb *Web) appManifest(w http.ResponseWriter, r *http.Request) {
	b, err := staticFiles.ReadFile("static/app/manifest.webmanifest")
	if err != nil {
		wb.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/manifest+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// AppServiceWorkerScope is the scope the app registers its service
// worker with: /app itself and everything under it. It is wider than the
// worker's own directory (/app/), so /app/sw.js is served with
// Service-Worker-Allowed.
const AppServiceWorkerScope = "/app"

// appServiceWorker serves /app/sw.js (static/app/sw.js with the app's
// version in its cache name). Browsers check it for a new version on every
// visit; it is never cached for long.
func (wb *Web) appServiceWorker(w http.ResponseWriter, r *http.Request) {
	app := appInfo()
	b, err := staticFiles.ReadFile("static/app/sw.js")
	if err != nil || app.err != nil {
		wb.serverError(w, r, fmt.Errorf("service worker: %v %v", err, app.err))
		return
	}
	fonts, _ := json.Marshal(app.fonts)
	b = bytes.ReplaceAll(b, []byte("__APP_VERSION__"), []byte(app.version))
	b = bytes.ReplaceAll(b, []byte(`["__APP_FONTS__"]`), fonts)
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Service-Worker-Allowed", AppServiceWorkerScope)
	h.Set("Cache-Control", "no-cache")
	w.Write(b)
}

// appState is what the app's handlers compute once: the messages of the
// page, the version of the files and the font files of the messages.
type appState struct {
	msgs    []byte
	version string
	fonts   []string
	err     error
}

// appInfo returns the app's state, computed on first use from embedded
// files (so the same for the life of the binary).
var appInfo = sync.OnceValue(newAppState)

func newAppState() appState {
	msgs, err := appMessages()
	if err != nil {
		return appState{err: err}
	}
	v, err := appVersion(msgs)
	if err != nil {
		return appState{err: err}
	}
	fonts, err := appFonts(msgs)
	return appState{msgs: msgs, version: v, fonts: fonts, err: err}
}

// fontFace is one file of the embedded font (static/fonts/fonts.css): the
// font is split by unicode-range, and a browser fetches only the files of
// the characters it shows.
var fontFace = regexp.MustCompile(`@font-face\{[^}]*src:url\((/static/fonts/[^)]+\.woff2)\)[^}]*unicode-range:([^}]+)\}`)

// appFonts returns the font files (both weights) that hold a character of
// the app's messages (msgs, as appMessages) or of its language names: the
// service worker keeps them, so that every message of the app shows in
// its font without network.
func appFonts(msgs []byte) ([]string, error) {
	css, err := staticFiles.ReadFile("static/fonts/fonts.css")
	if err != nil {
		return nil, err
	}
	var runes []rune
	seen := map[rune]bool{}
	for _, r := range string(msgs) + "한국어English" {
		if !seen[r] {
			seen[r] = true
			runes = append(runes, r)
		}
	}
	var out []string
	for _, m := range fontFace.FindAllStringSubmatch(string(css), -1) {
		for _, part := range strings.Split(m[2], ",") {
			lo, hi, err := unicodeRange(strings.TrimSpace(part))
			if err != nil {
				return nil, fmt.Errorf("fonts.css: %w", err)
			}
			if slices.ContainsFunc(runes, func(r rune) bool { return lo <= r && r <= hi }) {
				out = append(out, m[1])
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fonts.css: no font file for the app's messages")
	}
	return out, nil
}

// unicodeRange parses "U+ac00-d7a3" or "U+20".
func unicodeRange(s string) (lo, hi rune, err error) {
	v, ok := strings.CutPrefix(s, "U+")
	if !ok {
		return 0, 0, fmt.Errorf("unicode-range %q", s)
	}
	a, b, isRange := strings.Cut(v, "-")
	x, err := strconv.ParseUint(a, 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("unicode-range %q: %w", s, err)
	}
	y := x
	if isRange {
		if y, err = strconv.ParseUint(b, 16, 32); err != nil {
			return 0, 0, fmt.Errorf("unicode-range %q: %w", s, err)
		}
	}
	return rune(x), rune(y), nil
}

// AppShellFiles are the files the service worker keeps when it installs
// (static/app/sw.js lists the same; a test checks they agree and exist).
var AppShellFiles = []string{
	"/app",
	"/app/manifest.webmanifest",
	"/static/css/base.css",
	"/static/fonts/fonts.css",
	"/static/app/app.css",
	"/static/app/app.js",
	"/static/app/api.js",
	"/static/app/i18n.js",
	"/static/app/scan.js",
	"/static/app/store.js",
	"/static/app/vendor/qrcode.min.mjs",
	"/static/app/vendor/jsQR.min.js",
	"/static/app/icon-192.png",
	"/static/app/icon-512.png",
	"/static/app/icon-maskable-512.png",
}

// appFileExists reports whether a /static/ path of AppShellFiles is
// embedded.
func appFileExists(p string) bool {
	rel, ok := strings.CutPrefix(p, "/static/")
	if !ok {
		return slices.Contains([]string{"/app", "/app/manifest.webmanifest"}, p)
	}
	_, err := fs.Stat(staticFS, path.Clean(rel))
	return err == nil
}

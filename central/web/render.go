package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/central/web/locale"
)

//go:embed templates/*.html
var templateFiles embed.FS

// kst is Korea Standard Time (no daylight saving).
var kst = time.FixedZone("KST", 9*3600)

// funcs are the template functions of lang: T and N print messages of
// the catalogue (locale.Printer), kst formats a time in Korea.
func funcs(lang string) template.FuncMap {
	p := locale.NewPrinter(lang)
	return template.FuncMap{
		"T":   p.T,
		"N":   p.N,
		"kst": func(t time.Time) string { return t.In(kst).Format("2006-01-02 15:04 MST") },
		"int": func(n int64) int { return int(n) },
	}
}

// parseTemplates parses each page of templates/ with the layout, once per
// language (each set's T prints that language).
func parseTemplates() (map[string]map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]*template.Template)
	for _, lang := range locale.Languages {
		out[lang] = make(map[string]*template.Template)
		for _, name := range names {
			if path.Base(name) == "layout.html" {
				continue
			}
			t, err := template.New("layout.html").Funcs(funcs(lang)).ParseFS(templateFiles, "templates/layout.html", name)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			out[lang][strings.TrimSuffix(path.Base(name), ".html")] = t
		}
	}
	return out, nil
}

// page is what every template gets: the language, the account (nil
// signed out), the CSRF token of the forms, the path (for the language
// switch) and the page's own Data.
type page struct {
	Lang    string
	Other   string // the language the switch offers
	Path    string
	Account *store.Account
	CSRF    string
	Data    any
}

// render writes the page name with data and status.
func (wb *Web) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	st := stateOf(r)
	lang := st.P.Lang()
	t := wb.pages[lang][name]
	if t == nil {
		wb.serverError(w, r, fmt.Errorf("no template %q", name))
		return
	}
	other := "en"
	if lang == "en" {
		other = "ko"
	}
	p := page{Lang: lang, Other: other, Path: r.URL.Path, Account: st.Account, CSRF: wb.csrfToken(w, r, st), Data: data}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		wb.serverError(w, r, fmt.Errorf("template %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// errorPage is the data of error.html.
type errorPage struct {
	Status int
	Key    string // the message's catalogue key
}

// errorKeys are the catalogue keys renderError is called with (a test
// checks each is in the catalogues).
var errorKeys = []string{"error.forbidden", "error.notfound", "error.ratelimit", "error.toolarge",
	"error.badrequest", "error.csrf", "error.signedout", "error.internal"}

// renderError writes the error page of status with the message key.
func (wb *Web) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	wb.render(w, r, status, "error", errorPage{Status: status, Key: key})
}

// serverError logs err and answers 500 without its detail.
func (wb *Web) serverError(w http.ResponseWriter, r *http.Request, err error) {
	wb.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintln(w, stateOf(r).P.T("error.internal"))
}

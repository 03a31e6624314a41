package web

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
)

func init() {
	// Not among Go's built-in types, nor in every /etc/mime.types.
	mime.AddExtensionType(".woff2", "font/woff2")
}

//go:embed static
var staticFiles embed.FS

// staticFS is static/ as the root of /static/.
var staticFS, _ = fs.Sub(staticFiles, "static")

var staticServer = http.StripPrefix("/static/", http.FileServerFS(staticFS))

// static serves the embedded files under /static/ (CSS, fonts), cached
// for a day. A directory is not listed.
func (wb *Web) static(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/static/" || p[len(p)-1] == '/' {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	staticServer.ServeHTTP(w, r)
}

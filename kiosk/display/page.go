package display

import (
	"embed"
	"html/template"
	"io"
	"mime"
	"net/http"
	"path"
)

// static holds the page's style, script and font (fonts/README.md).
//
//go:embed assets/display.css assets/display.js fonts/*.woff2 fonts/fonts.css
var static embed.FS

// staticFile serves assets/name.
func staticFile(name string) http.Handler {
	data, err := static.ReadFile("assets/" + name)
	if err != nil {
		panic(err) // embedded above
	}
	typ := mime.TypeByExtension(path.Ext(name))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(data)
	})
}

// renderPage writes the full-screen page for st. The QR code is inline, so
// the page works without the script; display.js fetches /code.json when
// the period ends and redraws, and retries on errors.
func renderPage(w io.Writer, st State) error {
	return page.Execute(w, struct {
		State
		QR template.HTML
	}{st, template.HTML(st.QRSVG)}) // QRSVG is made by QRSVG, not from input
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Venue}} · 안심 체크인</title>
<link rel="stylesheet" href="/fonts/fonts.css">
<link rel="stylesheet" href="/display.css">
<script src="/display.js" defer></script>
</head>
<body class="{{.Mode}}" data-mode="{{.Mode}}" data-period="{{.Period}}" data-refresh-ms="{{.RefreshMS}}">
<main>
<header>
<h1 id="venue">{{.Venue}}</h1>
<p id="category"{{if not .CategoryKO}} hidden{{end}}><span id="category-ko">{{.CategoryKO}}</span> <span id="category-en" lang="en">{{.CategoryEN}}</span></p>
</header>
<div id="qr">{{.QR}}</div>
<p id="ko">{{.MessageKO}}</p>
<p id="en" class="en" lang="en">{{.MessageEN}}</p>
<div id="noapp"{{if not .NoAppKO}} hidden{{end}}>
<p id="noapp-ko">{{.NoAppKO}}</p>
<p id="noapp-en" class="en" lang="en">{{.NoAppEN}}</p>
</div>
</main>
</body>
</html>
`))

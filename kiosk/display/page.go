package display

import (
	"html/template"
	"io"
)

// renderPage writes the full-screen page for st. The QR code is inline, so
// the page works without the script; the script fetches /code.json when
// the period ends and redraws, and reloads on errors.
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
<title>안심 체크인 · Anshim check-in</title>
<style>
html,body{margin:0;height:100%;background:#fff;color:#111;font-family:"Noto Sans KR",sans-serif}
main{display:flex;flex-direction:column;align-items:center;justify-content:center;height:100%;text-align:center;gap:2vh}
#qr svg{width:min(70vh,90vw);height:min(70vh,90vw)}
#qr:empty{display:none}
h1{margin:0;font-size:4vh}
p{margin:0;font-size:3vh;max-width:90vw}
.en{color:#555;font-size:2.4vh}
body.reader{background:#fff4e5}
#left{font-size:2vh;color:#777}
</style>
</head>
<body class="{{.Mode}}" data-mode="{{.Mode}}" data-period="{{.Period}}" data-refresh-ms="{{.RefreshMS}}">
<main>
<h1 id="venue">{{.Venue}}</h1>
<div id="qr">{{.QR}}</div>
<p id="ko">{{.MessageKO}}</p>
<p id="en" class="en">{{.MessageEN}}</p>
<div id="left"></div>
</main>
<script>
(function(){
  var body=document.body;
  function show(s){
    body.className=s.mode; body.dataset.mode=s.mode; body.dataset.period=s.period||"";
    document.getElementById("qr").innerHTML=s.mode==="display"?s.qr_svg:"";
    document.getElementById("ko").textContent=s.message_ko;
    document.getElementById("en").textContent=s.message_en;
    document.getElementById("venue").textContent=s.venue;
    schedule(s.refresh_ms);
  }
  function schedule(ms){ setTimeout(refresh, Math.max(200, ms|0)); }
  function refresh(){
    fetch("/code.json",{cache:"no-store"}).then(function(r){
      if(!r.ok) throw new Error(r.status); return r.json();
    }).then(show).catch(function(){
      document.getElementById("qr").innerHTML="";
      document.getElementById("ko").textContent="코드를 불러올 수 없습니다. 잠시 후 다시 시도합니다.";
      document.getElementById("en").textContent="Cannot load the code; retrying.";
      schedule(5000);
    });
  }
  schedule(+body.dataset.refreshMs);
})();
</script>
</body>
</html>
`))

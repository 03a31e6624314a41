// The display page (kiosk/display): asks /code.json when the code's period
// ends and redraws; on an error, says so and tries again in 5 s.
(function () {
  "use strict";
  var body = document.body;
  function text(id, s) {
    document.getElementById(id).textContent = s || "";
  }
  function show(s) {
    body.className = s.mode;
    body.dataset.mode = s.mode;
    body.dataset.period = s.period || "";
    document.getElementById("qr").innerHTML = s.mode === "display" ? s.qr_svg : "";
    text("venue", s.venue);
    document.title = s.venue + " · 안심 체크인";
    text("category-ko", s.category_ko);
    text("category-en", s.category_en);
    document.getElementById("category").hidden = !s.category_ko;
    text("ko", s.message_ko);
    text("en", s.message_en);
    text("noapp-ko", s.no_app_ko);
    text("noapp-en", s.no_app_en);
    document.getElementById("noapp").hidden = !s.no_app_ko;
    schedule(s.refresh_ms);
  }
  function schedule(ms) {
    setTimeout(refresh, Math.max(200, ms | 0));
  }
  function refresh() {
    fetch("/code.json", { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(show)
      .catch(function () {
        document.getElementById("qr").innerHTML = "";
        text("ko", "코드를 불러올 수 없습니다. 잠시 후 다시 시도합니다.");
        text("en", "Cannot load the code; retrying.");
        schedule(5000);
      });
  }
  schedule(+body.dataset.refreshMs);
})();

// The visitor app (안심코드): consent → phone → code → my pass, then scan,
// my visits, inbox and settings, one screen at a time (#pass, #scan, …).
// It talks to the central's /v1/app/... API with the device session, keeps
// the pass and the offline check-ins in localStorage (store.js), and its
// service worker (/app/sw.js) keeps the page for use without network.
"use strict";

import qrcode from "/static/app/vendor/qrcode.min.mjs";
import { call, clientID, NetworkError } from "/static/app/api.js";
import { apply, has, lang, n, setLang, t, time } from "/static/app/i18n.js";
import { Camera, decodeFile } from "/static/app/scan.js";
import { store } from "/static/app/store.js";

const $ = (id) => document.getElementById(id);
const consentVersion = document.body.dataset.consent;
const tabScreens = ["pass", "scan", "visits", "inbox", "settings"];
const camera = new Camera($("video"));

// State of the screens that are not kept in store.
let exitMode = false;
let resendAt = 0;
let resendTimer = 0;
let busy = false;

// ---- Helpers ----

function show(el, on = true) {
  el.hidden = !on;
}

function say(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

/** errorText returns the words of an API error answer (its code's message). */
function errorText(data, status) {
  const code = (data && data.error) || "";
  if (code === "code-wrong") {
    return n("app.err.code-wrong", Number(data.tries_left ?? 0));
  }
  if (code && has("app.err." + code)) {
    return t("app.err." + code);
  }
  return t("app.err.unknown", code || String(status));
}

function flash(text) {
  say($("flash"), text);
}

function online() {
  return navigator.onLine !== false;
}

// ---- Screens ----

/** route shows the screen the state and the hash ask for. */
function route() {
  const hash = location.hash.replace(/^#/, "");
  let screen;
  if (store.session && store.pass) {
    screen = tabScreens.includes(hash) ? hash : "pass";
  } else if (store.consent !== consentVersion) {
    screen = "consent";
  } else if (hash === "code" && store.phone) {
    screen = "code";
  } else {
    screen = "phone";
  }
  for (const s of document.querySelectorAll("section.screen")) {
    s.hidden = s.id !== "s-" + screen;
  }
  show($("tabs"), tabScreens.includes(screen));
  for (const name of tabScreens) {
    const a = $("tab-" + name);
    if (name === screen) {
      a.setAttribute("aria-current", "page");
    } else {
      a.removeAttribute("aria-current");
    }
  }
  if (screen !== "scan") {
    camera.stop();
    exitMode = false;
    show($("exit-mode"), false);
  }
  document.body.dataset.screen = screen;
  switch (screen) {
    case "pass": renderPass(); renewPass(); break;
    case "scan":
      // A new visit to the screen is a new scan: the last answer goes.
      if (!camera.running) {
        show($("result"), false);
        $("result").dataset.result = "";
        startCamera();
      }
      renderPending();
      renderCameraButton();
      break;
    case "visits": loadVisits(); break;
    case "inbox": loadInbox(); break;
    case "settings": renderSettings(); break;
    case "code": renderCode(); break;
  }
}

function go(screen) {
  if (location.hash === "#" + screen) {
    route();
  } else {
    location.hash = screen;
  }
}

// ---- Language ----

function useLang(l) {
  setLang(l);
  store.lang = l;
  apply();
  const other = l === "ko" ? "en" : "ko";
  $("lang").setAttribute("lang", other);
  route();
}

// ---- Consent, phone, code ----

$("f-consent").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!$("consent-agree").checked) {
    say($("consent-error"), t("app.consent.required"));
    $("consent-agree").focus();
    return;
  }
  say($("consent-error"), "");
  store.consent = consentVersion;
  flash("");
  go("phone");
});

async function sendCode(phone, errEl) {
  if (busy) {
    return false;
  }
  busy = true;
  try {
    const { status, data } = await call("POST", "/v1/app/codes", { phone, consent: consentVersion, lang: lang() });
    if (status !== 202 && status !== 200) {
      say(errEl, errorText(data, status));
      return false;
    }
    resendAt = Date.now() + 1000 * Number(data.resend_after ?? 30);
    return true;
  } catch (e) {
    say(errEl, e instanceof NetworkError ? t("app.err.network") : String(e));
    return false;
  } finally {
    busy = false;
  }
}

$("f-phone").addEventListener("submit", async (e) => {
  e.preventDefault();
  const phone = $("phone").value.trim();
  if (phone.replace(/\D/g, "").length < 9) {
    say($("phone-error"), t("app.err.phone-invalid"));
    $("phone").setAttribute("aria-invalid", "true");
    $("phone").focus();
    return;
  }
  $("phone").removeAttribute("aria-invalid");
  say($("phone-error"), "");
  if (await sendCode(phone, $("phone-error"))) {
    store.phone = phone;
    $("code").value = "";
    say($("code-error"), "");
    go("code");
    $("code").focus();
  }
});

function renderCode() {
  $("code-sent").textContent = t("app.code.sent", store.phone || "");
  clearInterval(resendTimer);
  const tick = () => {
    const left = Math.ceil((resendAt - Date.now()) / 1000);
    $("code-resend").disabled = left > 0;
    $("resend-wait").textContent = left > 0 ? t("app.code.resend.wait", left) : "";
    if (left <= 0) {
      clearInterval(resendTimer);
    }
  };
  tick();
  resendTimer = setInterval(tick, 1000);
}

$("code-resend").addEventListener("click", async () => {
  if (await sendCode(store.phone, $("code-error"))) {
    say($("code-error"), "");
    renderCode();
  }
});

$("code-back").addEventListener("click", () => {
  store.phone = null;
  go("phone");
  $("phone").focus();
});

$("f-code").addEventListener("submit", async (e) => {
  e.preventDefault();
  const code = $("code").value.replace(/\D/g, "");
  if (code.length !== 6) {
    say($("code-error"), t("app.err.code-format"));
    $("code").focus();
    return;
  }
  const body = { phone: store.phone, code, consent: consentVersion };
  if (!$("name-field").hidden) {
    const name = $("name").value.trim();
    if (name.length < 1 || [...name].length > 30) {
      say($("code-error"), t("app.err.name-invalid"));
      $("name").focus();
      return;
    }
    body.name = name;
  }
  if (busy) {
    return;
  }
  busy = true;
  try {
    const { status, data } = await call("POST", "/v1/app/sessions", body);
    if (status === 409 && data.error === "name-required") {
      show($("name-field"));
      say($("code-error"), t("app.err.name-required"));
      $("name").focus();
      return;
    }
    if (status !== 201 && status !== 200) {
      say($("code-error"), errorText(data, status));
      return;
    }
    store.session = data.session;
    savePass(data);
    store.phone = null;
    $("phone").value = "";
    $("code").value = "";
    $("name").value = "";
    show($("name-field"), false);
    say($("code-error"), "");
    flash("");
    go("pass");
  } catch (err) {
    say($("code-error"), err instanceof NetworkError ? t("app.err.network") : String(err));
  } finally {
    busy = false;
  }
});

// ---- My pass ----

function savePass(d) {
  store.pass = { pass: d.pass, initial: d.initial, expires: d.expires, renew_after: d.renew_after, consent: d.consent };
}

/** qrSVG draws text as a QR code (error correction M, 4-module quiet zone). */
function qrSVG(text) {
  const q = qrcode(0, "M");
  q.addData(text);
  q.make();
  const count = q.getModuleCount();
  const size = count + 8;
  let d = "";
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < count;) {
      if (!q.isDark(r, c)) {
        c++;
        continue;
      }
      let run = 1;
      while (c + run < count && q.isDark(r, c + run)) {
        run++;
      }
      d += `M${c + 4} ${r + 4}h${run}v1h-${run}z`;
      c += run;
    }
  }
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const bg = document.createElementNS(ns, "rect");
  bg.setAttribute("width", size);
  bg.setAttribute("height", size);
  bg.setAttribute("fill", "#fff");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", d);
  p.setAttribute("fill", "#000");
  svg.append(bg, p);
  svg.dataset.modules = String(size);
  return svg;
}

/**
 * fitQR sizes the pass's code to a whole number of pixels per module, as
 * large as its box allows: a module split over uneven pixels reads worse
 * on a kiosk's camera.
 */
function fitQR() {
  const box = $("pass-qr");
  const svg = box.querySelector("svg");
  if (!svg || !box.clientWidth) {
    return;
  }
  const size = Number(svg.dataset.modules);
  const px = Math.max(1, Math.floor((box.clientWidth - 2) / size));
  svg.setAttribute("width", String(px * size));
  svg.setAttribute("height", String(px * size));
}

window.addEventListener("resize", fitQR);

let drawnPass = "";

function renderPass() {
  const p = store.pass;
  if (!p) {
    return;
  }
  if (drawnPass !== p.pass) {
    $("pass-qr").replaceChildren(qrSVG(p.pass));
    $("pass-qr").dataset.pass = p.pass;
    drawnPass = p.pass;
  }
  fitQR();
  $("pass-holder").textContent = t("app.pass.holder", p.initial || "");
  $("pass-valid").textContent = t("app.pass.valid", time(p.expires));
  const expired = Date.parse(p.expires) <= Date.now();
  $("pass-qr").classList.toggle("expired", expired);
  say($("pass-status"), expired ? t("app.pass.expired") : "");
}

let renewing = false;

/**
 * renewPass asks the central for the pass: a new one comes when the
 * current one is past its renewal time. An ended session (revoked,
 * verified elsewhere, account deleted) sends the visitor back to
 * verification; no network keeps the saved pass.
 */
async function renewPass(force = false) {
  const p = store.pass;
  if (!store.session || !p || renewing || !online()) {
    return;
  }
  if (!force && !renewDue && Date.parse(p.renew_after) > Date.now()) {
    return;
  }
  renewing = true;
  renewDue = false;
  const before = $("pass-status").hidden;
  if (Date.parse(p.renew_after) <= Date.now()) {
    say($("pass-status"), t("app.pass.renewing"));
  }
  try {
    const { status, data } = await call("GET", "/v1/app/pass", undefined, store.session);
    if (status === 200 && data.pass) {
      savePass(data);
    } else if (status === 401) {
      endSession(t("app.err.session-invalid"));
      return;
    } else if (status === 410) {
      // The pass was revoked (lost phone, a clerk, an administrator):
      // a new one comes only from verifying again.
      endSession(reasonText("pass-revoked"));
      return;
    }
  } catch {
    // Offline: the saved pass stays.
  } finally {
    renewing = false;
  }
  if (before || $("pass-status").textContent === t("app.pass.renewing")) {
    say($("pass-status"), "");
  }
  if (document.body.dataset.screen === "pass") {
    renderPass();
  }
}

// renewDue asks for one check of the pass at start, so that a revoked
// session is noticed.
let renewDue = true;

function endSession(message) {
  camera.stop();
  const keepConsent = store.consent;
  store.forget();
  store.consent = keepConsent;
  drawnPass = "";
  $("pass-qr").replaceChildren();
  flash(message);
  go("phone");
}

$("revoke").addEventListener("click", () => {
  show($("revoke-confirm"));
  $("revoke-no").focus();
});
$("revoke-no").addEventListener("click", () => {
  show($("revoke-confirm"), false);
  $("revoke").focus();
});
$("revoke-yes").addEventListener("click", async () => {
  try {
    const { status, data } = await call("POST", "/v1/app/pass/revoke", {}, store.session);
    if (status !== 200 && status !== 401) {
      say($("revoke-error"), errorText(data, status));
      return;
    }
    show($("revoke-confirm"), false);
    endSession(t("app.pass.revoked"));
  } catch (e) {
    say($("revoke-error"), e instanceof NetworkError ? t("app.err.network") : String(e));
  }
});

// ---- Scan ----

function isVenueCode(text) {
  return text.startsWith("AD1:") || text.startsWith("AV1:");
}

function renderCameraButton() {
  show($("viewfinder"), camera.running);
  const b = $("camera");
  b.dataset.t = camera.running ? "app.scan.stop" : "app.scan.start";
  b.textContent = t(b.dataset.t);
}

async function startCamera() {
  say($("scan-error"), "");
  show($("viewfinder"));
  try {
    await camera.start(onCode);
  } catch {
    say($("scan-error"), t("app.scan.camera-denied"));
  }
  renderCameraButton();
}

$("camera").addEventListener("click", () => {
  if (camera.running) {
    camera.stop();
    renderCameraButton();
  } else {
    show($("result"), false);
    startCamera();
  }
});

let lastWrong = 0;

function onCode(text) {
  if (!isVenueCode(text)) {
    if (Date.now() - lastWrong > 3000) {
      say($("scan-error"), t("app.scan.notvenue"));
      lastWrong = Date.now();
    }
    return;
  }
  camera.stop();
  renderCameraButton();
  checkIn(text, exitMode);
}

$("photo").addEventListener("change", async () => {
  const f = $("photo").files[0];
  $("photo").value = "";
  if (!f) {
    return;
  }
  let text = "";
  try {
    text = await decodeFile(f);
  } catch {
    text = "";
  }
  if (!text) {
    say($("scan-error"), t("app.scan.nocode"));
    return;
  }
  if (!isVenueCode(text)) {
    say($("scan-error"), t("app.scan.notvenue"));
    return;
  }
  say($("scan-error"), "");
  checkIn(text, exitMode);
});

$("exit").addEventListener("click", () => {
  const last = store.last;
  if (last && last.code.startsWith("AV1:")) {
    // A poster's code does not change: leave with it at once.
    checkIn(last.code, true);
    return;
  }
  exitMode = true;
  show($("exit-mode"));
  show($("result"), false);
  if (!camera.running) {
    startCamera();
  }
});

/** position returns the phone's location, or null (refused, none, slow). */
function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve(null);
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 });
  });
}

async function checkIn(code, exit) {
  const p = store.pass;
  if (!p || !store.session) {
    say($("scan-error"), t("app.scan.nopass"));
    return;
  }
  exitMode = false;
  show($("exit-mode"), false);
  showResult("sending", t("app.scan.sending"));
  const fix = await position();
  const req = { pass: p.pass, code, client_id: clientID() };
  if (exit) {
    req.exit = true;
  }
  if (fix) {
    Object.assign(req, fix);
  }
  if (!online()) {
    queue(req);
    return;
  }
  let res;
  try {
    res = await call("POST", "/v1/checkins", req, store.session);
  } catch (e) {
    if (e instanceof NetworkError) {
      queue(req);
      return;
    }
    showResult("rejected", t("app.result.rejected"), "", "", String(e));
    return;
  }
  answer(res, req, fix);
  flush();
}

function queue(req) {
  req.scanned_at = new Date().toISOString();
  store.queue = [...store.queue, req];
  showResult("queued", t("app.result.queued"));
  renderPending();
}

/** reasonText returns the words of a refusal's reason code. */
function reasonText(reason) {
  if (!reason) {
    return t("app.reason.other", "?");
  }
  if (has("app.reason." + reason)) {
    return t("app.reason." + reason);
  }
  if (reason.startsWith("pass-")) {
    return t("app.reason.pass-invalid");
  }
  return t("app.reason.other", reason);
}

function flagText(flag) {
  return has("app.flag." + flag) ? t("app.flag." + flag) : t("app.flag.other", flag);
}

function answer({ status, data }, req, fix) {
  const r = data || {};
  const venue = r.venue_name || r.venue || "";
  if (r.result === "accepted") {
    store.last = { code: req.code, venue: r.venue, venue_name: r.venue_name };
    const lines = (r.flags || []).map(flagText);
    if (!fix) {
      lines.push(t("app.scan.nogps"));
    }
    showResult(req.exit ? "exit" : "accepted", t(req.exit ? "app.result.exit" : "app.result.accepted"),
      venue, time(r.time || new Date()), lines.join(" "), r.flags || []);
    return;
  }
  if (r.result === "duplicate") {
    showResult("duplicate", t("app.result.duplicate"), venue, time(r.time), t("app.result.duplicate.text", time(r.time, false)));
    return;
  }
  if (r.result === "rejected") {
    showResult("rejected", t("app.result.rejected"), venue, "", reasonText(r.reason));
    if (r.reason === "pass-revoked") {
      renewPass(true);
    }
    return;
  }
  showResult("rejected", t("app.result.rejected"), "", "", errorText(r, status));
}

function showResult(kind, title, venue = "", when = "", text = "", flags = []) {
  const box = $("result");
  box.className = "result result-" + kind + (flags.length ? " flagged" : "");
  box.dataset.result = kind;
  box.dataset.flags = flags.join(",");
  say($("result-title"), title);
  say($("result-venue"), venue);
  say($("result-time"), when);
  say($("result-text"), text);
  show(box);
  if (kind !== "sending") {
    box.scrollIntoView({ block: "nearest" });
  }
}

function renderPending() {
  const k = store.queue.length;
  say($("pending"), k ? n("app.scan.pending", k) : "");
}

let flushing = false;

/**
 * flush sends the check-ins scanned offline, oldest first, with the time
 * of their scan; each leaves the queue once the central has answered
 * (accepted, duplicate or refused), and the first network failure stops.
 */
async function flush() {
  if (flushing || !online() || !store.queue.length) {
    return;
  }
  flushing = true;
  let sent = 0;
  try {
    for (;;) {
      const q = store.queue;
      if (!q.length) {
        break;
      }
      let res;
      try {
        res = await call("POST", "/v1/checkins", q[0], store.session);
      } catch {
        break;
      }
      if (res.status === 429) {
        break;
      }
      store.queue = store.queue.slice(1);
      sent++;
      if (document.body.dataset.screen === "scan") {
        answer(res, q[0], q[0].lat !== undefined);
      }
    }
  } finally {
    flushing = false;
  }
  renderPending();
  if (sent) {
    flash(n("app.result.sent", sent));
  }
}

// ---- My visits, inbox ----

async function fetchList(path, errEl) {
  say(errEl, "");
  try {
    const { status, data } = await call("GET", path, undefined, store.session);
    if (status === 401) {
      endSession(t("app.err.session-invalid"));
      return null;
    }
    if (status !== 200) {
      say(errEl, errorText(data, status));
      return null;
    }
    return data;
  } catch (e) {
    say(errEl, e instanceof NetworkError ? t("app.err.network") : String(e));
    return null;
  }
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) {
    e.className = cls;
  }
  if (text !== undefined) {
    e.textContent = text;
  }
  return e;
}

async function loadVisits() {
  const data = await fetchList("/v1/app/visits", $("visits-error"));
  if (!data) {
    return;
  }
  const list = $("visits");
  list.replaceChildren();
  for (const v of data.visits || []) {
    const li = el("li", "visit");
    li.dataset.venue = v.venue;
    li.append(el("p", "visit-venue", v.venue_name || v.venue));
    if (v.address) {
      li.append(el("p", "muted", v.address));
    }
    let when = time(v.time);
    if (v.exit_time) {
      when += " · " + t("app.visits.exit", time(v.exit_time, false));
    }
    li.append(el("p", "visit-time", when));
    const how = has("app.how." + v.how) ? t("app.how." + v.how) : v.how;
    li.append(el("p", "visit-how muted", how));
    for (const f of v.flags || []) {
      li.append(el("p", "visit-flag bad", flagText(f)));
    }
    list.append(li);
  }
  show($("visits-none"), !(data.visits || []).length);
}

$("visits-refresh").addEventListener("click", loadVisits);

async function loadInbox() {
  const data = await fetchList("/v1/app/inbox", $("inbox-error"));
  if (!data) {
    return;
  }
  const list = $("notices");
  list.replaceChildren();
  for (const m of data.notices || []) {
    const li = el("li", "notice-item");
    li.dataset.id = m.id;
    li.append(el("p", "notice-where", [m.venue_name, t("app.inbox.when", m.date)].filter(Boolean).join(" · ")));
    li.append(el("p", "notice-text", lang() === "en" && m.text_en ? m.text_en : m.text));
    li.append(el("p", "muted", time(m.sent)));
    list.append(li);
  }
  show($("inbox-none"), !(data.notices || []).length);
}

// ---- Settings ----

function renderSettings() {
  $("lang-" + lang()).checked = true;
  const v = (store.pass && store.pass.consent) || store.consent || consentVersion;
  $("settings-consent").textContent = t("app.settings.consent", v);
}

for (const r of document.querySelectorAll('input[name="lang"]')) {
  r.addEventListener("change", () => useLang(r.value));
}

$("f-delete").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!$("delete-confirm").checked) {
    say($("delete-error"), t("app.settings.delete.need"));
    $("delete-confirm").focus();
    return;
  }
  try {
    const { status, data } = await call("DELETE", "/v1/app/account", undefined, store.session);
    if (status !== 204 && status !== 200 && status !== 401) {
      say($("delete-error"), errorText(data, status));
      return;
    }
  } catch (err) {
    say($("delete-error"), err instanceof NetworkError ? t("app.err.network") : String(err));
    return;
  }
  $("delete-confirm").checked = false;
  say($("delete-error"), "");
  camera.stop();
  store.forget();
  drawnPass = "";
  $("pass-qr").replaceChildren();
  flash(t("app.settings.deleted"));
  go("consent");
});

// ---- Start ----

$("lang").addEventListener("click", () => useLang(lang() === "ko" ? "en" : "ko"));

function onNetwork() {
  show($("offline"), !online());
  if (online()) {
    flush();
    renewPass();
  }
}

window.addEventListener("online", onNetwork);
window.addEventListener("offline", onNetwork);
window.addEventListener("hashchange", route);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    renewPass();
  } else {
    camera.stop();
    renderCameraButton();
  }
});
setInterval(() => renewPass(), 60 * 1000);

setLang(store.lang || document.documentElement.lang || "ko");
apply();
$("lang").setAttribute("lang", lang() === "ko" ? "en" : "ko");
onNetwork();
route();
document.body.dataset.ready = "1";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).then(async () => {
    await navigator.serviceWorker.ready;
    // Keep the font files this page used, for the next time without network.
    const fonts = performance.getEntriesByType("resource").map((r) => r.name).filter((u) => u.includes("/static/fonts/"));
    const sw = navigator.serviceWorker.controller || (await navigator.serviceWorker.ready).active;
    if (sw && fonts.length) {
      sw.postMessage({ keep: fonts });
    }
  }).catch(() => {});
}

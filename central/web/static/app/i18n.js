// The app's messages: the app.* keys of the web's catalogues (Korean, the
// reference, and English), which the page carries in data-messages, so
// that switching the language needs no network.
"use strict";

const all = JSON.parse(document.body.dataset.messages || "{}");

/** The languages of the app, the default first. */
export const languages = ["ko", "en"];

let current = "ko";

/** lang returns the current language ("ko" or "en"). */
export function lang() {
  return current;
}

/** setLang makes lang current (an unknown one is ignored). */
export function setLang(l) {
  if (languages.includes(l)) {
    current = l;
    document.documentElement.lang = l;
  }
}

/**
 * t returns the message of key with args put in for its %s and %d, the
 * key in brackets when the catalogue lacks it (as the web's Printer).
 */
export function t(key, ...args) {
  const m = (all[current] && all[current][key]) ?? (all.ko && all.ko[key]);
  if (m === undefined) {
    return "[" + key + "]";
  }
  let i = 0;
  return m.replace(/%[sd%]/g, (v) => (v === "%%" ? "%" : String(args[i++] ?? "")));
}

/** n is t for a message about count things (the ".one" key when 1). */
export function n(key, count, ...args) {
  const one = key + ".one";
  if (count === 1 && all[current] && all[current][one]) {
    key = one;
  }
  return t(key, count, ...args);
}

/** has reports whether the catalogue has key. */
export function has(key) {
  return Boolean(all.ko && all.ko[key]);
}

/**
 * apply prints every [data-t] element of root in the current language
 * (with its data-arg) and every [data-t-aria] element's aria-label.
 */
export function apply(root = document) {
  for (const el of root.querySelectorAll("[data-t]")) {
    el.textContent = el.dataset.arg !== undefined ? t(el.dataset.t, el.dataset.arg) : t(el.dataset.t);
  }
  for (const el of root.querySelectorAll("[data-t-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.tAria));
  }
}

/** time formats an RFC 3339 time (or a Date) in Korea's time zone. */
export function time(v, withDate = true) {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) {
    return "";
  }
  const opts = { timeZone: "Asia/Seoul", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (withDate) {
    Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
  }
  // English: 2026-12-06 13:19 (sv-SE's order), which no reader takes
  // for a month-first or a day-first date.
  return new Intl.DateTimeFormat(current === "ko" ? "ko-KR" : "sv-SE", opts).format(d);
}

// What the app keeps on the phone, in localStorage: the device session,
// the last pass (so that it shows without network), the language, the
// accepted consent and the check-ins scanned offline, waiting to be sent.
"use strict";

const P = "anshim.";

function get(key) {
  try {
    const v = localStorage.getItem(P + key);
    return v === null ? null : JSON.parse(v);
  } catch {
    return null;
  }
}

function set(key, v) {
  if (v === null || v === undefined) {
    localStorage.removeItem(P + key);
  } else {
    localStorage.setItem(P + key, JSON.stringify(v));
  }
}

export const store = {
  get lang() { return get("lang"); },
  set lang(v) { set("lang", v); },
  /** The consent version accepted on this phone. */
  get consent() { return get("consent"); },
  set consent(v) { set("consent", v); },
  /** The phone number being verified (until the session is made). */
  get phone() { return get("phone"); },
  set phone(v) { set("phone", v); },
  /** The device session (bearer token). */
  get session() { return get("session"); },
  set session(v) { set("session", v); },
  /** The pass: {pass, initial, expires, renew_after, consent}. */
  get pass() { return get("pass"); },
  set pass(v) { set("pass", v); },
  /** The last accepted check-in's code and venue, for leaving. */
  get last() { return get("last"); },
  set last(v) { set("last", v); },
  /** Check-ins waiting to be sent: [{pass, code, scanned_at, client_id, exit, lat, lon, accuracy}]. */
  get queue() { return get("queue") || []; },
  set queue(v) { set("queue", v && v.length ? v : null); },
  /** forget removes everything of the person (the language stays). */
  forget() {
    for (const k of ["consent", "phone", "session", "pass", "last", "queue"]) {
      set(k, null);
    }
  },
};

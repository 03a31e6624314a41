// The central's API of the visitor app (JSON, a bearer device session).
"use strict";

/** NetworkError: the central could not be reached (offline). */
export class NetworkError extends Error {}

/**
 * call sends method path with body (JSON, or none) and the session, and
 * returns {status, data}: data is the decoded answer ({} when empty). A
 * failed connection throws NetworkError.
 */
export async function call(method, path, body, session) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (session) {
    headers.Authorization = "Bearer " + session;
  }
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit",
    });
  } catch (e) {
    throw new NetworkError(String(e));
  }
  let data = {};
  const text = await resp.text().catch(() => "");
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: "bad-answer", detail: text.slice(0, 200) };
    }
  }
  return { status: resp.status, data };
}

/** clientID returns a random id of a scan (so that a resend is not stored twice). */
export function clientID() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

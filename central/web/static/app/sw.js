// The visitor app's service worker (served at /app/sw.js, scope /app): it
// keeps the app's shell, scripts, style, icons and the font files the page
// used, so that the app and the saved pass show without network. The API
// (/v1/...) is never kept: it always goes to the network.
"use strict";

const VERSION = "__APP_VERSION__"; // the server puts in a hash of the app's files
const CACHE = "anshim-app-" + VERSION;

// SHELL is what the worker keeps when it installs (web.AppShellFiles; a
// test checks that the lists agree).
const SHELL = [
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
];

// FONTS are the font files of the app's own messages (the server lists
// them: web.appFonts); the font files of other text the page showed
// (venue names, notices) are kept as the page fetches them.
const FONTS = ["__APP_FONTS__"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: "reload" })));
    await cache.addAll(FONTS);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("anshim-app-") && name !== CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

// The page sends the font files it used ({keep: [url]}) once the worker is
// ready: the font is split in many files by character range, and only
// those of the app's text are worth keeping.
self.addEventListener("message", (event) => {
  const keep = event.data && event.data.keep;
  if (!Array.isArray(keep)) {
    return;
  }
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    for (const u of keep) {
      const url = new URL(u, self.location.origin);
      if (url.origin === self.location.origin && url.pathname.startsWith("/static/fonts/") && !(await cache.match(url.pathname))) {
        await cache.add(url.pathname).catch(() => {});
      }
    }
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname === "/app") {
    // The shell: the network first (a new version, the language), the kept
    // copy without network.
    event.respondWith((async () => {
      const cache = await caches.open(CACHE);
      try {
        const resp = await fetch(req);
        if (resp.ok) {
          await cache.put("/app", resp.clone());
        }
        return resp;
      } catch (e) {
        const kept = await cache.match("/app");
        if (kept) {
          return kept;
        }
        throw e;
      }
    })());
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname === "/app/manifest.webmanifest") {
    // Files: the kept copy first, else the network (and keep fonts).
    event.respondWith((async () => {
      const cache = await caches.open(CACHE);
      const kept = await cache.match(url.pathname);
      if (kept) {
        return kept;
      }
      const resp = await fetch(req);
      if (resp.ok && url.pathname.startsWith("/static/fonts/")) {
        await cache.put(url.pathname, resp.clone());
      }
      return resp;
    })());
  }
  // Anything else (the API) goes to the network untouched.
});

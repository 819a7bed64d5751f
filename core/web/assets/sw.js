// The offline part of the site: the volunteer's card and a project's scanner, with what they
// need, kept from the last time they were fetched, so that the card opens without a network for
// as long as its code stands and the scanner opens to keep scans until the network is back.
// Every other request goes to the network as if there were no worker: nothing else is ever
// answered from a cache, and nothing stale. Signing out empties the cache.
"use strict";
const CACHE = "zhiyuan-offline-v2";
const OFFLINE = [
  "/me/card", "/assets/site.css", "/assets/card.js", "/assets/app.js",
  "/assets/scanner.js", "/assets/qr-reader.wasm",
];
const SCANNER = /^\/t\/[0-9]{6}\/projects\/[0-9a-f-]{36}\/scanner$/;

self.addEventListener("install", () => self.skipWaiting());
// A new worker drops what an older one kept.
self.addEventListener("activate", (event) =>
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  ),
);

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method === "POST" && url.origin === self.location.origin && url.pathname === "/signout") {
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (request.method !== "GET" || url.origin !== self.location.origin || !(OFFLINE.includes(url.pathname) || SCANNER.test(url.pathname))) {
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        // A page the node redirected (signed out: the sign-in page) is not the card.
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((cached) => cached || Response.error())),
  );
});

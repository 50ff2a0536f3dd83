// The exam's service worker: the attempt page holds the whole form, so keeping its last
// copy (and the styles, scripts and media it uses) lets a reload without a network show the
// exam again instead of the browser's error page. The network always comes first: a copy
// is only ever served when the network cannot be reached. When the server answers an
// attempt page with anything but that page (the receipt once the exam is over, the sign-in
// page), the attempt's copy is deleted.
"use strict";

const CACHE = "csm-exam-v1";
const PAGE = /^\/exams\/attempts\/(\d+)\/(?:q\/\d+|review)$/;
const MEDIA = /^\/exams\/attempts\/\d+\/media\//;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function pageKey(attemptId) {
  return "/exams/attempts/" + attemptId + "/page";
}

async function page(request, attemptId) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    const url = new URL(response.url);
    if (response.ok && !response.redirected && PAGE.test(url.pathname)) {
      await cache.put(pageKey(attemptId), response.clone());
    } else if (response.redirected || response.status === 404) {
      await cache.delete(pageKey(attemptId));
    }
    return response;
  } catch (error) {
    const kept = await cache.match(pageKey(attemptId));
    if (kept) return kept;
    throw error;
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: false });
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const match = url.pathname.match(PAGE);
  if (request.mode === "navigate" && match) {
    event.respondWith(page(request, match[1]));
  } else if (url.pathname.startsWith("/static/") || MEDIA.test(url.pathname)) {
    event.respondWith(asset(request));
  }
});

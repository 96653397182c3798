// PPAS service worker: the evaluators' offline mode.
//
// The server puts `self.PPAS_OFFLINE = {version, workbox, precache}` in front of this file
// (ppas/web/offline_pages.py): the Workbox builds to load from node_modules, and the shell to
// precache (pages of /hors-ligne/, the CSS, the ES modules of sw/, idb), each with the
// version as its revision. Workbox's precaching does the rest: install downloads every entry
// of the new version into the cache before the worker may activate (a failed download fails
// the install, and the old worker keeps serving its complete cache); activate deletes only
// the entries the new list no longer has. This worker never opens IndexedDB: the evaluations
// written offline live there and an update cannot touch them.
/* global importScripts, workbox */
"use strict";

importScripts(...self.PPAS_OFFLINE.workbox);

const { precacheAndRoute, cleanupOutdatedCaches } = workbox.precaching;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

cleanupOutdatedCaches();
// The form page is one shell for every order (`?commande=12` is read by the page itself).
precacheAndRoute(self.PPAS_OFFLINE.precache, {
  ignoreURLParametersMatching: [/.*/],
  cleanURLs: false,
});

// The page asks which version serves it (shown on « Mode déconnecté »).
self.addEventListener("message", (event) => {
  if (event.data === "version" && event.ports[0]) {
    event.ports[0].postMessage(self.PPAS_OFFLINE.version);
  }
});

// PPAS service worker. The offline mode for evaluators (IndexedDB store, sync) is built
// by the evaluations issue; until then it only takes control so it can be upgraded cleanly.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

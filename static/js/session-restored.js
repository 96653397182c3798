// Tells the portal's other tabs that the user has signed in again: a page that kept unsaved
// input (the online billing form) then sends it with the new session.
"use strict";
if ("BroadcastChannel" in window) {
  new BroadcastChannel("ppas-session").postMessage("signed-in");
}

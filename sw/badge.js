// On every page of an evaluator (templates/layout.html) and of the offline mode: the badge
// « N évaluations non synchronisées », the warnings before leaving or signing out while some
// are, and the automatic synchronisation (on page load and when the network returns).
import * as store from "./store.js";
import { synchronise, describe } from "./sync.js";

const badge = () => document.getElementById("non-synchronisees");
let unsynced = 0;

export function badgeText(count) {
  if (count === 0) return "0 évaluation non synchronisée";
  return count === 1 ? "1 évaluation non synchronisée" : `${count} évaluations non synchronisées`;
}

export async function refreshBadge() {
  const element = badge();
  if (!element || !store.available()) return;
  let known;
  try {
    // A browser that never had the offline mode has nothing to show.
    known = (await store.getMeta("package")) || (await store.records()).length > 0;
    unsynced = await store.unsyncedCount();
  } catch (error) {
    return;
  }
  if (!known && unsynced === 0) {
    element.hidden = true;
    return;
  }
  const text = badgeText(unsynced);
  const link = element.querySelector("a");
  if (link && link.textContent !== text) link.textContent = text;
  element.classList.toggle("sync-pending", unsynced > 0);
  element.hidden = false;
}

/** What the automatic synchronisation did, for pages that show it (offline.js). */
export const lastOutcome = { text: "" };

async function autoSync() {
  if (!navigator.onLine || !store.available()) return;
  try {
    const outcome = await synchronise();
    if (outcome.sent || outcome.error === "session") {
      lastOutcome.text = describe(outcome);
      document.dispatchEvent(new CustomEvent("ppas:synchronised", { detail: outcome }));
    }
  } catch (error) {
    // The records stay where they are; the next attempt will send them.
  }
  refreshBadge();
}

function warnOnSignOut() {
  // The sign-out form of the layout (« Se déconnecter »): a confirmation while records wait.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.getAttribute("action") !== "/deconnexion") return;
    if (unsynced === 0) return;
    const question = `${badgeText(unsynced)} sur ce navigateur. Elles y restent après la déconnexion, `
      + "mais ne seront envoyées qu'une fois reconnecté. Synchronisez-les (ou exportez-les) "
      + "avant, si vous changez d'ordinateur. Se déconnecter quand même ?";
    if (!window.confirm(question)) event.preventDefault();
  }, true);
  // Leaving the portal (closing the tab, another address) while records wait: the browser's
  // own warning. Moving inside the portal by its links and forms loses nothing (the records
  // are in IndexedDB) and is not interrupted.
  let inside = false;
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (link && link.origin === location.origin && !link.target) inside = true;
  }, true);
  document.addEventListener("submit", (event) => {
    if (!event.defaultPrevented) inside = true;
  });
  window.addEventListener("beforeunload", (event) => {
    if (unsynced > 0 && !inside) {
      event.preventDefault();
      event.returnValue = "";
    }
    inside = false;
  });
}

if (badge()) {
  warnOnSignOut();
  store.onChange(refreshBadge);
  refreshBadge().then(autoSync);
  window.addEventListener("online", autoSync);
}

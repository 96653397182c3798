// « Générer le mode déconnecté »: checks that this browser can keep evaluations (service
// workers, IndexedDB), installs the service worker (which precaches the shell), asks for
// persistent storage and says what the browser answered, then asks the server for the
// offline package of the user's reserved orders (recorded there: user, this browser's id,
// the orders and their versions; a package generated elsewhere is superseded) and stores
// the orders and the form's definitions in IndexedDB.
import * as store from "./store.js";
import { graphql, SessionError } from "./graphql.js";
import { countOf } from "./labels.js";

export const GENERATE = `mutation GenerateOfflinePackage($browserId: String!) {
  generateOfflinePackage(browserId: $browserId) {
    __typename
    ... on OfflinePackageSuccess {
      definitionsVersion
      package { id browserId createdAt }
      orders {
        id reference version dueDate createdOn reservedUntil
        beneficiary { lastName firstName fileNumber birthDate city }
      }
    }
    ... on EvaluationError { code message }
  }
}`;

export const DEFINITIONS_URL = "/evaluations/definitions.json";

const MB = 1024 * 1024;
const NO_WORKER = "Ce navigateur ne permet pas le mode déconnecté (pas de « service worker ») : "
  + "c'est le cas d'une fenêtre de navigation privée, d'un réglage qui bloque les données des "
  + "sites ou d'un navigateur trop ancien. Ouvrez le portail dans une fenêtre normale d'un "
  + "navigateur à jour (Firefox, Chrome, Edge).";

function say(box, lines, kind = "notice") {
  box.replaceChildren(...lines.map((text) => {
    const p = document.createElement("p");
    p.textContent = text;
    return p;
  }));
  box.className = kind;
  box.focus();
}

/** Why this browser cannot hold the offline mode, or null when it can. */
export async function unavailableReason() {
  if (!window.isSecureContext) {
    return "Le mode déconnecté demande une connexion sécurisée (https) au portail.";
  }
  if (!("serviceWorker" in navigator)) return NO_WORKER;
  if (!(await store.usable())) {
    return "Ce navigateur refuse d'enregistrer des données (IndexedDB indisponible) : c'est le cas "
      + "d'une fenêtre de navigation privée ou d'un réglage qui bloque les données des sites. "
      + "Ouvrez le portail dans une fenêtre normale, ou autorisez les données de ce site.";
  }
  return null;
}

async function storageReport() {
  const lines = [];
  if (navigator.storage && navigator.storage.estimate) {
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    lines.push(`Espace utilisé par le portail sur ce navigateur : ${(usage / MB).toFixed(1)} Mo `
      + `sur ${(quota / MB).toFixed(0)} Mo disponibles.`);
  }
  let persisted = false;
  if (navigator.storage && navigator.storage.persist) {
    persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  }
  lines.push(persisted
    ? "Stockage persistant accordé : le navigateur ne supprimera pas ces données de lui-même."
    : "Stockage persistant refusé par le navigateur : il pourrait effacer ces données s'il manque "
      + "de place. Synchronisez dès que possible, ou exportez vos évaluations.");
  return { lines, persisted };
}

async function installWorker() {
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await registration.update().catch(() => {});
  // Resolves once a worker is active: its precache (the shell) is then complete.
  await navigator.serviceWorker.ready;
  return registration;
}

export async function generate(box) {
  const reason = await unavailableReason();
  if (reason) {
    say(box, [reason], "error-summary");
    return null;
  }
  say(box, ["Préparation du mode déconnecté…"]);
  try {
    await installWorker();
  } catch (error) {
    // Present but refused (a private window of some browsers, a blocking setting).
    say(box, [NO_WORKER], "error-summary");
    return null;
  }
  try {
    const { lines } = await storageReport();
    const browserId = await store.browserId();
    // No order named: the server packages every order this evaluator has reserved.
    const data = await graphql(GENERATE, { browserId });
    const result = data.generateOfflinePackage;
    if (result.__typename !== "OfflinePackageSuccess") {
      say(box, [result.message || "Le portail a refusé de générer le mode déconnecté."], "error-summary");
      return null;
    }
    const response = await fetch(DEFINITIONS_URL, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(`definitions: HTTP ${response.status}`);
    const definitions = await response.json();
    if (definitions.version !== result.definitionsVersion) throw new Error("definitions changed meanwhile");
    const pkg = { ...result.package, orders: result.orders };
    await store.savePackage({ id: pkg.id, browserId, createdAt: pkg.createdAt,
      orderIds: pkg.orders.map((o) => o.id) }, pkg.orders, definitions);
    store.notify();
    const count = pkg.orders.length;
    const summary = count === 0
      ? "Mode déconnecté généré, sans commande : réservez des commandes puis générez-le à nouveau."
      : `Mode déconnecté généré : ${countOf(count, "commande réservée est disponible", "commandes réservées sont disponibles")} sans réseau sur ce navigateur.`;
    say(box, [summary, ...lines]);
    return pkg;
  } catch (error) {
    const text = error instanceof SessionError
      ? "Vous n'êtes pas connecté au portail (ou votre session a expiré) : connectez-vous, puis "
        + "générez à nouveau le mode déconnecté."
      : "Le mode déconnecté n'a pas pu être généré (portail injoignable ou réponse inattendue) : "
        + "vérifiez la connexion et réessayez. Rien n'a été effacé sur ce navigateur.";
    say(box, [text], "error-summary");
    return null;
  }
}

const button = document.getElementById("generer-hors-ligne");
if (button) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await generate(document.getElementById("resultat-generation"));
    } finally {
      button.disabled = false;
    }
  });
}

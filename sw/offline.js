// The offline mode's home page (/hors-ligne/): the orders and evaluations on this browser,
// « Synchroniser », « Exporter », « Importer », and (online) the user's offline packages.
import * as store from "./store.js";
import "./generate.js";
import { synchronise, describe } from "./sync.js";
import { download, importText } from "./transfer.js";
import { graphql } from "./graphql.js";
import { lastOutcome } from "./badge.js";
import { beneficiaryName, countOf } from "./labels.js";

export const PACKAGES = `query OfflinePackages {
  offlinePackages(limit: 20) {
    items { id browserId createdAt supersededAt lastSynchronisedAt mayHoldUnsynchronisedWork }
  }
}`;

const STATE_LABELS = {
  draft: "En cours de saisie",
  ready: "À synchroniser",
  invalid: "Refusée : à corriger",
  conflict: "En conflit : conservée pour la caisse",
  synced: "Synchronisée",
};

const status = document.getElementById("etat-hors-ligne");

function announce(text, focus = true) {
  status.textContent = text;
  status.hidden = !text;
  if (text && focus) status.focus();
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  return td;
}

const frenchDate = (iso) => (iso ? new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" }) : "");
const frenchDay = (iso) => (iso ? new Date(`${iso}T12:00:00`).toLocaleDateString("fr-FR") : "");

async function render() {
  const orders = await store.orders();
  const records = await store.records();
  const byOrder = new Map();
  for (const r of records) if (!byOrder.has(r.orderId)) byOrder.set(r.orderId, r);

  const ordersTable = document.getElementById("commandes");
  const orderRows = orders.map((order) => {
    const tr = document.createElement("tr");
    const record = byOrder.get(String(order.id));
    const action = document.createElement("td");
    const link = document.createElement("a");
    link.href = `/hors-ligne/evaluation?commande=${encodeURIComponent(order.id)}`;
    link.textContent = `Évaluer ${beneficiaryName(order)}`;
    action.append(link);
    tr.append(cell(beneficiaryName(order)), cell(order.reference || order.id), cell(frenchDay(order.dueDate)),
      cell(record ? STATE_LABELS[record.state] : "Non commencée"), action);
    return tr;
  });
  ordersTable.tBodies[0].replaceChildren(...orderRows);
  ordersTable.hidden = orderRows.length === 0;
  document.getElementById("aucune-commande").hidden = orderRows.length > 0;

  const orderById = new Map(orders.map((o) => [String(o.id), o]));
  const recordsTable = document.getElementById("evaluations");
  const recordRows = records.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.clientId = r.clientId;
    tr.append(cell(beneficiaryName(orderById.get(r.orderId))), cell(STATE_LABELS[r.state] || r.state),
      cell(r.gir || ""), cell(frenchDate(r.updatedAt)), cell(r.message || ""));
    return tr;
  });
  recordsTable.tBodies[0].replaceChildren(...recordRows);
  recordsTable.hidden = recordRows.length === 0;
  document.getElementById("aucune-evaluation").hidden = recordRows.length > 0;
}

async function showPackages() {
  if (!navigator.onLine) return;
  let data;
  try {
    data = await graphql(PACKAGES, {});
  } catch (error) {
    return; // offline or signed out: the sentence already on the page stays
  }
  const mine = await store.browserId();
  const table = document.getElementById("paquets");
  const rows = ((data.offlinePackages || {}).items || []).map((p) => {
    const tr = document.createElement("tr");
    const here = p.browserId === mine ? "Ce navigateur-ci" : "Un autre navigateur";
    let state = p.supersededAt ? `Remplacé le ${frenchDate(p.supersededAt)}` : "En service";
    if (p.supersededAt && p.mayHoldUnsynchronisedWork) {
      state += " : il peut encore contenir des évaluations non synchronisées (synchronisez-les, ou exportez-les, depuis ce navigateur-là)";
    }
    tr.append(cell(frenchDate(p.createdAt)), cell(here), cell(state),
      cell(p.lastSynchronisedAt ? frenchDate(p.lastSynchronisedAt) : "Jamais"));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;
  document.getElementById("paquets-hors-ligne").hidden = rows.length > 0;
}

document.getElementById("synchroniser").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  announce("Synchronisation en cours…", false);
  try {
    announce(describe(await synchronise()));
  } finally {
    button.disabled = false;
    showPackages();
  }
});

document.getElementById("exporter").addEventListener("click", async () => {
  const count = await download();
  announce(count === 0 ? "Aucune évaluation non synchronisée : le fichier exporté est vide."
    : `${countOf(count, "évaluation exportée", "évaluations exportées")} dans le fichier téléchargé. `
      + "Importez-le sur l'autre navigateur, puis synchronisez.");
});

document.getElementById("importer").addEventListener("change", async (event) => {
  const input = event.currentTarget;
  const file = input.files && input.files[0];
  if (!file) return;
  try {
    if (file.size > 10 * 1024 * 1024) throw new Error("Ce fichier est trop gros pour un export d'évaluations (10 Mo au plus).");
    const { added, kept } = await importText(await file.text());
    announce(countOf(added, "évaluation importée", "évaluations importées")
      + (kept ? ` (${countOf(kept, "déjà présente sur ce navigateur, conservée", "déjà présentes sur ce navigateur, conservées")})` : "")
      + ". Synchronisez pour les envoyer au portail.");
  } catch (error) {
    announce(`Import refusé : ${error.message}`);
  } finally {
    input.value = "";
  }
});

document.addEventListener("ppas:synchronised", () => announce(lastOutcome.text, false));
store.onChange(render);
render();
showPackages();

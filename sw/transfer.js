// « Exporter » / « Importer »: the evaluations not yet synchronised, as a JSON file that
// another browser can load (a change of computer, a browser whose data will be cleared).
// The file carries each record whole (its client UUID too: the server then answers
// DUPLICATE to a record sent from both browsers, never a second evaluation) and the orders
// it needs, so the other browser can show and send it without the offline package.
import * as store from "./store.js";

export const FORMAT = "ppas-evaluations-hors-ligne";
export const FORMAT_VERSION = 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATES = ["draft", "ready", "invalid"];
const MAX_BYTES = 10 * 1024 * 1024;

export async function exportData() {
  const records = (await store.records()).filter((r) => store.UNSYNCED.includes(r.state));
  const orders = [];
  for (const id of new Set(records.map((r) => r.orderId))) {
    const order = await store.order(id);
    if (order) orders.push(order);
  }
  return {
    format: FORMAT, version: FORMAT_VERSION, exportedAt: new Date().toISOString(),
    browserId: await store.browserId(), records, orders,
    definitions: (await store.getMeta("definitions")) || null,
  };
}

export function fileName(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `evaluations-non-synchronisees-${now.getFullYear()}${pad(now.getMonth() + 1)}`
    + `${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}.json`;
}

/** Offer the export as a download; resolves to the number of records in it. */
export async function download() {
  const data = await exportData();
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName();
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return data.records.length;
}

class ImportError extends Error {}

function check(condition, message) {
  if (!condition) throw new ImportError(message);
}

/** The records and orders of a file's text, checked; throws ImportError in French. */
export function parse(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ImportError("Ce fichier n'est pas un export du portail (JSON illisible).");
  }
  check(data && data.format === FORMAT, "Ce fichier n'est pas un export « évaluations non synchronisées » du portail.");
  check(data.version === FORMAT_VERSION, `Ce fichier vient d'une autre version du portail (format ${data.version}) : exportez-le à nouveau.`);
  check(Array.isArray(data.records) && Array.isArray(data.orders), "Ce fichier est incomplet : exportez-le à nouveau.");
  data.records.forEach((r, i) => {
    const which = `Évaluation n° ${i + 1} du fichier`;
    check(r && typeof r === "object", `${which} : illisible.`);
    check(typeof r.clientId === "string" && UUID.test(r.clientId), `${which} : identifiant manquant ou invalide.`);
    check(r.orderId !== undefined && r.orderId !== null && String(r.orderId) !== "", `${which} : commande manquante.`);
    check(Number.isInteger(r.orderVersion), `${which} : version de la commande manquante.`);
    check(r.answers && typeof r.answers === "object" && !Array.isArray(r.answers), `${which} : réponses illisibles.`);
    check(STATES.includes(r.state), `${which} : état inconnu.`);
  });
  data.orders.forEach((o, i) => {
    check(o && typeof o === "object" && o.id !== undefined && o.id !== null, `Commande n° ${i + 1} du fichier : illisible.`);
  });
  return data;
}

/**
 * Load a file's records into this browser. A record already here under the same UUID is
 * kept as it is (the newest of the two, by updatedAt, wins). Resolves to {added, kept}.
 */
export async function importText(text) {
  const data = parse(text);
  let added = 0;
  let kept = 0;
  for (const order of data.orders) {
    if (!(await store.order(order.id))) await putOrder(order);
  }
  for (const incoming of data.records) {
    const current = await store.record(incoming.clientId);
    if (current && (current.state === "synced" || current.updatedAt >= incoming.updatedAt)) {
      kept += 1;
      continue;
    }
    await store.putRecord({
      clientId: incoming.clientId, orderId: String(incoming.orderId), orderVersion: incoming.orderVersion,
      answers: incoming.answers, state: incoming.state, message: incoming.message || "",
      gir: incoming.gir || null, importedAt: new Date().toISOString(),
    });
    added += 1;
  }
  if (data.definitions && !(await store.getMeta("definitions"))) await store.setMeta("definitions", data.definitions);
  return { added, kept };
}

async function putOrder(order) {
  const database = await store.db();
  await database.put("orders", { ...order, id: String(order.id) });
}

export { ImportError };

// The offline store: IndexedDB through `idb` (npm, served from node_modules).
//
// Stores:
//   meta     key → value: "browserId" (kept for good: it names this browser to the server),
//            "package" (the last offline package: id, generated at, orders), "definitions"
//            (the form's definitions and the AGGIR weights, as the server serves them).
//   orders   the reserved orders of the package, by id (kept while a record needs them).
//   records  one evaluation written here, by its client UUID: {clientId, orderId,
//            orderVersion, answers, state, message, gir, updatedAt, syncedAt}.
//
// A record's state: "draft" (being written), "ready" (complete and valid, to send),
// "invalid" / "conflict" (the server's receipt said so; its message is kept and shown),
// "synced" (accepted: kept a while as « synchronisée », then purged). Only a receipt
// moves a record out of ready: nothing is deleted on a hope.
import { openDB } from "/static/vendor/idb/index.js";

export const DB_NAME = "ppas-hors-ligne";
export const UNSYNCED = ["draft", "ready", "invalid"];
export const SYNCED_KEPT_DAYS = 30;

let opening = null;

export function available() {
  return typeof indexedDB !== "undefined" && indexedDB !== null;
}

export function db() {
  if (!opening) {
    opening = openDB(DB_NAME, 1, {
      upgrade(database) {
        database.createObjectStore("meta");
        database.createObjectStore("orders", { keyPath: "id" });
        const records = database.createObjectStore("records", { keyPath: "clientId" });
        records.createIndex("orderId", "orderId");
        records.createIndex("state", "state");
      },
      blocking() {
        // A newer page wants to upgrade the schema: let it (this page reloads its data).
        opening = null;
      },
    });
  }
  return opening;
}

/** True when IndexedDB can really be opened (private windows of some browsers refuse). */
export async function usable() {
  if (!available()) return false;
  try {
    await db();
    return true;
  } catch (error) {
    return false;
  }
}

export async function getMeta(key) {
  return (await db()).get("meta", key);
}

export async function setMeta(key, value) {
  return (await db()).put("meta", value, key);
}

export async function browserId() {
  const database = await db();
  const tx = database.transaction("meta", "readwrite");
  let id = await tx.store.get("browserId");
  if (!id) {
    id = crypto.randomUUID();
    await tx.store.put(id, "browserId");
  }
  await tx.done;
  return id;
}

/** Replace the package's orders; orders some record still needs are kept. */
export async function savePackage(pkg, orders, definitions) {
  const database = await db();
  const tx = database.transaction(["meta", "orders", "records"], "readwrite");
  const needed = new Set();
  for (const record of await tx.objectStore("records").getAll()) {
    if (record.state !== "synced") needed.add(String(record.orderId));
  }
  const ordersStore = tx.objectStore("orders");
  for (const order of await ordersStore.getAll()) {
    if (!needed.has(String(order.id))) await ordersStore.delete(order.id);
  }
  for (const order of orders) await ordersStore.put({ ...order, id: String(order.id) });
  await tx.objectStore("meta").put(pkg, "package");
  await tx.objectStore("meta").put(definitions, "definitions");
  await tx.done;
}

export async function orders() {
  return (await db()).getAll("orders");
}

export async function order(id) {
  return (await db()).get("orders", String(id));
}

export async function records() {
  const all = await (await db()).getAll("records");
  return all.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
}

export async function record(clientId) {
  return (await db()).get("records", clientId);
}

/** The record being written for an order (not synced, not in conflict), if any. */
export async function openRecordFor(orderId) {
  const list = await (await db()).getAllFromIndex("records", "orderId", String(orderId));
  return list.find((r) => r.state === "draft" || r.state === "ready" || r.state === "invalid");
}

export async function putRecord(value) {
  const stored = { ...value, orderId: String(value.orderId), updatedAt: new Date().toISOString() };
  await (await db()).put("records", stored);
  notify();
  return stored;
}

/** Change a record's state after a receipt; never deletes it. */
export async function markRecord(clientId, changes) {
  const database = await db();
  const tx = database.transaction("records", "readwrite");
  const current = await tx.store.get(clientId);
  if (current) await tx.store.put({ ...current, ...changes });
  await tx.done;
  notify();
}

export async function unsyncedCount() {
  const all = await (await db()).getAll("records");
  return all.filter((r) => UNSYNCED.includes(r.state)).length;
}

/** Drop the « synchronisée » records older than SYNCED_KEPT_DAYS; the others stay. */
export async function purgeSynced(now = new Date()) {
  const limit = now.getTime() - SYNCED_KEPT_DAYS * 86400000;
  const database = await db();
  const tx = database.transaction("records", "readwrite");
  for (const r of await tx.store.getAll()) {
    if (r.state === "synced" && r.syncedAt && Date.parse(r.syncedAt) < limit) {
      await tx.store.delete(r.clientId);
    }
  }
  await tx.done;
}

/** Every page's badge and lists listen to this (other tabs too). */
const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("ppas-hors-ligne") : null;

export function notify() {
  document.dispatchEvent(new CustomEvent("ppas:records-changed"));
  if (channel) channel.postMessage("changed");
}

export function onChange(listener) {
  document.addEventListener("ppas:records-changed", listener);
  if (channel) channel.addEventListener("message", listener);
}

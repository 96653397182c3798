// Synchronisation: the « ready » records go to `synchroniseEvaluations`, one per request, so
// that a connection cut halfway loses nothing: each record leaves « ready » only on its own
// receipt (ACCEPTED or DUPLICATE: « synchronisée »; CONFLICT or INVALID: kept with the
// server's message). A record whose request fails stays « ready » for the next attempt; the
// server answers DUPLICATE to a record it already has, so sending it again is harmless.
//
// The session and its CSRF token: the page may be a precached shell with no token in it, so
// the token is asked of /session/jeton, like static/js/billing-form.js does after a session
// expiry.
import * as store from "./store.js";
import { graphql, SessionError } from "./graphql.js";
import { countOf } from "./labels.js";

export const SYNCHRONISE = `mutation SynchroniseEvaluations($items: [EvaluationInput!]!) {
  synchroniseEvaluations(items: $items) { clientId status message gir problems { field message } }
}`;

let running = null;

const blankToNull = (value) => (typeof value === "string" && value.trim() === "" ? null : value ?? null);

/** The GraphQL input (EvaluationInput) of a record, its answers keyed by the form's fields. */
export function itemOf(record, definitions) {
  const answers = record.answers || {};
  const modalities = (codes) => (codes || [])
    .filter((code) => typeof answers[code] === "string" && answers[code] !== "")
    .map((code) => ({ code, modality: answers[code] }));
  return {
    clientId: record.clientId,
    orderId: String(record.orderId),
    orderVersion: record.orderVersion,
    packageId: record.packageId ? String(record.packageId) : null,
    visitDate: blankToNull(answers.visitDate),
    discriminant: modalities(definitions.discriminant),
    illustrative: modalities(definitions.illustrative),
    livingConditions: blankToNull(answers.livingConditions),
    needs: blankToNull(answers.needs),
    recommendedHoursPerMonth: blankToNull(answers.recommendedHoursPerMonth),
    preventionActions: Array.isArray(answers.preventionActions) ? answers.preventionActions : [],
    comments: blankToNull(answers.comments),
  };
}

/**
 * Send every ready record. Resolves to {sent, accepted, conflicts, invalid, left, error}:
 * `error` is "offline", "session" or "server" when it stopped before the end.
 */
export function synchronise() {
  if (!running) running = run().finally(() => { running = null; });
  return running;
}

async function run() {
  const outcome = { sent: 0, accepted: 0, conflicts: 0, invalid: 0, left: 0, error: null };
  const ready = (await store.records()).filter((r) => r.state === "ready").reverse();
  outcome.left = ready.length;
  if (!ready.length) return outcome;
  const definitions = (await store.getMeta("definitions")) || {};
  for (const record of ready) {
    let data;
    try {
      data = await graphql(SYNCHRONISE, { items: [itemOf(record, definitions)] });
    } catch (error) {
      outcome.error = error instanceof SessionError ? "session" : error.kind || "offline";
      break;
    }
    const receipt = (data.synchroniseEvaluations || []).find((r) => r.clientId === record.clientId);
    if (!receipt) {
      outcome.error = "server";
      break;
    }
    outcome.sent += 1;
    outcome.left -= 1;
    await applyReceipt(record, receipt);
    if (receipt.status === "ACCEPTED" || receipt.status === "DUPLICATE") outcome.accepted += 1;
    else if (receipt.status === "CONFLICT") outcome.conflicts += 1;
    else outcome.invalid += 1;
  }
  await store.purgeSynced();
  return outcome;
}

export async function applyReceipt(record, receipt) {
  const now = new Date().toISOString();
  const changes = { message: receipt.message || "", problems: receipt.problems || [],
    receiptStatus: receipt.status, receivedAt: now };
  if (receipt.status === "ACCEPTED" || receipt.status === "DUPLICATE") {
    Object.assign(changes, { state: "synced", syncedAt: now });
    if (receipt.gir) changes.gir = receipt.gir;
  } else if (receipt.status === "CONFLICT") {
    changes.state = "conflict";
  } else {
    changes.state = "invalid";
  }
  await store.markRecord(record.clientId, changes);
  await store.setMeta("lastSync", now);
}

/** A sentence about an outcome, for the status line. */
export function describe(outcome) {
  const parts = [];
  if (outcome.accepted) parts.push(countOf(outcome.accepted, "évaluation synchronisée", "évaluations synchronisées"));
  if (outcome.conflicts) {
    parts.push(countOf(outcome.conflicts, "en conflit, conservée pour l'examen de la caisse",
      "en conflit, conservées pour l'examen de la caisse"));
  }
  if (outcome.invalid) {
    parts.push(countOf(outcome.invalid, "refusée : ouvrez-la, corrigez-la puis synchronisez à nouveau",
      "refusées : ouvrez-les, corrigez-les puis synchronisez à nouveau"));
  }
  const done = parts.length ? parts.join(", ") + "." : "";
  const why = {
    offline: "Le portail est injoignable : les évaluations restantes restent sur ce navigateur et partiront à la prochaine synchronisation.",
    session: "Votre session n'est pas ouverte : connectez-vous au portail, puis synchronisez. Vos évaluations restent sur ce navigateur.",
    server: "Le portail n'a pas pu traiter l'envoi : les évaluations restantes restent sur ce navigateur ; réessayez plus tard.",
  }[outcome.error];
  if (why) return `${done} ${why}`.trim();
  if (!outcome.sent) return "Aucune évaluation prête à synchroniser.";
  return done;
}

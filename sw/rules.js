// The evaluation form's rules in the browser, read from the definitions the server serves at
// /evaluations/definitions.json (ppas/domain/evaluation_form.py: `definitions()`), and the GIR
// from the AGGIR table in the same JSON (ppas/domain/aggir.py: `table()`). One source: nothing
// here knows a field, a message or a weight; it interprets data, the way the server's
// `evaluation_form.validate` and `aggir.gir` do (tests/sw/test_rules_js.py compares them).
//
// Definitions: {version, sections: [{name, label}], fields: [field…], messages: {key: text},
//               aggir: {variables, modalities, groups, rankToGir}}
//   field: {name, label, section, type: "date"|"choice"|"multi"|"text"|"number", required,
//           options?: [{value, label}], min?, max?, step?, maxLength?,
//           dateBounds?: {notAfter: "today", notBefore: "orderCreatedOn"}}
//   aggir: groups tried in order: [{name, weights: {C: {code: n}, B: {code: n}},
//           ranks: [{threshold, rank}], otherwise: rank|null}], rankToGir: {rank: gir}
// Answers: field name → value as typed (strings; a "multi" field a list of strings).
"use strict";

export function fieldsOf(definitions) {
  return definitions.fields || [];
}

/** [{label, fields}] in the definitions' order of sections. */
export function sectionsOf(definitions) {
  const fields = fieldsOf(definitions);
  const sections = (definitions.sections || []).map((s) => ({
    name: s.name, label: s.label, fields: fields.filter((f) => f.section === s.name),
  }));
  const placed = new Set(sections.flatMap((s) => s.fields.map((f) => f.name)));
  const rest = fields.filter((f) => !placed.has(f.name));
  if (rest.length) sections.push({ name: "", label: "", fields: rest });
  return sections;
}

const isEmpty = (value) => value === undefined || value === null
  || (typeof value === "string" && value.trim() === "") || (Array.isArray(value) && value.length === 0);

const format = (template, values) => template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));

// Exact decimals (value = digits × 10^exp) so that a bound or a step is checked like the
// server's Decimal, not through binary floating point.
function parseDecimal(text) {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === "" && (match[3] || "") === "")) return null;
  const fraction = match[3] || "";
  const digits = BigInt(`${match[1] === "-" ? "-" : ""}${match[2] || "0"}${fraction}`);
  return { digits, exp: Number(match[4] || 0) - fraction.length };
}

function aligned(a, b) {
  const exp = Math.min(a.exp, b.exp);
  return [a.digits * 10n ** BigInt(a.exp - exp), b.digits * 10n ** BigInt(b.exp - exp)];
}

function compare(a, b) {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function isMultiple(a, step) {
  const [x, y] = aligned(a, step);
  return y !== 0n && x % y === 0n;
}

/** Hours typed with a comma or a dot (spaces allowed), as the server reads them; or null. */
export function parseHours(value) {
  if (typeof value === "number") return Number.isFinite(value) ? parseDecimal(String(value)) : null;
  if (typeof value !== "string") return null;
  return parseDecimal(value.trim().replace(",", ".").replace(/\u202f/g, "").replace(/ /g, ""));
}

const pad = (n) => String(n).padStart(2, "0");

/** "AAAA-MM-JJ" (a date input) or "JJ/MM/AAAA" → "AAAA-MM-JJ" of a real day; or null. */
export function parseDate(value) {
  if (typeof value !== "string") return null;
  const text = value.trim();
  let year;
  let month;
  let day;
  if (text.includes("/")) {
    const parts = text.split("/");
    if (parts.length !== 3 || parts[2].trim().length !== 4 || !parts.every((p) => /^\s*\d+\s*$/.test(p))) return null;
    [day, month, year] = parts.map((p) => Number(p));
  } else {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!match) return null;
    [year, month, day] = match.slice(1).map(Number);
  }
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (year < 1 || probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    return null;
  }
  return `${String(year).padStart(4, "0")}-${pad(month)}-${pad(day)}`;
}

/** Today in Paris (the portal's day), "AAAA-MM-JJ". */
export function parisToday(now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(now);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

const frenchDate = (iso) => iso.split("-").reverse().join("/");

function check(field, value, messages, context) {
  const options = (field.options || []).map((o) => o.value);
  switch (field.type) {
    case "choice":
      return typeof value === "string" && options.includes(value) ? null : messages.choice;
    case "multi":
      return Array.isArray(value) && value.every((v) => typeof v === "string" && options.includes(v))
        ? null : messages.enum;
    case "text":
      if (typeof value !== "string") return messages.required;
      // Characters, not UTF-16 units: the server counts them so.
      return field.maxLength !== undefined && [...value].length > field.maxLength
        ? format(messages.maxLength, { maxLength: field.maxLength }) : null;
    case "number": {
      const number = parseHours(value);
      if (!number) return messages.number;
      if (compare(number, parseDecimal(String(field.min))) < 0 || compare(number, parseDecimal(String(field.max))) > 0) {
        return format(messages.range, { min: field.min, max: field.max });
      }
      return field.step && !isMultiple(number, parseDecimal(String(field.step))) ? messages.step : null;
    }
    case "date": {
      const day = parseDate(value);
      if (!day) return messages.date;
      const bounds = field.dateBounds || {};
      if (bounds.notAfter === "today" && day > context.today) return messages.notAfter;
      const notBefore = bounds.notBefore === "orderCreatedOn" ? context.orderCreatedOn : null;
      if (notBefore && day < notBefore) return format(messages.notBefore, { bound: frenchDate(notBefore) });
      return null;
    }
    default:
      return null; // a type this version does not know: the server still checks it
  }
}

/**
 * {fieldName: message} for every answer to correct; {} when the answers are valid.
 * context: {today: "AAAA-MM-JJ" (default: today in Paris), orderCreatedOn: "AAAA-MM-JJ"}.
 */
export function validate(definitions, answers, context = {}) {
  const messages = definitions.messages || {};
  const ctx = { today: context.today || parisToday(), orderCreatedOn: context.orderCreatedOn || null };
  const problems = {};
  for (const field of fieldsOf(definitions)) {
    const value = answers[field.name];
    if (isEmpty(value)) {
      if (field.required) problems[field.name] = messages.required;
      continue;
    }
    const message = check(field, value, messages, ctx);
    if (message) problems[field.name] = message;
  }
  return problems;
}

/** The GIR (1 to 6) of the discriminant modalities, or null while one is missing. */
export function gir(aggir, modalities) {
  if (!aggir) return null;
  const allowed = aggir.modalities || ["A", "B", "C"];
  if (aggir.variables.some((code) => !allowed.includes(modalities[code]))) return null;
  for (const group of aggir.groups) {
    let total = 0;
    for (const code of aggir.variables) {
      const weights = group.weights[modalities[code]]; // A weighs nothing
      if (weights) total += weights[code] || 0;
    }
    const reached = (group.ranks || []).find((r) => total >= r.threshold);
    const rank = reached ? reached.rank : group.otherwise;
    if (rank !== null && rank !== undefined) return aggir.rankToGir[String(rank)] ?? null;
  }
  return null;
}

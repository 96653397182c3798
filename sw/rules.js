// The evaluation form's rules, read from the definitions the server serves (one source: the
// same JSON drives the server's validation in ppas/domain/evaluation_form.py and this file;
// the AGGIR weights come from ppas/domain/aggir.py through the same JSON). Nothing here
// knows a field or a weight by heart: it interprets data.
//
// Definitions: {version, fields: [field…] or sections: [{title, fields: [field…]}],
//               rules?: [rule…], aggir: {variables, groups, ranks}}
//   field: {name, label, type: "date"|"choice"|"integer"|"decimal"|"text"|"multichoice",
//           required?, choices?: [{value, label}] | [value…], min?, max?, maxLength?,
//           pattern?, notAfterToday?, help?}
//   rule:  {rule: "required"|"min"|"max"|"maxLength"|"pattern"|"notAfterToday"|"requiredIf",
//           field, value?, when?: {field, equals}, message?}
//   aggir: {variables: [code…], groups: [{name, weights: {C: {code: n}, B: {code: n}},
//           thresholds: [{min, rank}] | [[min, rank]]}], ranks: {rank: gir} | [[rank, gir]]}
"use strict";

export function fieldsOf(definitions) {
  if (Array.isArray(definitions.fields)) return definitions.fields;
  return (definitions.sections || []).flatMap((section) => section.fields || []);
}

export function sectionsOf(definitions) {
  if (Array.isArray(definitions.sections)) return definitions.sections;
  return [{ title: "", fields: definitions.fields || [] }];
}

const empty = (value) => value === undefined || value === null
  || (typeof value === "string" && value.trim() === "") || (Array.isArray(value) && value.length === 0);

const choiceValues = (field) => (field.choices || []).map((c) => (typeof c === "object" ? String(c.value) : String(c)));

function todayIso(now) {
  // The evaluator's own day (the visit happens where they are).
  const d = now || new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const NUMBER = /^-?\d+(?:[.,]\d+)?$/;
const INTEGER = /^-?\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The message of one field's own constraints, or null when it is fine. */
function checkField(field, value, now) {
  const label = field.label || field.name;
  if (empty(value)) {
    return field.required ? `« ${label} » est obligatoire.` : null;
  }
  const text = Array.isArray(value) ? null : String(value).trim();
  switch (field.type) {
    case "date":
      if (!ISO_DATE.test(text) || Number.isNaN(Date.parse(text))) {
        return `« ${label} » : saisissez une date valide (jj/mm/aaaa).`;
      }
      if (field.notAfterToday && text > todayIso(now)) {
        return `« ${label} » ne peut pas être dans le futur.`;
      }
      break;
    case "choice":
      if (!choiceValues(field).includes(text)) {
        return `« ${label} » : choisissez l'une des réponses proposées.`;
      }
      break;
    case "multichoice": {
      const allowed = choiceValues(field);
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => !allowed.includes(String(v)))) {
        return `« ${label} » : ne cochez que des réponses proposées.`;
      }
      break;
    }
    case "integer":
    case "decimal": {
      const pattern = field.type === "integer" ? INTEGER : NUMBER;
      if (!pattern.test(text)) {
        return field.type === "integer" ? `« ${label} » : saisissez un nombre entier.`
          : `« ${label} » : saisissez un nombre.`;
      }
      const number = Number(text.replace(",", "."));
      if (field.min !== undefined && field.min !== null && number < field.min) {
        return `« ${label} » doit être au moins ${field.min}.`;
      }
      if (field.max !== undefined && field.max !== null && number > field.max) {
        return `« ${label} » doit être au plus ${field.max}.`;
      }
      break;
    }
    default:
      break;
  }
  if (text !== null && field.maxLength && text.length > field.maxLength) {
    return `« ${label} » : ${field.maxLength} caractères au plus (${text.length} saisis).`;
  }
  if (text !== null && field.pattern && !new RegExp(`^(?:${field.pattern})$`).test(text)) {
    return `« ${label} » n'a pas la forme attendue.`;
  }
  return null;
}

/** The message of one extra rule, or null. */
function checkRule(rule, answers, fieldsByName, now) {
  const field = fieldsByName.get(rule.field) || { name: rule.field, label: rule.field };
  const label = field.label || field.name;
  const value = answers[rule.field];
  const say = (fallback) => rule.message || fallback;
  switch (rule.rule) {
    case "required":
      return empty(value) ? say(`« ${label} » est obligatoire.`) : null;
    case "requiredIf": {
      const when = rule.when || {};
      const other = answers[when.field];
      const applies = Array.isArray(other) ? other.includes(when.equals) : String(other) === String(when.equals);
      return applies && empty(value) ? say(`« ${label} » est obligatoire.`) : null;
    }
    case "min":
      return !empty(value) && Number(String(value).replace(",", ".")) < rule.value
        ? say(`« ${label} » doit être au moins ${rule.value}.`) : null;
    case "max":
      return !empty(value) && Number(String(value).replace(",", ".")) > rule.value
        ? say(`« ${label} » doit être au plus ${rule.value}.`) : null;
    case "maxLength":
      return !empty(value) && String(value).length > rule.value
        ? say(`« ${label} » : ${rule.value} caractères au plus.`) : null;
    case "pattern":
      return !empty(value) && !new RegExp(`^(?:${rule.value})$`).test(String(value))
        ? say(`« ${label} » n'a pas la forme attendue.`) : null;
    case "notAfterToday":
      return !empty(value) && String(value) > todayIso(now)
        ? say(`« ${label} » ne peut pas être dans le futur.`) : null;
    default:
      return null; // a rule this version does not know: the server still checks it
  }
}

/** {fieldName: message} for every problem of `answers`; empty object when valid. */
export function validate(definitions, answers, now) {
  const errors = {};
  const fields = fieldsOf(definitions);
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const field of fields) {
    const message = checkField(field, answers[field.name], now);
    if (message) errors[field.name] = message;
  }
  for (const rule of definitions.rules || []) {
    if (errors[rule.field]) continue;
    const message = checkRule(rule, answers, byName, now);
    if (message) errors[rule.field] = message;
  }
  return errors;
}

function pairs(list, a, b) {
  if (Array.isArray(list)) return list.map((item) => (Array.isArray(item) ? item : [item[a], item[b]]));
  return Object.entries(list || {}).map(([k, v]) => [Number(k), v]);
}

/** The GIR (1 to 6) of the 10 discriminant modalities, or null while one is missing. */
export function gir(aggir, modalities) {
  if (!aggir) return null;
  for (const code of aggir.variables) {
    if (!["A", "B", "C"].includes(modalities[code])) return null;
  }
  let rank = null;
  for (const group of aggir.groups) {
    let sum = 0;
    for (const code of aggir.variables) {
      const weights = group.weights[modalities[code]];
      sum += (weights && weights[code]) || 0; // A weighs 0 everywhere
    }
    const reached = pairs(group.thresholds, "min", "rank").find(([min]) => sum >= min);
    if (reached) {
      rank = reached[1];
      break;
    }
  }
  if (rank === null) return null;
  const found = pairs(aggir.ranks, "rank", "gir").find(([r]) => Number(r) === Number(rank));
  return found ? Number(found[1]) : null;
}

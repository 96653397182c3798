// The evaluation form, offline: built from the definitions stored with the offline package,
// every change saved at once to IndexedDB (one record per evaluation, under a client UUID
// and the order's version), checked with the same declarative rules as the server
// (rules.js) and showing the GIR computed from the same weights.
import * as store from "./store.js";
import { fieldsOf, gir, sectionsOf, validate } from "./rules.js";
import { beneficiaryName } from "./labels.js";

const form = document.getElementById("evaluation");
const saved = document.getElementById("enregistrement");
const summary = document.getElementById("erreurs-evaluation");
const orderId = new URLSearchParams(location.search).get("commande");
let definitions = null;
let record = null;
let order = null;
const touched = new Set(); // fields the evaluator has changed: their messages show at once

function fieldId(name) {
  return `champ-${name}`;
}

function errorLine(field) {
  const error = document.createElement("p");
  error.className = "field-error";
  error.id = `erreur-${field.name}`;
  error.hidden = true;
  return error;
}

function buildChecks(field) {
  // Several answers: a group of check boxes under its legend.
  const group = document.createElement("fieldset");
  group.className = "evaluation-field";
  group.id = `groupe-${field.name}`;
  const legend = document.createElement("legend");
  legend.textContent = field.label + (field.required ? " (obligatoire)" : "");
  group.append(legend);
  (field.options || []).forEach((option, index) => {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = field.name;
    box.value = option.value;
    box.id = index === 0 ? fieldId(field.name) : `${fieldId(field.name)}-${option.value}`;
    box.setAttribute("aria-describedby", `erreur-${field.name}`);
    const label = document.createElement("label");
    label.htmlFor = box.id;
    label.textContent = option.label;
    const line = document.createElement("div");
    line.append(box, " ", label);
    group.append(line);
  });
  group.append(errorLine(field));
  return group;
}

function buildField(field) {
  if (field.type === "multi") return buildChecks(field);
  const wrapper = document.createElement("div");
  wrapper.className = "evaluation-field";
  const id = fieldId(field.name);
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = field.label + (field.required ? " (obligatoire)" : "");
  let input;
  if (field.type === "choice") {
    input = document.createElement("select");
    input.append(new Option("— choisir —", ""));
    for (const option of field.options || []) input.append(new Option(option.label, option.value));
  } else if (field.type === "text") {
    input = document.createElement("textarea");
    input.rows = 3;
  } else {
    input = document.createElement("input");
    input.type = field.type === "date" ? "date" : "text";
    if (field.type === "number") input.inputMode = "decimal";
  }
  input.id = id;
  input.name = field.name;
  if (field.required) input.setAttribute("aria-required", "true");
  input.setAttribute("aria-describedby", `erreur-${field.name}`);
  wrapper.append(label, input, errorLine(field));
  return wrapper;
}

function readAnswers() {
  const answers = {};
  for (const field of fieldsOf(definitions)) {
    if (field.type === "multi") {
      answers[field.name] = [...form.querySelectorAll(`input[type=checkbox][name="${field.name}"]`)]
        .filter((box) => box.checked).map((box) => box.value);
      continue;
    }
    const input = document.getElementById(fieldId(field.name));
    if (input) answers[field.name] = input.value;
  }
  return answers;
}

function fill(answers) {
  for (const field of fieldsOf(definitions)) {
    const value = answers[field.name];
    if (value === undefined || value === null) continue;
    if (field.type === "multi") {
      for (const box of form.querySelectorAll(`input[type=checkbox][name="${field.name}"]`)) {
        box.checked = Array.isArray(value) && value.includes(box.value);
      }
      continue;
    }
    const input = document.getElementById(fieldId(field.name));
    if (input) input.value = value;
  }
}

function showErrors(errors, all) {
  for (const field of fieldsOf(definitions)) {
    const message = errors[field.name];
    const error = document.getElementById(`erreur-${field.name}`);
    const input = document.getElementById(fieldId(field.name));
    if (!error || !input) continue;
    const shown = message && (all || touched.has(field.name));
    error.textContent = shown ? message : "";
    error.hidden = !shown;
    input.setAttribute("aria-invalid", shown ? "true" : "false");
  }
}

function showGir(answers) {
  const value = gir(definitions.aggir, answers);
  document.getElementById("gir").textContent = value ? String(value)
    : "— (renseignez les 10 variables discriminantes)";
  return value;
}

const context = () => ({ orderCreatedOn: order.createdOn || null });

const fieldLabel = (name) => (fieldsOf(definitions).find((f) => f.name === name) || { label: name }).label;

async function save(event) {
  if (event && event.target && event.target.name) touched.add(event.target.name);
  const answers = readAnswers();
  const errors = validate(definitions, answers, context());
  showErrors(errors, false);
  const value = showGir(answers);
  // A change to a finished (or refused) evaluation makes it a draft again until « Terminer ».
  record = await store.putRecord({ ...record, answers, gir: value, state: "draft", message: record.state === "invalid" ? record.message : "" });
  saved.textContent = `Enregistré sur ce navigateur à ${new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" })}.`;
}

async function finish(event) {
  event.preventDefault();
  const answers = readAnswers();
  const errors = validate(definitions, answers, context());
  showErrors(errors, true);
  const problems = Object.entries(errors);
  if (problems.length) {
    const list = document.createElement("ul");
    for (const [name, message] of problems) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `#${fieldId(name)}`;
      link.textContent = `${fieldLabel(name)} : ${message}`;
      item.append(link);
      list.append(item);
    }
    const title = document.createElement("p");
    title.textContent = problems.length === 1 ? "1 réponse est à corriger avant de terminer :"
      : `${problems.length} réponses sont à corriger avant de terminer :`;
    summary.replaceChildren(title, list);
    summary.hidden = false;
    summary.focus();
    record = await store.putRecord({ ...record, answers, state: "draft" });
    return;
  }
  summary.hidden = true;
  record = await store.putRecord({ ...record, answers, gir: showGir(answers), state: "ready", message: "" });
  saved.textContent = "Évaluation terminée : elle sera envoyée au portail à la prochaine synchronisation.";
  saved.setAttribute("tabindex", "-1");
  saved.focus();
}

async function start() {
  definitions = await store.getMeta("definitions");
  order = orderId ? await store.order(orderId) : null;
  if (!definitions || !order) {
    document.getElementById("commande").textContent = "Cette commande n'est pas sur ce navigateur : "
      + "générez le mode déconnecté depuis « Évaluations » après l'avoir réservée.";
    return;
  }
  document.getElementById("titre-evaluation").textContent = `Évaluation de ${beneficiaryName(order)}`;
  document.title = `Évaluation de ${beneficiaryName(order)} — PPAS`;
  const about = document.getElementById("commande");
  const b = order.beneficiary || {};
  about.textContent = `Commande ${order.reference || order.id}`
    + (b.fileNumber ? ` — dossier ${b.fileNumber}` : "") + (b.city ? ` — ${b.city}` : "")
    + (order.dueDate ? ` — échéance le ${order.dueDate.split("-").reverse().join("/")}` : "");

  const container = document.getElementById("champs");
  for (const section of sectionsOf(definitions)) {
    const fieldset = document.createElement("fieldset");
    if (section.label) {
      const legend = document.createElement("legend");
      legend.textContent = section.label;
      fieldset.append(legend);
    }
    for (const field of section.fields || []) fieldset.append(buildField(field));
    container.append(fieldset);
  }
  record = (await store.openRecordFor(order.id)) || {
    clientId: crypto.randomUUID(), orderId: String(order.id), orderVersion: order.version,
    packageId: ((await store.getMeta("package")) || {}).id || null,
    answers: {}, state: "draft", message: "", createdAt: new Date().toISOString(),
  };
  fill(record.answers);
  showGir(record.answers);
  if (record.state === "invalid") {
    const problems = (record.problems || []).map((p) => `${fieldLabel(p.field)} : ${p.message}`);
    summary.textContent = `Le portail a refusé cette évaluation : ${[record.message, ...problems].filter(Boolean).join(" ")}`;
    summary.hidden = false;
  }
  form.hidden = false;
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", finish);
  document.getElementById("titre-evaluation").focus();
}

start();

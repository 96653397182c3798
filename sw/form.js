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

function fieldId(name) {
  return `champ-${name}`;
}

function choiceOf(c) {
  return typeof c === "object" ? { value: String(c.value), label: c.label || String(c.value) } : { value: String(c), label: String(c) };
}

function buildField(field) {
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
    for (const c of (field.choices || []).map(choiceOf)) input.append(new Option(c.label, c.value));
  } else if (field.type === "multichoice") {
    input = document.createElement("select");
    input.multiple = true;
    for (const c of (field.choices || []).map(choiceOf)) input.append(new Option(c.label, c.value));
  } else if (field.type === "text" && (field.multiline || (field.maxLength || 0) > 200)) {
    input = document.createElement("textarea");
    input.rows = 3;
  } else {
    input = document.createElement("input");
    input.type = field.type === "date" ? "date" : "text";
    if (field.type === "integer" || field.type === "decimal") input.inputMode = field.type === "integer" ? "numeric" : "decimal";
  }
  input.id = id;
  input.name = field.name;
  const error = document.createElement("p");
  error.className = "field-error";
  error.id = `erreur-${field.name}`;
  error.hidden = true;
  input.setAttribute("aria-describedby", error.id);
  wrapper.append(label, input);
  if (field.help) {
    const help = document.createElement("p");
    help.className = "hint";
    help.id = `aide-${field.name}`;
    help.textContent = field.help;
    input.setAttribute("aria-describedby", `${help.id} ${error.id}`);
    wrapper.append(help);
  }
  wrapper.append(error);
  return wrapper;
}

function readAnswers() {
  const answers = {};
  for (const field of fieldsOf(definitions)) {
    const input = document.getElementById(fieldId(field.name));
    if (!input) continue;
    answers[field.name] = input.multiple ? [...input.selectedOptions].map((o) => o.value) : input.value;
  }
  return answers;
}

function fill(answers) {
  for (const field of fieldsOf(definitions)) {
    const input = document.getElementById(fieldId(field.name));
    const value = answers[field.name];
    if (!input || value === undefined || value === null) continue;
    if (input.multiple) {
      for (const option of input.options) option.selected = value.includes(option.value);
    } else {
      input.value = value;
    }
  }
}

function showErrors(errors, all) {
  for (const field of fieldsOf(definitions)) {
    const message = errors[field.name];
    const error = document.getElementById(`erreur-${field.name}`);
    const input = document.getElementById(fieldId(field.name));
    if (!error) continue;
    const shown = message && (all || input.dataset.touched);
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

async function save(event) {
  if (event && event.target && event.target.name) event.target.dataset.touched = "1";
  const answers = readAnswers();
  const errors = validate(definitions, answers);
  showErrors(errors, false);
  const value = showGir(answers);
  // A change to a finished (or refused) evaluation makes it a draft again until « Terminer ».
  record = await store.putRecord({ ...record, answers, gir: value, state: "draft", message: record.state === "invalid" ? record.message : "" });
  saved.textContent = `Enregistré sur ce navigateur à ${new Date().toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" })}.`;
}

async function finish(event) {
  event.preventDefault();
  const answers = readAnswers();
  const errors = validate(definitions, answers);
  showErrors(errors, true);
  const problems = Object.entries(errors);
  if (problems.length) {
    const list = document.createElement("ul");
    for (const [name, message] of problems) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `#${fieldId(name)}`;
      link.textContent = message;
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
  const order = orderId ? await store.order(orderId) : null;
  if (!definitions || !order) {
    document.getElementById("commande").textContent = "Cette commande n'est pas sur ce navigateur : "
      + "générez le mode déconnecté depuis « Évaluations » après l'avoir réservée.";
    return;
  }
  document.getElementById("titre-evaluation").textContent = `Évaluation de ${beneficiaryName(order)}`;
  document.title = `Évaluation de ${beneficiaryName(order)} — PPAS`;
  const about = document.getElementById("commande");
  about.textContent = `Commande ${order.id}` + (order.beneficiary && order.beneficiary.address ? ` — ${order.beneficiary.address}` : "");

  const container = document.getElementById("champs");
  for (const section of sectionsOf(definitions)) {
    const fieldset = document.createElement("fieldset");
    if (section.title) {
      const legend = document.createElement("legend");
      legend.textContent = section.title;
      fieldset.append(legend);
    }
    for (const field of section.fields || []) fieldset.append(buildField(field));
    container.append(fieldset);
  }
  record = (await store.openRecordFor(order.id)) || {
    clientId: crypto.randomUUID(), orderId: String(order.id), orderVersion: order.version,
    answers: {}, state: "draft", message: "", createdAt: new Date().toISOString(),
  };
  fill(record.answers);
  showGir(record.answers);
  if (record.state === "invalid" && record.message) {
    summary.textContent = `Le portail a refusé cette évaluation : ${record.message}`;
    summary.hidden = false;
  }
  form.hidden = false;
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", finish);
  document.getElementById("titre-evaluation").focus();
}

start();

// The online billing form: nothing typed is lost, and Enter never does anything but save.
//
// A save that fails (session expired, network lost, server error) is shown on its line and at
// the top, the typed value stays in the field, and the save is sent again: by itself after a
// network or server failure, and once the user has signed in again (in another tab) after a
// session expiry. Elements are looked up by id at each event, since « Enregistrer » swaps the
// whole content.
"use strict";
(() => {
  const SIGN_IN_AGAIN = "/connexion?suivant=/session/retablie";
  const pending = new Map(); // id of the element whose save failed → why ("session" | "network")
  let retryDelay = 2000;
  let retryTimer = null;

  const isFormPage = () => document.getElementById("formulaire") !== null;
  const lineOf = (id) => (/^[hs]-(\d+)$/.exec(id) || [])[1];

  // A saved field is replaced by its answer, so by the time a request ends the element htmx
  // reports may be out of the page, or stripped: note which element sent it when it starts.
  const senders = new WeakMap(); // XMLHttpRequest → id of the element that sent it
  const isSaveId = (id) => id === "formulaire" || Boolean(lineOf(id || ""));

  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt && isSaveId(elt.id) && event.detail.xhr) senders.set(event.detail.xhr, elt.id);
  });

  function markLine(lineId, text) {
    const status = document.getElementById("etat-" + lineId);
    if (!status) return;
    const span = document.createElement("span");
    span.className = "bf-error";
    span.textContent = text;
    status.replaceChildren(span);
  }

  function markFailure(id, why) {
    pending.set(id, why);
    const text = {
      session: "Non enregistré : session expirée. Votre saisie est gardée.",
      network: "Non enregistré : connexion perdue. Nouvel essai automatique…",
      refused: "Non enregistré : le portail a refusé l'envoi. Rechargez la page.",
    }[why];
    const lineId = lineOf(id);
    if (lineId) {
      markLine(lineId, text);
    } else {
      document.querySelectorAll("#formulaire tr[id^='ligne-']").forEach(
        (row) => markLine(row.id.slice("ligne-".length), text));
    }
    showAlert();
  }

  function showAlert() {
    const box = document.getElementById("alerte-enregistrement");
    if (!box) return;
    if (pending.size === 0) {
      box.replaceChildren();
      return;
    }
    const session = [...pending.values()].includes("session");
    const count = [...pending.keys()].some((id) => id === "formulaire")
      ? "Les saisies de cette page ne sont pas enregistrées"
      : pending.size === 1 ? "Une saisie n'est pas enregistrée"
        : `${pending.size} saisies ne sont pas enregistrées`;
    const message = document.createElement("p");
    const parts = [];
    if (session) {
      message.textContent = `${count} : votre session a expiré. Elles restent sur cette page. `
        + "Reconnectez-vous dans un nouvel onglet ; elles seront alors enregistrées ici.";
      const link = document.createElement("a");
      link.href = SIGN_IN_AGAIN;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Se reconnecter (nouvel onglet)";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.id = "enregistrer-mes-saisies";
      button.textContent = "Enregistrer mes saisies";
      button.addEventListener("click", () => refreshTokenThenRetry(true));
      parts.push(link, " ", button);
    } else if ([...pending.values()].includes("network")) {
      message.textContent = `${count} : la connexion au portail est perdue. `
        + "Elles restent sur cette page et seront envoyées dès que la connexion revient.";
    } else {
      message.textContent = `${count} : le portail a refusé l'envoi. `
        + "Notez vos saisies, rechargez la page, puis saisissez-les à nouveau.";
    }
    const actions = document.createElement("p");
    actions.append(...parts);
    box.replaceChildren(message, ...(parts.length ? [actions] : []));
  }

  function resend() {
    const ids = [...pending.keys()];
    pending.clear();
    for (const id of ids) {
      const elt = document.getElementById(id);
      if (!elt) continue;
      pending.set(id, "network"); // until its answer arrives
      htmx.trigger(elt, id === "formulaire" ? "submit" : "change");
    }
    showAlert();
  }

  function scheduleRetry() {
    if (retryTimer !== null) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if ([...pending.values()].includes("network")) resend();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function currentToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
    } catch (error) {
      return null;
    }
  }

  function useToken(token) {
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRF-Token": token }));
    document.querySelectorAll("input[name='csrf_token']").forEach((input) => { input.value = token; });
  }

  async function refreshTokenThenRetry(userAsked) {
    let answer;
    try {
      const response = await fetch("/session/jeton", { credentials: "same-origin", cache: "no-store" });
      answer = await response.json();
    } catch (error) {
      answer = null;
    }
    if (!answer || !answer.signedIn) {
      if (userAsked) {
        const box = document.getElementById("alerte-enregistrement");
        const note = document.createElement("p");
        note.textContent = "Vous n'êtes pas encore reconnecté : utilisez le lien « Se reconnecter », puis revenez ici.";
        if (box) box.append(note);
      }
      return;
    }
    if (answer.csrfToken === currentToken() && !userAsked) return; // nothing new to send with
    useToken(answer.csrfToken);
    for (const id of pending.keys()) pending.set(id, "network");
    resend();
  }

  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    const id = xhr && senders.get(xhr);
    if (!id) return;
    senders.delete(xhr); // htmx may report the end twice (on the element, then on a parent)
    const status = xhr.status;
    if (event.detail.successful) {
      const wasPending = pending.delete(id);
      if (id === "formulaire") {
        for (const key of [...pending.keys()]) pending.delete(key); // the whole page was saved
      }
      if (wasPending) retryDelay = 2000;
      showAlert();
    } else if (status === 401 || status === 403) {
      markFailure(id, "session");
      // A token refused although signed in: the user signed in again in another tab.
      refreshTokenThenRetry(false);
    } else if (status === 0 || status === 429 || status >= 500) {
      markFailure(id, "network");
      scheduleRetry();
    } else {
      markFailure(id, "refused");
    }
  });

  window.addEventListener("online", () => {
    if (pending.size) resend();
  });

  if ("BroadcastChannel" in window) {
    new BroadcastChannel("ppas-session").addEventListener("message", (event) => {
      if (event.data === "signed-in" && pending.size) refreshTokenThenRetry(false);
    });
  }

  window.addEventListener("beforeunload", (event) => {
    if (pending.size && isFormPage()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Enter in an hours field moves down the column, like a spreadsheet; leaving the field saves
  // it (its change event). Without this script, Enter submits « Enregistrer ».
  document.addEventListener("keydown", (event) => {
    const field = event.target;
    if (event.key !== "Enter" || event.isComposing || !(field instanceof HTMLInputElement)) return;
    const kind = (/^([hs])-\d+$/.exec(field.id) || [])[1];
    if (!kind || !field.closest("#formulaire")) return;
    event.preventDefault();
    const column = [...document.querySelectorAll(`#formulaire input[id^='${kind}-']:not([disabled])`)];
    const next = column[column.indexOf(field) + 1];
    const target = next || document.querySelector("#formulaire button[type='submit']:not([form])");
    if (target) target.focus();
  });
})();

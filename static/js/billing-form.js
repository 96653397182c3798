// The online billing form: nothing typed is lost, and Enter never does anything but save.
//
// A save (or a cross-out) that fails — session expired, network lost, server error — is shown
// on its line and at the top, the typed value stays in the field, and it is sent again: by
// itself after a network or server failure, and once the user has signed in again (in another
// tab) after a session expiry. Elements are looked up by id at each event, since
// « Enregistrer » swaps the whole content.
"use strict";
(() => {
  const SIGN_IN_AGAIN = "/connexion?suivant=/session/retablie";
  const pending = new Map(); // id of the element whose request failed → "session" | "network" | "refused"
  let inFlight = 0; // requests sent and not answered: leaving now could lose them
  let retryDelay = 2000;
  let retryTimer = null;

  const isFormPage = () => document.getElementById("formulaire") !== null;
  const lineOf = (id) => (/^(?:[hs]|barre)-(\d+)$/.exec(id) || [])[1];
  const isSaveId = (id) => id === "formulaire" || Boolean(lineOf(id || ""));

  function currentToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
    } catch (error) {
      return null;
    }
  }

  // A saved field is replaced by its answer, so by the time a request ends the element htmx
  // reports may be out of the page, or stripped: note which element sent it, and with which
  // CSRF token, when it starts.
  const senders = new WeakMap(); // XMLHttpRequest → {id, token}

  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt && isSaveId(elt.id) && event.detail.xhr) {
      senders.set(event.detail.xhr, { id: elt.id, token: currentToken() });
      inFlight += 1;
    }
  });

  function markLine(lineId, text) {
    const status = document.getElementById("etat-" + lineId);
    if (!status) return;
    const span = document.createElement("span");
    span.className = "bf-error";
    span.textContent = text;
    status.replaceChildren(span);
  }

  // Short on the line (a narrow column); the alert at the top says what to do.
  const LINE_TEXT = {
    session: "Non enregistré : session expirée",
    network: "Non enregistré : hors connexion",
    refused: "Non enregistré : refusé",
  };

  function markFailure(id, why) {
    pending.set(id, why);
    const lineId = lineOf(id);
    if (lineId) {
      markLine(lineId, LINE_TEXT[why]);
    } else {
      document.querySelectorAll("#formulaire tr[id^='ligne-']").forEach(
        (row) => markLine(row.id.slice("ligne-".length), LINE_TEXT[why]));
    }
    showAlert();
  }

  function alertText() {
    const whys = [...pending.values()];
    const count = pending.has("formulaire") ? "Les saisies de cette page ne sont pas enregistrées"
      : pending.size === 1 ? "Une saisie n'est pas enregistrée"
        : `${pending.size} saisies ne sont pas enregistrées`;
    const one = pending.size === 1 && !pending.has("formulaire");
    const kept = one ? "Elle reste sur cette page" : "Elles restent sur cette page";
    if (whys.includes("session")) {
      return [`${count} : votre session a expiré. ${kept}. Reconnectez-vous dans un nouvel `
        + `onglet ; ${one ? "elle sera alors enregistrée" : "elles seront alors enregistrées"} ici.`, true];
    }
    if (whys.includes("network")) {
      return [`${count} : la connexion au portail est perdue. ${kept} et `
        + `${one ? "sera envoyée" : "seront envoyées"} dès que la connexion revient.`, false];
    }
    return [`${count} : le portail a refusé l'envoi. `
      + "Notez vos saisies, rechargez la page, puis saisissez-les à nouveau.", false];
  }

  // Rewritten only when its words change: a live region re-announces every rewrite, and the
  // button inside must not vanish under the keyboard focus.
  function showAlert(note) {
    const box = document.getElementById("alerte-enregistrement");
    if (!box) return;
    if (pending.size === 0) {
      box.replaceChildren();
      return;
    }
    const [text, session] = alertText();
    const shown = box.querySelector("p.bf-alert-text");
    if (!shown || shown.textContent !== text) {
      const message = document.createElement("p");
      message.className = "bf-alert-text";
      message.textContent = text;
      const nodes = [message];
      if (session) {
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
        const actions = document.createElement("p");
        actions.append(link, " ", button);
        nodes.push(actions);
      }
      box.replaceChildren(...nodes);
    }
    const previous = box.querySelector("p.bf-alert-note");
    if (note) {
      const line = previous || document.createElement("p");
      line.className = "bf-alert-note";
      line.textContent = note;
      if (!previous) box.append(line);
    } else if (previous) {
      previous.remove();
    }
  }

  function resend() {
    const ids = [...pending.keys()];
    pending.clear();
    for (const id of ids) {
      const elt = document.getElementById(id);
      if (!elt) continue;
      pending.set(id, "network"); // until its answer arrives
      const event = id === "formulaire" ? "submit" : id.startsWith("barre-") ? "click" : "change";
      htmx.trigger(elt, event);
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

  function useToken(token) {
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRF-Token": token }));
    document.querySelectorAll("input[name='csrf_token']").forEach((input) => { input.value = token; });
  }

  async function refreshTokenThenRetry(userAsked) {
    let answer;
    try {
      const response = await fetch("/session/jeton", { credentials: "same-origin", cache: "no-store" });
      answer = response.ok ? await response.json() : null;
    } catch (error) {
      answer = null;
    }
    if (!answer || !answer.signedIn) {
      if (userAsked) {
        showAlert("Vous n'êtes pas encore reconnecté : utilisez le lien « Se reconnecter », "
          + "puis revenez ici.");
      }
      return;
    }
    if (answer.csrfToken === currentToken() && !userAsked) return; // nothing new to send with
    useToken(answer.csrfToken);
    for (const id of pending.keys()) pending.set(id, "network");
    resend();
    if (userAsked) {
      const announce = document.getElementById("annonce-formulaire");
      if (announce) announce.focus();
    }
  }

  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    const sent = xhr && senders.get(xhr);
    if (!sent) return;
    senders.delete(xhr); // htmx may report the end twice (on the element, then on a parent)
    inFlight = Math.max(0, inFlight - 1);
    const { id, token } = sent;
    const status = xhr.status;
    if (event.detail.successful) {
      const wasPending = pending.delete(id);
      if (id === "formulaire") pending.clear(); // the whole page was saved
      if (wasPending) retryDelay = 2000;
      showAlert();
    } else if (status === 401 || (status === 403 && xhr.getResponseHeader("X-PPAS-Refus") === "jeton")) {
      markFailure(id, "session");
      if (token !== currentToken()) {
        resend(); // sent with a token replaced since (signed in again meanwhile)
      } else {
        refreshTokenThenRetry(false); // a 403: the user may have signed in again elsewhere
      }
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
    if ((pending.size || inFlight) && isFormPage()) {
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

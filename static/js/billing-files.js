// « Fichiers »: drag and drop onto the drop zone, upload progress, focus on the report.
(() => {
  const byId = (id) => document.getElementById(id);
  let phase = "idle";
  let lastAnnounced = -1;

  function say(text) {
    const status = byId("etat-envoi");
    if (status) status.textContent = text;
  }

  function showChosen(input) {
    const chosen = byId("fichier-choisi");
    if (chosen && input.files && input.files.length) {
      chosen.textContent = "Fichier choisi : " + input.files[0].name;
    }
  }

  document.addEventListener("change", (event) => {
    if (event.target && event.target.id === "fichier") showChosen(event.target);
  });

  // The drop zone only adds a shortcut: the file input keeps working with the keyboard.
  ["dragenter", "dragover"].forEach((name) => document.addEventListener(name, (event) => {
    const zone = event.target.closest && event.target.closest("#zone-depot");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  document.addEventListener("dragleave", (event) => {
    const zone = event.target.closest && event.target.closest("#zone-depot");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    const zone = event.target.closest && event.target.closest("#zone-depot");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    const input = byId("fichier");
    if (input && event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      showChosen(input);
      input.focus();
    }
  });

  document.addEventListener("htmx:beforeSend", (event) => {
    if (event.target.id !== "envoi-fichier") return;
    const box = byId("progression");
    const bar = byId("barre-envoi");
    if (!box || !bar) return;
    phase = "upload";
    lastAnnounced = -1;
    box.hidden = false;
    bar.setAttribute("value", "0");
    bar.textContent = "0 %";
    byId("libelle-envoi").textContent = "Envoi du fichier : 0 %";
    say("Envoi du fichier en cours…");
  });

  document.addEventListener("htmx:xhr:progress", (event) => {
    if (event.target.id !== "envoi-fichier" || phase !== "upload") return;
    const detail = event.detail;
    if (!detail.lengthComputable || !detail.total) return;
    const percent = Math.min(100, Math.round((detail.loaded / detail.total) * 100));
    const bar = byId("barre-envoi");
    bar.setAttribute("value", String(percent));
    bar.textContent = percent + " %";
    byId("libelle-envoi").textContent = "Envoi du fichier : " + percent + " %";
    const step = Math.floor(percent / 25);
    if (step > lastAnnounced && percent < 100) {  // announce every quarter, not every event
      lastAnnounced = step;
      say("Envoi du fichier : " + percent + " %");
    }
    if (detail.loaded >= detail.total) {
      phase = "checking";
      bar.removeAttribute("value");  // indeterminate while the server checks the file
      bar.textContent = "Vérification en cours…";
      byId("libelle-envoi").textContent = "Vérification en cours…";
      say("Fichier envoyé. Vérification en cours…");
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.target.id !== "envoi-fichier") return;
    phase = "idle";
    const box = byId("progression");
    if (box) box.hidden = true;
    if (!event.detail.successful) {
      say("L'envoi a échoué (connexion interrompue ou erreur du serveur). Réessayez.");
      if (box) box.hidden = false;
    }
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    if (!target || target.id !== "compte-rendu") return;
    const heading = byId("titre-compte-rendu");
    if (heading) heading.focus();
    const report = target.querySelector("[data-announce]");
    const alert = target.querySelector("[role=alert]");
    say(report ? report.getAttribute("data-announce") : (alert ? alert.textContent.trim() : ""));
    const input = byId("fichier");
    if (input) {
      const described = "aide-fichier fichier-choisi";
      if (alert) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", described + " erreur-envoi");
      } else {
        input.removeAttribute("aria-invalid");
        input.setAttribute("aria-describedby", described);
      }
    }
  });
})();

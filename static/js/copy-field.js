// "Copier" buttons next to read-only fields (the API token shown once).
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById("copie-faite");
  if (!field || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = "Jeton copié dans le presse-papiers.";
    } catch {
      field.select();
      if (status) status.textContent = "Copie impossible : le jeton est sélectionné, copiez-le avec Ctrl+C.";
    }
  });
}

// Keeps keyboard and screen-reader users oriented after htmx swaps content.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "contenu") return;
  const heading = target.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
    const live = document.getElementById("annonces");
    if (live) live.textContent = heading.textContent + " — page chargée";
  }
});

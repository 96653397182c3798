// GraphiQL in the portal's own page (templates/pages/graphiql.html), under its strict CSP:
// no inline script. React, ReactDOM, GraphiQL and the explorer plugin are the UMD builds the
// page loads just before this file, all from the portal's origin (node_modules, app.py).
// A classic script (not a module), so that document.currentScript gives the style nonce.
(function () {
  "use strict";

  // When a menu or a dialog opens, GraphiQL's modal layer (Radix, react-remove-scroll) adds
  // one <style> element that locks the page's scroll; it sets the nonce it finds here on it,
  // the one the page's policy allows (style-src 'self' 'nonce-…', this page only).
  window.__webpack_nonce__ = document.currentScript.nonce;

  const host = document.getElementById("graphiql");

  // The session cookie goes with every same-origin fetch; a cookie-authenticated request
  // must also carry the session's CSRF token, which the page gives in a data- attribute.
  // The portal refuses a request in plain French text (CSRF token stale, session expired):
  // the result pane shows it as a GraphQL error rather than a JSON parse failure.
  async function portalFetch(input, init) {
    const response = await fetch(input, { ...init, credentials: "same-origin" });
    const type = response.headers.get("content-type") || "";
    if (!response.ok && !type.includes("json")) {
      const message = (await response.text()).trim() || `Erreur HTTP ${response.status}`;
      return new Response(JSON.stringify({ errors: [{ message }] }), {
        status: response.status,
        headers: { "content-type": "application/json" },
      });
    }
    return response;
  }

  const fetcher = GraphiQL.createFetcher({
    url: host.dataset.endpoint,
    headers: { "X-CSRF-Token": host.dataset.csrfToken },
    fetch: portalFetch,
  });

  // Each CodeMirror editor scrolls inside its own box, while its keyboard input is a hidden
  // textarea outside that box: the box itself becomes a tab stop, so that the arrow keys
  // scroll a long query or result (WCAG 2.1.1; axe's scrollable-region-focusable).
  // CodeMirror's hidden textareas carry no name: each gets the one of its editor, in French
  // (GraphiQL's root is lang="en": the label says its own language).
  const EDITOR_LABELS = [
    [".graphiql-query-editor", "Requête GraphQL"],
    [".graphiql-editor-tool", "Variables de la requête (JSON)"],
    [".result-window", "Résultat de la requête"],
  ];
  function fitEditors() {
    for (const scroller of host.querySelectorAll(".CodeMirror-scroll[tabindex='-1']")) {
      scroller.setAttribute("tabindex", "0");
    }
    for (const [selector, label] of EDITOR_LABELS) {
      for (const field of host.querySelectorAll(`${selector} .CodeMirror textarea:not([aria-label])`)) {
        field.setAttribute("aria-label", label);
        field.setAttribute("lang", "fr");
      }
    }
  }
  new MutationObserver(fitEditors).observe(host, { childList: true, subtree: true });

  ReactDOM.createRoot(document.getElementById("graphiql-root")).render(
    React.createElement(GraphiQL, {
      fetcher,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultQuery: host.dataset.defaultQuery,
      // The CSRF header is added above; a header typed by hand would only confuse.
      isHeadersEditorEnabled: false,
      defaultEditorToolsVisibility: false,
      // The portal is light; static/css/graphiql.css darkens this palette for contrast.
      forcedTheme: "light",
      // Tabs and history stay in this browser tab's session, not on a shared machine's disk.
      storage: window.sessionStorage,
    }),
  );
})();

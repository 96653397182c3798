// Loads the self-hosted ALTCHA widget under the portal's strict CSP (script-src 'self'):
// the "external" build ships no inline styles and no blob: workers, so the proof-of-work
// workers are registered here from same-origin files before the widget starts.
import "/static/vendor/altcha/i18n/fr-fr.js";

const worker = (file) => () => new Worker(`/static/vendor/altcha/workers/${file}.js`);
for (const algorithm of ["PBKDF2/SHA-256", "PBKDF2/SHA-384", "PBKDF2/SHA-512"]) {
  globalThis.$altcha.algorithms.set(algorithm, worker("pbkdf2"));
}
for (const algorithm of ["SHA-256", "SHA-384", "SHA-512"]) {
  globalThis.$altcha.algorithms.set(algorithm, worker("sha"));
}

import("/static/vendor/altcha/external/altcha.js");

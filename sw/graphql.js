// GraphQL over fetch with the session's cookie and its CSRF token (asked of /session/jeton:
// a precached page has none in it). Errors are sorted so callers can say what to do:
// SessionError (not signed in, or the token was refused), RequestError with kind "offline"
// (no answer at all) or "server" (an answer that is not a GraphQL result).
export class SessionError extends Error {}

export class RequestError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

let token = null;

export async function csrfToken(fresh = false) {
  if (token && !fresh) return token;
  let response;
  try {
    response = await fetch("/session/jeton", { credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    throw new RequestError("offline", String(error));
  }
  if (!response.ok) throw new RequestError("server", `HTTP ${response.status}`);
  const answer = await response.json();
  if (!answer.signedIn) throw new SessionError("not signed in");
  token = answer.csrfToken;
  return token;
}

export async function graphql(query, variables, retried = false) {
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": await csrfToken() };
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST", credentials: "same-origin", cache: "no-store", headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new RequestError("offline", String(error));
  }
  if (response.status === 401 || response.status === 403) {
    if (!retried) {
      token = null; // signed in again meanwhile (another tab): try once with the new token
      return graphql(query, variables, true);
    }
    throw new SessionError(`HTTP ${response.status}`);
  }
  let body;
  try {
    body = await response.json();
  } catch (error) {
    throw new RequestError(response.status >= 500 ? "offline" : "server", `HTTP ${response.status}`);
  }
  if (body.errors && body.errors.length) {
    const codes = body.errors.map((e) => (e.extensions || {}).code);
    if (codes.includes("UNAUTHENTICATED") || codes.includes("FORBIDDEN")) throw new SessionError(body.errors[0].message);
    throw new RequestError("server", body.errors.map((e) => e.message).join(" "));
  }
  return body.data;
}

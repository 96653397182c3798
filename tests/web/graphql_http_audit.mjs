// Runs the graphql-http conformance audit (npm `graphql-http`) against a live PPAS server.
// Usage: node tests/web/graphql_http_audit.mjs http://127.0.0.1:PORT/graphql
// Prints one JSON line per audit: {id, name, status, reason}; tests/web/test_graphql_http_audit.py
// fails on any MUST or SHOULD that is not "ok".
import { serverAudits } from "graphql-http";

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status,
                 reason: result.status === "ok" ? "" : result.reason });
}
process.stdout.write(JSON.stringify(results) + "\n");

"""Example vendor client: upload a billing file to PPAS with an API token, print the report.

    python examples/vendor_client.py FILE.xml [--url http://127.0.0.1:8000] [--dry-run]
                                     [--idempotency-key KEY]

The token comes from the PPAS_TOKEN environment variable (create one with
`ppas token create --login demoadmin --name "Mon logiciel"`). Plain httpx, following the
GraphQL multipart request spec. Exit status: 0 accepted, 1 refused, 2 error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import httpx

SUBMIT = """mutation($file: Upload!, $dryRun: Boolean) {
  submitBillingFile(file: $file, dryRun: $dryRun) {
    __typename
    ... on BillingFileReport {
      id name status dryRun replayed lineCount acceptedCount totalAmount anomalyCount
      anomalies { code phase recordNumber message }
    }
    ... on BillingFileError { message }
  }
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", default=os.environ.get("PPAS_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--dry-run", action="store_true", help="check only, store nothing")
    parser.add_argument("--idempotency-key", help="retry-safe key: a repeat returns the first result")
    args = parser.parse_args()
    token = os.environ.get("PPAS_TOKEN")
    if not token:
        print("Set PPAS_TOKEN to an API token.", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {token}"}
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key
    operations = {"query": SUBMIT, "variables": {"file": None, "dryRun": args.dry_run}}
    with args.file.open("rb") as handle:
        response = httpx.post(
            f"{args.url.rstrip('/')}/graphql", headers=headers, timeout=300,
            data={"operations": json.dumps(operations),
                  "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (args.file.name, handle, "application/xml")})
    if response.status_code != 200:
        print(f"HTTP {response.status_code}: {response.text}", file=sys.stderr)
        return 2
    body = response.json()
    if body.get("errors"):
        print(json.dumps(body["errors"], ensure_ascii=False, indent=2), file=sys.stderr)
        return 2
    result = body["data"]["submitBillingFile"]
    if result["__typename"] == "BillingFileError":
        print(result["message"], file=sys.stderr)
        return 2
    print(f"{result['name']}: {result['status']}"
          f"{' (essai, rien enregistré)' if result['dryRun'] else ''}"
          f"{' (résultat du premier envoi)' if result['replayed'] else ''}")
    print(f"lignes : {result['lineCount']}, acceptées : {result['acceptedCount']}, "
          f"montant : {result['totalAmount']} €, anomalies : {result['anomalyCount']}")
    for anomaly in result["anomalies"]:
        record = f" enregistrement {anomaly['recordNumber']}" if anomaly["recordNumber"] else ""
        print(f"  {anomaly['code']}{record} : {anomaly['message']}")
    return 0 if result["status"] == "accepted" else 1


if __name__ == "__main__":
    sys.exit(main())

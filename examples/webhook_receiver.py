"""Example receiver of PPAS webhooks: checks each notification's signature, refuses old ones,
ignores repeats, prints the event.

    PPAS_WEBHOOK_SECRET=whsec_… python examples/webhook_receiver.py [--port 8081] [--host 127.0.0.1]

Python's standard library only. The portal POSTs a JSON body with the headers
`X-PPAS-Event`, `X-PPAS-Event-Id` and `X-PPAS-Signature: t=<unix time>,v1=<hex>`, where v1 is
HMAC-SHA256(secret, "<t>.<raw body>"). This receiver answers:

* 401 when the signature is missing or wrong (the body was not sent by the portal with this
  secret, or was changed on the way);
* 400 when `t` is more than TOLERANCE seconds away from this machine's clock (a replayed
  notification);
* 200 otherwise — also for an event id already processed (the portal sends the same id again
  when it retries or when an administrator clicks « Renvoyer »: process it once).

Anything but 2xx makes the portal try again later. In production, keep the processed ids in
a database, answer quickly and do the work afterwards, and serve it behind HTTPS.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

TOLERANCE = 300  # seconds
MAX_BODY = 1024 * 1024


def verify(secret: str, header: str, body: bytes, now: float | None = None,
           tolerance: int = TOLERANCE) -> str | None:
    """What is wrong with a notification, or None when its signature holds and is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not given:
        return "signature missing"
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return "signature mismatch"
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return "timestamp too old"
    return None


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen: ClassVar[set[str]] = set()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._answer(413, "body too large")
        body = self.rfile.read(length)
        problem = verify(self.secret, self.headers.get("X-PPAS-Signature", ""), body)
        if problem:
            return self._answer(400 if problem == "timestamp too old" else 401, problem)
        event_id = self.headers.get("X-PPAS-Event-Id", "")
        if event_id in self.seen:
            return self._answer(200, "already processed")
        self.seen.add(event_id)
        event = json.loads(body)
        print(json.dumps({"received": event["event"], "id": event["id"], "data": event["data"]},
                         ensure_ascii=False), flush=True)
        return self._answer(200, "ok")

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        print(format % args, file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    secret = os.environ.get("PPAS_WEBHOOK_SECRET", "")
    if not secret:
        sys.exit("Set PPAS_WEBHOOK_SECRET to the signing key shown when the address was added.")
    Receiver.secret = secret
    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    print(f"listening on http://{args.host}:{server.server_port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

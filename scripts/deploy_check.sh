#!/usr/bin/env bash
# Follows docs/deploy.md from scratch on this machine and fails at the first step that does
# not do what the guide says: a temporary PostgreSQL cluster, the web processes started
# BEFORE the migration (/readyz 503, migrations pending), `ppas migrate` (/readyz 200),
# `ppas serve --workers 2` (two processes), /healthz, a page, /metrics (404 without the
# token, the figures with it), `ppas backup` pointing at pg_dump, pg_dump + pg_restore into
# a second database that a server finds current.
#
#   scripts/deploy_check.sh            (uses .venv/bin/python; PostgreSQL from Debian's package)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
WORK=$(mktemp -d /tmp/ppas-deploy-XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK"
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
step() { echo "--- $*"; }
fail() { echo "DEPLOY CHECK FAILED: $*"; [ -f "$WORK/serve.log" ] && tail -20 "$WORK/serve.log"; exit 1; }

PG_PORT=$(free_port)
SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step "1. PostgreSQL ($("$PGBIN/postgres" --version)) on port $PG_PORT"
as_pg "$PGBIN/initdb" -D "$WORK/data" -U ppas --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U ppas ppas

step "3. production settings"
export DATABASE_URL="postgres://ppas@127.0.0.1:$PG_PORT/ppas"
export PPAS_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
export PPAS_METRICS_TOKEN=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')
export PPAS_LOG_FORMAT=json PPAS_JOBS=off PPAS_FORWARDED_ALLOW_IPS=127.0.0.1
unset PPAS_DEVELOPMENT PROMETHEUS_MULTIPROC_DIR
APP_PORT=$(free_port)
URL="http://127.0.0.1:$APP_PORT"

step "4. ppas serve --workers 2 (before the migration: it must not migrate by itself)"
(cd "$ROOT" && exec "$PY" -m ppas serve --host 127.0.0.1 --port "$APP_PORT" --workers 2) \
  >"$WORK/serve.log" 2>&1 &
SERVERS+=($!)
for _ in $(seq 1 150); do curl -fs "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/healthz" | grep -q '"status":"ok"' || fail "/healthz does not answer"
status=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "$URL/readyz")
[ "$status" = 503 ] || fail "/readyz is $status before the migration, expected 503"
grep -q '"pending"' "$WORK/ready.json" || fail "/readyz does not list the pending migrations"
echo "    /readyz before migrating: 503 $(cut -c1-120 "$WORK/ready.json")…"

step "2. ppas migrate"
(cd "$ROOT" && "$PY" -m ppas migrate) | sed 's/^/    /'
status=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "$URL/readyz")
[ "$status" = 200 ] || fail "/readyz is $status after the migration: $(cat "$WORK/ready.json")"
echo "    /readyz: 200 $(cat "$WORK/ready.json")"
workers=$(ps --ppid "${SERVERS[0]}" -o args= | grep -c spawn_main || true)
[ "$workers" -ge 2 ] || fail "expected 2 worker processes, found $workers"
echo "    $workers worker processes under ppas serve (pid ${SERVERS[0]})"

step "5./7. pages, request id, metrics"
for _ in $(seq 1 30); do curl -fs -H 'Connection: close' "$URL/" >/dev/null || fail "the home page"; done
rid=$(curl -s -D - -o /dev/null -H 'X-Request-ID: deploy-check-0001' "$URL/connexion" \
      | tr -d '\r' | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')
[ "$rid" = deploy-check-0001 ] || fail "X-Request-ID not returned ($rid)"
grep -q '"request_id": "deploy-check-0001"' "$WORK/serve.log" || fail "no JSON log line with the request id"
status=$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics" -H 'Authorization: Bearer wrong')
[ "$status" = 404 ] || fail "/metrics without the token answers $status, expected 404"
curl -fs "$URL/metrics" -H "Authorization: Bearer $PPAS_METRICS_TOKEN" >"$WORK/metrics.txt" \
  || fail "/metrics with the token"
count=$(grep -E '^ppas_http_request_duration_seconds_count\{method="GET",route="/",status="200"\}' \
        "$WORK/metrics.txt" | awk '{print int($2)}')
[ "${count:-0}" -ge 30 ] || fail "/metrics counts ${count:-0} home pages of 30 (multiprocess sum)"
echo "    /metrics: $count home pages counted across both processes"

step "9. backups: ppas backup says pg_dump; pg_dump + pg_restore"
set +e; (cd "$ROOT" && "$PY" -m ppas backup "$WORK/x.sqlite3") 2>"$WORK/backup.err"; code=$?; set -e
[ "$code" = 2 ] && grep -q pg_dump "$WORK/backup.err" || fail "ppas backup on PostgreSQL ($code)"
"$PGBIN/pg_dump" --format=custom --file="$WORK/ppas.dump" "$DATABASE_URL"
"$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U ppas ppas_restored
"$PGBIN/pg_restore" --no-owner --dbname="postgres://ppas@127.0.0.1:$PG_PORT/ppas_restored" "$WORK/ppas.dump"
RESTORED_PORT=$(free_port)
(cd "$ROOT" && DATABASE_URL="postgres://ppas@127.0.0.1:$PG_PORT/ppas_restored" \
  exec "$PY" -m ppas serve --host 127.0.0.1 --port "$RESTORED_PORT") >"$WORK/restored.log" 2>&1 &
SERVERS+=($!)
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$RESTORED_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
status=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "http://127.0.0.1:$RESTORED_PORT/readyz")
[ "$status" = 200 ] || fail "/readyz on the restored database: $status $(cat "$WORK/ready.json")"
echo "    restored database: /readyz 200"

echo "deploy check: OK"

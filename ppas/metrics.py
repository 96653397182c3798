"""The portal's Prometheus metrics (prometheus-client), served at /metrics (ppas/web/ops.py).

Several processes (`ppas serve --workers N`): prometheus-client's multiprocess mode. When
PROMETHEUS_MULTIPROC_DIR is set before this module is imported, every process writes its
counters and histograms to files there and /metrics, in whichever process answers, adds up
all of them (`registry()`); `ppas serve` sets it (a fresh folder) for N > 1. Several hosts:
each host is scraped on its own address. Figures read from the database at scrape time (the
job queue) are not per process: they are computed by the process that answers.

Labels are bounded: routes are templates ("/fichiers/{file_id}"), never raw paths; GraphQL
operation names are the client's choice, so a process keeps at most MAX_OPERATION_NAMES
distinct ones and counts the rest as "_other".
"""
from __future__ import annotations

import os
import re
import threading

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATION_NAMES = 200
OTHER = "_other"
ANONYMOUS = "_anonymous"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

# Seconds: a page answers in a few ms; an upload or a PDF in up to a few seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "ppas_http_request_duration_seconds", "Durée des requêtes HTTP, par route (gabarit).",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS)
GRAPHQL_OPERATIONS = Counter(
    "ppas_graphql_operations", "Opérations GraphQL exécutées, par nom et par issue "
    "(ok, ou le code de la première erreur).", ["operation", "outcome"])
INGEST_FILES = Counter(
    "ppas_ingest_files", "Fichiers de facturation déposés (hors essais à blanc), par statut.",
    ["status"])
INGEST_LINES = Counter(
    "ppas_ingest_lines", "Lignes des fichiers de facturation déposés (hors essais à blanc).",
    ["outcome"])
INGEST_ANOMALIES = Counter(
    "ppas_ingest_anomalies", "Anomalies relevées dans les fichiers déposés, par code.",
    ["code"])
SIGN_IN_FAILURES = Counter(
    "ppas_sign_in_failures", "Connexions refusées, par motif.", ["reason"])
ACCOUNT_LOCKOUTS = Counter(
    "ppas_account_lockouts", "Comptes bloqués après trop d'essais manqués.")

_names: set[str] = set()
_names_lock = threading.Lock()


def operation_label(name: str | None) -> str:
    """A bounded label for a GraphQL operation name."""
    if not name:
        return ANONYMOUS
    if not _NAME.fullmatch(name):
        return OTHER
    with _names_lock:
        if name in _names:
            return name
        if len(_names) >= MAX_OPERATION_NAMES:
            return OTHER
        _names.add(name)
        return name


def count_ingest(report) -> None:
    """Count one billing file's report (ppas.services.billing_ingest.IngestReport)."""
    if report.dry_run or report.replayed:
        return
    INGEST_FILES.labels(report.status).inc()
    INGEST_LINES.labels("accepted").inc(report.accepted_count)
    INGEST_LINES.labels("refused").inc(max(0, report.line_count - report.accepted_count))
    for code, count in report.counts_by_code.items():
        INGEST_ANOMALIES.labels(code if _NAME.fullmatch(code) else OTHER).inc(count)


def multiprocess_dir() -> str | None:
    """The multiprocess folder in force, or None for a single process."""
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """Every metric of every process of this host, in the text format."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)

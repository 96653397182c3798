"""Logging: the request id of the request being served on every record, text or JSON lines.

`PPAS_LOG_FORMAT=json` writes one JSON object per line (for log shippers), `text` (default)
one readable line. Every record carries `request_id` (from the contextvar the request log
middleware sets, "-" outside a request). What is logged never holds a password, a token or a
beneficiary's name: the request line has the route template, never the path or query.
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("ppas_request_id", default="-")
# Attributes every LogRecord has: whatever else a record carries came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_NAME = "ppas"


def current_request_id() -> str:
    """The id of the request being served ("-" outside one)."""
    return REQUEST_ID.get()


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "ppas", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    factory.ppas = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value…`, then the traceback if any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        line = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in vars(record).items()
                         if k not in _STANDARD and k != "request_id" and not k.startswith("_"))
        if extra:
            head, sep, rest = line.partition("\n")
            line = f"{head} {extra}{sep}{rest}"
        return line


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for `PPAS_LOG_FORMAT` ("json" or "text")."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(log_format: str = "text", *, level: int = logging.INFO,
                      stream=None) -> logging.Handler:
    """One handler on the root logger (replacing the one a previous call installed)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own lines go through the same handler and format.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler

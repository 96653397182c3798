"""Every knob of the portal, read from the environment with safe defaults."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite://{ROOT / 'var' / 'ppas.sqlite3'}"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with `Settings.from_env()`."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Production unless said otherwise: a deployment that forgets the variable gets Secure
    # cookies, a required secret key and no mail page, never the reverse.
    development: bool = False
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    page_size: int = 20
    max_page_size: int = 500
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    # The estimated number of values a document may produce (ppas/schema/extensions/
    # document_cost.py): the UI's largest page at the largest page size stays below it.
    graphql_max_cost: int = 10000
    # What the pre-registration's end page promises: the caisse's usual processing time.
    registration_processing_days: int = 10
    password_policy: str = "legacy"
    temporary_password_hours: int = 24
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "ne-pas-repondre@ppas.invalid"
    public_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 64 * 1024 * 1024  # billing files above this are refused (F08)
    # Threads that run argon2 (each hash holds 64 MiB): the event loop never waits for one.
    hash_workers: int = 2
    # Per client address, in the `limits` notation ("N/minute;M/hour"); kept in memory.
    rate_limit_sign_in: str = "20/minute;200/hour"
    rate_limit_password_reset: str = "5/minute;30/hour"
    rate_limit_registration: str = "5/minute;30/hour"
    contact_max_attachment_bytes: int = 5 * 1024 * 1024  # a « Contact » message's attachment
    # GraphiQL at /graphql for caisse admins; off: the page and its assets are not served.
    graphiql: bool = True
    templates_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"
    sw_dir: Path = ROOT / "sw"
    operations_dir: Path = ROOT / "graphql" / "operations"
    node_modules_dir: Path = ROOT / "node_modules"
    # Integration: business days between a line's sending (Paris day) and its integration
    # (0: at the next run); Alsace-Moselle's two extra holidays; lines per transaction.
    report_delay_business_days: int = 2
    holidays_alsace_moselle: bool = False
    integration_batch_size: int = 500
    # Background jobs (ppas/services/jobs): a worker inside `ppas serve` unless off.
    jobs: bool = True
    jobs_poll_seconds: float = 2.0  # how often an idle worker looks for due jobs
    jobs_lease_seconds: int = 300  # a running job not renewed for this long is taken again
    jobs_backoff_seconds: int = 30  # first retry delay; doubles on each failure
    jobs_backoff_max_seconds: int = 3600  # the longest delay between two tries
    mail_interval_seconds: int = 5  # the outbox's periodic delivery
    # The caisse's CSV import of beneficiaries and care plans: refused above this size.
    back_office_import_max_bytes: int = 2 * 1024 * 1024
    # Operations (docs/deploy.md). `text` or `json` (one JSON object per line).
    log_format: str = "text"
    # /metrics answers a `Authorization: Bearer <token>` with this token, or a client address
    # in these CIDRs ("10.0.0.0/8,127.0.0.1"); otherwise 404. Both empty: never served.
    metrics_token: str = ""
    metrics_allow: str = ""
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's
    # forwarded_allow_ips: addresses or CIDRs, comma-separated). Empty: none, the client
    # address is the TCP peer's (rate limits and audit count per real connection).
    forwarded_allow_ips: str = ""
    # A payment slip is published this many hours after its payment date (00:00, Paris).
    slip_delay_hours: int = 48
    # Processes that lay out slip PDFs in parallel (publication of a run's slips).
    slip_pdf_workers: int = 2
    # An evaluator's reservation of an evaluation order lasts this long unless a sync renews it.
    reservation_days: int = 30
    # The offline mode's version (service worker precache revision); empty: a hash of the
    # files it precaches, so that any deployment that changes them installs a new version.
    offline_version: str = ""

    @property
    def password_rules(self):
        """The password policy in force (`legacy` or `nist`)."""
        from ppas.domain.passwords import policy_named

        return policy_named(self.password_policy)

    @property
    def sign_in_url(self) -> str:
        """The sign-in page's address, for e-mails."""
        return self.public_url.rstrip("/") + "/connexion"

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry `Secure` everywhere but in development."""
        return not self.development

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from `PPAS_*` variables and `DATABASE_URL`."""
        development = _env_bool("PPAS_DEVELOPMENT", False)
        secret_key = os.environ.get("PPAS_SECRET_KEY", "")
        if not secret_key and not development:
            # A key drawn at start-up would differ between instances and restarts, breaking
            # every signed value (captcha challenges, the accepted conditions) in production.
            raise RuntimeError("PPAS_SECRET_KEY must be set when PPAS_DEVELOPMENT=0.")
        return cls(
            database_url=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=secret_key or secrets.token_urlsafe(32),
            development=development,
            session_idle_minutes=_env_int("PPAS_SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=_env_int("PPAS_SESSION_ABSOLUTE_HOURS", 12),
            page_size=_env_int("PPAS_PAGE_SIZE", 20),
            password_policy=os.environ.get("PPAS_PASSWORD_POLICY", "legacy"),
            temporary_password_hours=_env_int("PPAS_TEMPORARY_PASSWORD_HOURS", 24),
            smtp_host=os.environ.get("PPAS_SMTP_HOST", ""),
            smtp_port=_env_int("PPAS_SMTP_PORT", 25),
            mail_from=os.environ.get("PPAS_MAIL_FROM", "ne-pas-repondre@ppas.invalid"),
            public_url=os.environ.get("PPAS_PUBLIC_URL", "http://127.0.0.1:8000"),
            max_upload_bytes=_env_int("PPAS_MAX_UPLOAD_BYTES", 64 * 1024 * 1024),
            graphql_max_cost=_env_int("PPAS_GRAPHQL_MAX_COST", 10000),
            registration_processing_days=_env_int("PPAS_REGISTRATION_PROCESSING_DAYS",
                                                  cls.registration_processing_days),
            hash_workers=_env_int("PPAS_HASH_WORKERS", cls.hash_workers),
            rate_limit_sign_in=os.environ.get("PPAS_RATE_LIMIT_SIGN_IN", cls.rate_limit_sign_in),
            rate_limit_password_reset=os.environ.get("PPAS_RATE_LIMIT_PASSWORD_RESET",
                                                     cls.rate_limit_password_reset),
            rate_limit_registration=os.environ.get("PPAS_RATE_LIMIT_REGISTRATION",
                                                   cls.rate_limit_registration),
            contact_max_attachment_bytes=_env_int("PPAS_CONTACT_MAX_ATTACHMENT_BYTES",
                                                  5 * 1024 * 1024),
            graphiql=_env_bool("PPAS_GRAPHIQL", cls.graphiql),
            report_delay_business_days=max(0, _env_int("PPAS_REPORT_DELAY_BUSINESS_DAYS",
                                                       cls.report_delay_business_days)),
            holidays_alsace_moselle=_env_bool("PPAS_HOLIDAYS_ALSACE_MOSELLE",
                                              cls.holidays_alsace_moselle),
            integration_batch_size=max(1, _env_int("PPAS_INTEGRATION_BATCH_SIZE",
                                                   cls.integration_batch_size)),
            jobs=_env_bool("PPAS_JOBS", cls.jobs),
            jobs_poll_seconds=float(os.environ.get("PPAS_JOBS_POLL_SECONDS",
                                                   cls.jobs_poll_seconds)),
            jobs_lease_seconds=_env_int("PPAS_JOBS_LEASE_SECONDS", cls.jobs_lease_seconds),
            jobs_backoff_seconds=_env_int("PPAS_JOBS_BACKOFF_SECONDS", cls.jobs_backoff_seconds),
            jobs_backoff_max_seconds=_env_int("PPAS_JOBS_BACKOFF_MAX_SECONDS",
                                              cls.jobs_backoff_max_seconds),
            mail_interval_seconds=_env_int("PPAS_MAIL_INTERVAL_SECONDS",
                                           cls.mail_interval_seconds),
            log_format=os.environ.get("PPAS_LOG_FORMAT", cls.log_format).strip().lower(),
            metrics_token=os.environ.get("PPAS_METRICS_TOKEN", ""),
            metrics_allow=os.environ.get("PPAS_METRICS_ALLOW", ""),
            forwarded_allow_ips=os.environ.get("PPAS_FORWARDED_ALLOW_IPS", ""),
            slip_delay_hours=_env_int("PPAS_SLIP_DELAY_HOURS", cls.slip_delay_hours),
            slip_pdf_workers=_env_int("PPAS_SLIP_PDF_WORKERS", cls.slip_pdf_workers),
            reservation_days=_env_int("PPAS_RESERVATION_DAYS", cls.reservation_days),
            offline_version=os.environ.get("PPAS_OFFLINE_VERSION", ""),
        )

"""The typed context every resolver receives."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from ppas.domain.clock import Clock, SystemClock
from ppas.models import User
from ppas.schema.loaders import Loaders
from ppas.settings import Settings


@dataclass
class Context:
    """Per request: who asks, with which settings and clock, and fresh DataLoaders."""

    request: Request | None
    user: User | None
    settings: Settings
    response: Response | None = None
    clock: Clock = field(default_factory=SystemClock)
    loaders: Loaders = field(default_factory=Loaders)

    @property
    def client_ip(self) -> str:
        """The caller's address, for the audit log."""
        client = self.request.client if self.request else None
        return client.host if client else ""

    def now(self) -> datetime:
        """The current instant, from the clock tests can move."""
        return self.clock.now()


Info = StrawberryInfo[Context, None]

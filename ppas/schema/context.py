"""The typed context every resolver receives."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from starlette.requests import Request
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
    clock: Clock = field(default_factory=SystemClock)
    loaders: Loaders = field(default_factory=Loaders)

    def now(self) -> datetime:
        """The current instant, from the clock tests can move."""
        return self.clock.now()


Info = StrawberryInfo[Context, None]

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
from ppas.services.rate_limits import TooManyRequests
from ppas.settings import Settings


@dataclass
class Context:
    """Per request: who asks (and how), with which settings and clock, and its loader registry.

    `via_token` and `session_id` say how the caller authenticated; the web layer fills them
    from the request, so no resolver reads Starlette's request state.
    """

    request: Request | None
    user: User | None
    settings: Settings
    via_token: bool = False  # an API token (Authorization: Bearer), not a browser session
    session_id: int | None = None  # the browser session, kept open by a password change
    response: Response | None = None
    clock: Clock = field(default_factory=SystemClock)
    loaders: Loaders = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Its loaders read the context (the user's partner scopes some of them).
        self.loaders = Loaders(self)

    @property
    def client_ip(self) -> str:
        """The caller's address, for the audit log."""
        client = self.request.client if self.request else None
        return client.host if client else ""

    async def limit(self, action: str) -> None:
        """Count one `action` (see services/rate_limits.py) for the caller's address.

        Past the limit: TooManyRequests, and the HTTP answer becomes 429 with Retry-After.
        Without a request (a call from Python) nothing is counted.
        """
        limits = getattr(self.request.app.state, "rate_limits", None) if self.request else None
        if limits is None:
            return
        try:
            await limits.hit(action, self.client_ip)
        except TooManyRequests as refused:
            if self.response is not None:
                self.response.status_code = 429
                self.response.headers["Retry-After"] = str(refused.retry_after)
            raise

    def now(self) -> datetime:
        """The current instant, from the clock tests can move."""
        return self.clock.now()


Info = StrawberryInfo[Context, None]

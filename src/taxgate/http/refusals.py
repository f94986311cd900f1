"""Refused authentications and authorisations, written to the audit log without a flood.

Every refusal the service answers (401 no or bad token, 403 a role or agency that may not,
429 over a rate limit, a failed login) is an audit event: ``access_refused`` (or ``login``
for a login), outcome ``failure``, attributed to the token's user when the token is known,
else to ``(unknown)`` (a token nobody holds) or ``(anonymous)`` (no token at all), with the
route template and the client's address as origin; never the token or a query string.

A flood must not grow the permanent log without bound: per attributed user, only the first
``per_window`` refusals of each window (``limits``' fixed window, in this process's memory)
are written one by one. The rest are counted, and the next entry written for that user
says how many were not written since the previous one (``suppressed``). The counted users
are the store's users plus the two unknown names, so the counters are bounded too.
"""

from __future__ import annotations

import threading
from typing import Any

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from starlette.requests import HTTPConnection

from taxgate.storage.audit_log import AuditLog
from taxgate.workspace import Workspace

UNKNOWN = "(unknown)"
ANONYMOUS = "(anonymous)"


class RefusalLog:
    """Writes refusals to the audit log, at most ``per_window`` per user per window."""

    def __init__(self, per_window: int = 10, window_seconds: int = 60) -> None:
        self.item = RateLimitItemPerSecond(max(1, per_window), max(1, window_seconds))
        self.limiter = FixedWindowRateLimiter(MemoryStorage())
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(
        self,
        ws: Workspace,
        *,
        user: str,
        status: int,
        reason: str,
        what: str,
        origin: str,
        event: str = "access_refused",
        details: dict[str, Any] | None = None,
    ) -> bool:
        """Log one refusal by ``user`` of ``what`` (a route template); ``False`` when the
        window's allowance is spent and it was only counted."""
        if not self.limiter.hit(self.item, user):
            with self._lock:
                self._suppressed[user] = self._suppressed.get(user, 0) + 1
            return False
        with self._lock:
            suppressed = self._suppressed.pop(user, 0)
        entry: dict[str, Any] = {"status": status, "reason": reason, **(details or {})}
        if suppressed:
            entry["suppressed"] = suppressed
        with ws.store.session() as s:
            AuditLog(s, user=user, origin=origin).append(event, what, entry, outcome="failure")
        return True

    def suppressed(self, user: str) -> int:
        """How many of ``user``'s refusals wait to be counted in their next entry."""
        with self._lock:
            return self._suppressed.get(user, 0)


def origin_of(conn: HTTPConnection) -> str:
    """``api`` or ``web`` with the client's address."""
    door = "web" if conn.url.path.startswith("/web/") else "api"
    return f"{door}:{conn.client.host if conn.client else 'unknown'}"


def route_of(conn: HTTPConnection) -> str:
    """The route template (``/v1/batches/{batch_id}``), never the concrete path."""
    route = conn.scope.get("route")
    return str(getattr(route, "path", "")) or "(no route)"


def refused(
    conn: HTTPConnection,
    *,
    user: str,
    status: int,
    reason: str,
    event: str = "access_refused",
) -> None:
    """Record a refusal of the request ``conn`` through the app's :class:`RefusalLog`."""
    log: RefusalLog | None = getattr(conn.app.state, "refusals", None)
    if log is None:
        return
    log.record(
        conn.app.state.ws,
        user=user,
        status=status,
        reason=reason,
        what=route_of(conn),
        origin=origin_of(conn),
        event=event,
        details={"method": conn.scope.get("method", "")},
    )

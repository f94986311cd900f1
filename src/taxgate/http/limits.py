"""Request size limits, per-agency rate limits and the last line of defence (ASGI)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from taxgate.http.errors import error_body

log = logging.getLogger("taxgate.api")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


class RateLimiter:
    """Per-key rate limits (a key is an agency, or a login's client address) on the
    ``limits`` library, moving windows kept in this process's memory: at most ``burst``
    requests in any one second and ``per_minute + burst`` in any minute (what a token
    bucket of that rate and size lets through in its first minute).
    """

    def __init__(self, per_minute: float, burst: float, storage: Storage | None = None) -> None:
        self.items = (
            RateLimitItemPerSecond(max(1, int(burst))),
            RateLimitItemPerMinute(max(1, int(per_minute + burst))),
        )
        self.limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    def take(self, key: str) -> float:
        """Take one request for ``key``; 0 when allowed, else the seconds until one is free."""
        for item in self.items:
            if not self.limiter.hit(item, key):
                reset = self.limiter.get_window_stats(item, key).reset_time
                return max(reset - time.time(), 0.001)
        return 0.0


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps(error_body(status, message)).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(HTTPException):
    """Raised from ``receive``; FastAPI passes HTTP exceptions through body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over {limit} bytes")


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with a 413, by header or as they stream in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(send, 400, "the content-length header is not a number")
                    return
                if declared > self.limit:
                    await _send_error(send, 413, f"the body is over {self.limit} bytes")
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_error(send, 413, f"the body is over {self.limit} bytes")


class CatchAll:
    """Any exception that escaped the handlers becomes a 500 in the one error shape.

    Only the exception's type is logged: a third-party message may quote values.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as e:  # the last line: nothing escapes as a traceback
            log.error("unhandled %s on %s %s", type(e).__name__, scope["method"], _route(scope))
            if not started:
                await _send_error(send, 500, "internal error")


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "")) or "(no route)"


class AccessLog:
    """One line per request: method, route template, status, time, user name.

    Never the query string, a body, or the concrete path (which may carry ids only, but
    the template is enough to read the log).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = [500]

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            who = (scope.get("state") or {}).get("principal")
            log.info(
                "%s %s %d %.1fms user=%s",
                scope["method"],
                _route(scope),
                status[0],
                (time.perf_counter() - t0) * 1000,
                getattr(who, "name", "-"),
            )

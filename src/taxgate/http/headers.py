"""Security headers on every response (ASGI middleware).

Every response: ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``,
``X-Content-Type-Options: nosniff``. Pages under ``/web`` also get a Content-Security-
Policy that allows no script at all and styles only from taxgate itself (a route may
set its own, stricter or for an inline-styled report); ``Cache-Control: no-store`` keeps
personal data out of shared caches.
"""

from __future__ import annotations

from typing import Any

from taxgate.http.limits import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ALWAYS = (
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        web = path == "/web" or path.startswith("/web/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                have = {bytes(k).lower() for k, _ in headers}
                extra = list(ALWAYS)
                if web:
                    extra += [
                        (b"content-security-policy", PAGE_CSP.encode()),
                        (b"cache-control", b"no-store"),
                    ]
                headers += [(k, v) for k, v in extra if k not in have]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

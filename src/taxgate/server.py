"""The service: ``create_app(ws)`` builds the FastAPI app over a work folder's store.

::

    /v1/...       the API (OpenAPI at /v1/openapi.json, docs at /v1/docs)
    /web/...      server-rendered pages (sign in with a token; a server-side session)

Requests are logged one line each: method, route template, status, time and the
caller's user name; never a query string, a body or a personal value.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI

from taxgate.api.routes import admin, audit, batches, decisions
from taxgate.http import errors
from taxgate.http.headers import SecurityHeaders
from taxgate.http.limits import AccessLog, BodyLimit, CatchAll, RateLimiter
from taxgate.http.refusals import RefusalLog
from taxgate.http.routing import check_declared
from taxgate.services.audit import seal_or_warn
from taxgate.services.worker import Worker
from taxgate.settings import ServiceSettings
from taxgate.storage.audit_log import watch_writes
from taxgate.web.pages import ROUTERS as WEB_ROUTERS
from taxgate.web.render import error_page
from taxgate.workspace import Workspace

API_VERSION = "1"


class Sealer:
    """Signs the log's head (:func:`taxgate.services.audit.seal`) shortly after requests
    wrote to it: one signature for every request that wrote in the meantime.

    Signing in each writing request made a busy service sign once per submission and every
    writer wait for the store's write lock twice. An entry now stays outside a signed head
    for at most ``delay`` plus one signing; what is left is signed when the service stops.
    """

    def __init__(self, ws: Workspace, delay: float = 0.2) -> None:
        self.ws = ws
        self.delay = delay
        self._want = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="taxgate-sealer", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._want.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._want.wait(0.5):
                continue
            self._stop.wait(self.delay)  # the writers of the next moment share the signature
            self._want.clear()
            seal_or_warn(self.ws)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        seal_or_warn(self.ws)


class SealLog:
    """After a request that wrote to the log, have its head signed: by the running
    :class:`Sealer`, else (no lifespan) before the response is finished."""

    def __init__(self, app: Any, sealer: Sealer) -> None:
        self.app = app
        self.sealer = sealer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with watch_writes() as wrote:
            try:
                await self.app(scope, receive, send)
            finally:
                if wrote:
                    if self.sealer.running:
                        self.sealer.request()
                    else:
                        await anyio.to_thread.run_sync(seal_or_warn, self.sealer.ws)


def create_app(ws: Workspace, settings: ServiceSettings | None = None) -> FastAPI:
    """The service over ``ws``; runs a background worker unless ``settings.worker`` is off."""
    settings = settings or ServiceSettings.from_env()

    sealer = Sealer(ws)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = Worker(ws, settings) if settings.worker else None
        app.state.worker = worker
        sealer.start()
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            sealer.stop()

    app = FastAPI(
        title="taxgate",
        version=API_VERSION,
        description=(
            "The gate between taxpayer records and other agencies' requests for them. "
            "Every route names the roles it admits (`x-roles`); errors share one shape."
        ),
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ws = ws
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_per_minute, settings.rate_burst)
    app.state.refusals = RefusalLog(settings.refusals_per_window, settings.refusal_window_seconds)
    app.state.login_limiter = RateLimiter(settings.login_per_minute, settings.login_burst)
    errors.install(app, page_error=error_page)
    for module in (admin, batches, decisions, audit):
        app.include_router(module.router)

    for web_router in WEB_ROUTERS:
        app.include_router(web_router)
    check_declared(app)

    app.add_middleware(SecurityHeaders)
    app.add_middleware(SealLog, sealer=sealer)
    app.add_middleware(AccessLog)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(CatchAll)
    return app

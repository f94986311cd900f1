"""Declaring a route's roles: every route under ``/v1`` (and every web page) is made with
:func:`route`, which both enforces and publishes (OpenAPI ``x-roles``) who may call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from taxgate.http.auth import PUBLIC, allow


def route(
    router: APIRouter, method: str, path: str, roles: Iterable[str], **kw: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``router.<method>(path)`` admitting only ``roles`` (or :data:`PUBLIC`)."""
    admitted = frozenset(roles)
    deps = list(kw.pop("dependencies", []))
    if admitted != PUBLIC:
        deps.insert(0, Depends(allow(*admitted)))
    extra = dict(kw.pop("openapi_extra", None) or {})
    extra["x-roles"] = sorted(admitted)
    return router.api_route(path, methods=[method], dependencies=deps, openapi_extra=extra, **kw)


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI >= 0.16x keeps an included
    router as one entry holding the original router, not as copied routes)."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def routes_roles(app: FastAPI) -> dict[tuple[str, str], frozenset[str]]:
    """Every route's (method, path) and its declared roles."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for r in _api_routes(app.routes):
        roles = (r.openapi_extra or {}).get("x-roles")
        for method in r.methods or ():
            out[(method, r.path)] = frozenset(roles) if roles is not None else frozenset()
    return out


def check_declared(app: FastAPI) -> None:
    """Refuse to build an app with a route that declares no roles (deny by default)."""
    missing = sorted(f"{m} {p}" for (m, p), roles in routes_roles(app).items() if not roles)
    if missing:
        raise RuntimeError(f"routes without declared roles: {', '.join(missing)}")

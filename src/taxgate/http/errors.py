"""One JSON shape for every error the service returns.

Every error the service raises on purpose is a :class:`taxgate.errors.TaxgateError`;
its status comes from :func:`taxgate.errors.http_status`, the one mapping the command
line's exit codes come from too.

::

    {"error": {"status": 404, "code": "not_found", "message": "no batch `B-1`"}}

``status`` repeats the HTTP status; ``code`` is a stable word a client can branch on;
``message`` follows the project's style (lowercase, inputs in backticks, never personal
data). Validation errors add ``details``: where each problem is, never the value sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from taxgate.errors import (
    ForbiddenError,
    RateLimitedError,
    TaxgateError,
    UnauthenticatedError,
    http_status,
)

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


def error_headers(e: TaxgateError) -> dict[str, str]:
    """The headers an error's HTTP answer carries: how to authenticate, when to retry.

    >>> error_headers(RateLimitedError("slow down", retry_after=60))
    {'Retry-After': '60'}
    """
    if isinstance(e, UnauthenticatedError):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(e, RateLimitedError):
        return {"Retry-After": str(e.retry_after)}
    return {}


def error_body(
    status: int, message: str, code: str | None = None, details: Sequence[Any] | None = None
) -> dict[str, Any]:
    """The one error shape."""
    err: dict[str, Any] = {
        "status": status,
        "code": code or CODES.get(status, "error"),
        "message": message,
    }
    if details is not None:
        err["details"] = list(details)
    return {"error": err}


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    details: Sequence[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, message, code, details), status_code=status, headers=headers
    )


#: Renders an error on a page path as HTML: (request, status, message) -> response.
PageError = Callable[[Request, int, str], Response]


def _page(request: Request) -> bool:
    path = request.url.path
    return path == "/web" or path.startswith("/web/")


def install(app: FastAPI, page_error: PageError | None = None) -> None:
    """Route every kind of error through the one shape; on ``/web`` paths through
    ``page_error`` (an HTML page with navigation) when one is given."""

    def respond(
        request: Request, status: int, message: str, code: str | None = None, **kw: Any
    ) -> Response:
        if page_error is not None and _page(request):
            return page_error(request, status, message)
        return error_response(status, message, code, **kw)

    async def http_error(request: Request, e: Exception) -> Response:
        assert isinstance(e, StarletteHTTPException)
        message = {
            404: "no such resource",
            405: "method not allowed here",
        }.get(e.status_code, str(e.detail).lower() if e.detail else "error")
        return respond(request, e.status_code, message, headers=e.headers)

    async def validation_error(request: Request, e: Exception) -> Response:
        assert isinstance(e, RequestValidationError)
        details = [
            {
                "location": [str(p) for p in err.get("loc", ())],
                "problem": str(err.get("msg", "invalid")).lower(),
            }
            for err in e.errors()
        ]
        if page_error is not None and _page(request):
            where = ", ".join(".".join(d["location"][1:]) or "the form" for d in details)
            return page_error(request, 422, f"the form is not valid: check {where}")
        return error_response(422, "the request is not valid", details=details)

    async def taxgate_error(request: Request, e: Exception) -> Response:
        assert isinstance(e, TaxgateError)
        if isinstance(e, ForbiddenError):  # a service refused this user: logged, attributed
            from taxgate.http.refusals import UNKNOWN, refused

            who = getattr(request.state, "principal", None)
            name = getattr(who, "name", UNKNOWN)
            await run_in_threadpool(refused, request, user=name, status=403, reason=e.reason)
        if isinstance(e, UnauthenticatedError) and _page(request):
            return RedirectResponse("/web/login", status_code=303)  # pages: sign in first
        return respond(request, http_status(e), str(e), headers=error_headers(e))

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(TaxgateError, taxgate_error)

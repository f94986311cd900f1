"""Rendering pages: the templates, the filters that make times and hashes readable, the
navigation each role sees, and the HTML error page.

Times are shown in UTC as ``2026-12-03 22:13:52 UTC``; roots and hashes in base64, as the
command line and the checkpoints write them.

    >>> utc("2026-12-03T22:13:52.641260Z"), utc(1796336032)
    ('2026-12-03 22:13:52 UTC', '2026-12-03 22:13:52 UTC')
    >>> duration(3 * 86400 + 7200), duration(125), duration(5)
    ('3 d 2 h', '2 min', 'under a minute')
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from taxgate.http.auth import web_session
from taxgate.http.errors import error_response
from taxgate.services.users import Principal
from taxgate.web.refusal import attempted, role_word, who_may

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: (label, path, roles) of the navigation, in order.
NAV: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("Home", "/web", frozenset({"agency", "officer", "reviewer", "auditor", "admin"})),
    ("Batches", "/web/batches", frozenset({"agency", "officer", "reviewer", "auditor", "admin"})),
    ("Decisions", "/web/decisions", frozenset({"agency", "officer", "reviewer", "auditor"})),
    ("Review queue", "/web/review", frozenset({"officer", "reviewer"})),
    ("Record of disclosures", "/web/disclosures", frozenset({"officer", "auditor"})),
    ("Audit log", "/web/audit", frozenset({"officer", "reviewer", "auditor", "admin"})),
    ("Oversight report", "/web/reports/oversight", frozenset({"officer", "auditor", "admin"})),
    ("Transparency report", "/web/transparency", frozenset({"officer", "auditor", "admin"})),
)
#: The reports embed their own styles (and inline SVG charts); still no script of any kind.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 string or Unix seconds as an aware UTC datetime (None when unreadable)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def utc(value: Any) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS UTC`` (the text unchanged when unreadable)."""
    t = parse_time(value)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else str(value or "")


def duration(seconds: float) -> str:
    """A span in the two largest units a person reads at a glance."""
    s = int(max(0, seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return "under a minute"


def waited(value: Any) -> str:
    """How long since ``value`` (a time), as :func:`duration`."""
    t = parse_time(value)
    return duration((datetime.now(UTC) - t).total_seconds()) if t else ""


def b64(value: Any) -> str:
    """Bytes or a hex string as base64 (how the checkpoints write roots)."""
    if isinstance(value, bytes):
        raw = value
    else:
        try:
            raw = bytes.fromhex(str(value))
        except ValueError:
            return str(value)
    return base64.b64encode(raw).decode("ascii")


def probability(value: Any) -> str:
    """A probability to four places, never rounded to a certainty it is not: 0.99999997
    reads "above 0.9999", 3e-07 "below 0.0001"."""
    p = float(value)
    if 0.9999 < p < 1:
        return "above 0.9999"
    if 0 < p < 0.0001:
        return "below 0.0001"
    return f"{p:.4f}"


def query(params: dict[str, Any], **changes: Any) -> str:
    """``?a=1&b=2``: the page's filters with ``changes`` (empty values dropped)."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(utc=utc, waited=waited, b64=b64, probability=probability)
    env.globals.update(query=query)
    return env


def nav_for(who: Principal | None) -> list[tuple[str, str]]:
    if who is None:
        return []
    return [(label, path) for label, path, roles in NAV if who.role in roles]


def page(
    request: Request | None,
    name: str,
    who: Principal | None,
    code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page; ``csrf`` (the session's form token) is there for every form."""
    csrf = getattr(request.state, "csrf", "") if request is not None else ""
    path = request.url.path if request is not None else ""
    html = (
        _env()
        .get_template(name)
        .render(who=who, nav=nav_for(who), csrf=csrf, current=path, **context)
    )
    return HTMLResponse(html, status_code=code)


TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Conflict",
    413: "Too large",
    422: "Not valid",
    429: "Too many requests",
    500: "Something went wrong",
}


def signed_in(request: Request) -> Principal | None:
    """Who is signed in on a page that does not require it (a public page, an error)."""
    who = getattr(request.state, "principal", None)
    if isinstance(who, Principal):
        return who
    live = web_session(request)
    if live is None:
        return None
    request.state.csrf = live.csrf
    return live.who


def with_bar(html: str, links: str) -> str:
    """A report rendered for files, with a bar of ``links`` (HTML) back to the pages."""
    bar = (
        '<nav aria-label="taxgate" style="background:#1f3a5f;color:#fff;padding:.5rem 1rem;'
        'font:15px system-ui,sans-serif;display:flex;gap:1rem;align-items:center;flex-wrap:wrap">'
        f"{links}</nav>"
    )
    return html.replace("<body>", "<body>" + bar, 1)


def error_page(request: Request, status: int, message: str) -> Response:
    """The HTML page for an error on a ``/web`` path, with the caller's navigation; a 403
    says in words what the person tried, why not and where to go. A client that asks for
    JSON only (``Accept: application/json``) gets the API's error body instead."""
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return error_response(status, message)
    who = signed_in(request)
    context: dict[str, Any] = {}
    if status == 403:
        route = request.scope.get("route")
        roles = frozenset((getattr(route, "openapi_extra", None) or {}).get("x-roles", ()))
        context = {
            "tried": attempted(request.method, request.url.path),
            "allowed": who_may(roles),
            "role": role_word(who.role) if who is not None else "",
            "by_role": who is not None and bool(roles) and who.role not in roles,
        }
    return page(
        request,
        "error.html",
        who,
        code=status,
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
        **context,
    )
